// `passthru`: the operator CLI. Each subcommand lives in its own module and registers itself here.
import { Command } from 'commander';
import { oneLine, PassthruError } from '../errors.js';
import { endQuietlyWhenReaderGoes } from './closed-pipe.js';

endQuietlyWhenReaderGoes('passthru');

const program = new Command('passthru')
  .description('PCI/SR-IOV/mdev passthrough for libvirt/KVM hosts')
  .option('--sim <file>', 'use the simulated host in FILE (same as PASSTHRU_SIM=FILE)')
  .showHelpAfterError(false)
  .configureOutput({ outputError: (str, write) => write(`passthru: ${oneLine(str.replace(/^error: /, ''))}\n`) })
  .exitOverride();

program.hook('preAction', (cmd) => {
  const sim = cmd.opts<{ sim?: string }>().sim;
  if (sim) process.env.PASSTHRU_SIM = sim;
});

// Subcommand registrations (one line each; modules are loaded lazily inside their actions).
(await import('./status.js')).registerStatus(program);
(await import('./recover.js')).registerRecover(program);
(await import('./hook.js')).registerHook(program);
(await import('./install.js')).registerInstall(program);
(await import('./sim.js')).registerSim(program);
(await import('./list.js')).registerList(program);
(await import('./doctor.js')).registerDoctor(program);
(await import('./demo.js')).registerDemo(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof PassthruError) {
    process.stderr.write(`passthru: ${oneLine(err)}\n`);
    process.exit(err.exitCode);
  }
  const code = (err as { code?: string; exitCode?: number }).code;
  if (typeof code === 'string' && code.startsWith('commander.'))
    process.exit(code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : 2);
  process.stderr.write(`passthru: ${oneLine(err)}\n`);
  process.exit(1);
}
