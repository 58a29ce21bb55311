// `passthru`: the operator CLI. Each subcommand lives in its own module and registers itself here.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { InputError, oneLine, PassthruError } from '../errors.js';
import { endQuietlyWhenReaderGoes } from './closed-pipe.js';

endQuietlyWhenReaderGoes('passthru');

const program = new Command('passthru')
  .description('PCI/SR-IOV/mdev passthrough for libvirt/KVM hosts')
  .option('--sim <file>', 'use the simulated host in FILE (same as PASSTHRU_SIM=FILE)')
  .showHelpAfterError(false)
  // commander's usage errors, as one line with where to look
  .configureOutput({
    outputError: (str, write) =>
      write(
        `passthru: ${oneLine(str.replace(/^error: /, ''))}${/Did you mean/.test(str) ? '' : ' (see passthru --help)'}\n`,
      ),
  })
  .exitOverride();

// Commands that make a sim file (or their own) do not need PASSTHRU_SIM to exist already.
const MAKE_THEIR_HOST = new Set(['init', 'demo', 'install']);

program.hook('preAction', (cmd, action) => {
  const sim = cmd.opts<{ sim?: string }>().sim;
  if (sim) process.env.PASSTHRU_SIM = sim;
  const file = process.env.PASSTHRU_SIM;
  if (file && !MAKE_THEIR_HOST.has(action.name()) && !existsSync(file))
    throw new InputError(
      `no simulated host file '${file}' (${sim ? '--sim' : 'PASSTHRU_SIM'}): make one with passthru sim init --fixture workstation -o ${file}${sim ? '' : ', or unset PASSTHRU_SIM for the real host'}`,
    );
});

// Subcommand registrations (one line each; modules are loaded lazily inside their actions).
(await import('./status.js')).registerStatus(program);
(await import('./recover.js')).registerRecover(program);
(await import('./attach.js')).registerAttach(program);
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
