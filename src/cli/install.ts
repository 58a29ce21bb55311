// `passthru install [--uninstall]`: the hook entry into <root>/etc/libvirt/hooks/qemu.d/passthru.
import type { Command } from 'commander';

export function registerInstall(program: Command): void {
  program
    .command('install')
    .description('install the libvirt qemu hook entry (etc/libvirt/hooks/qemu.d/passthru); other hooks are left alone')
    .option('--uninstall', 'remove our entry (only a file passthru install wrote)')
    .option(
      '--root <dir>',
      'host root: install under DIR/etc/libvirt/hooks; the hook uses DIR as its host root (default /, or PASSTHRU_ROOT)',
    )
    .option(
      '--state-dir <dir>',
      'journals and lock of the installed hook (default: PASSTHRU_STATE_DIR, else the hook decides)',
    )
    .option(
      '--config <file>',
      'host configuration the installed hook reads (default: PASSTHRU_CONFIG, else ROOT/etc/passthru/config.json)',
    )
    .option('--sim <file>', 'back the installed hook with the simulated host in FILE (default: PASSTHRU_SIM)')
    .action(
      async (
        opts: { uninstall?: boolean; root?: string; stateDir?: string; config?: string; sim?: string },
        cmd: Command,
      ) => {
        const { install, describeOutcome } = await import('../install/install.js');
        // --sim may have been taken by the program-wide option: it is in the environment then
        const sim = opts.sim ?? cmd.optsWithGlobals<{ sim?: string }>().sim;
        const outcome = await install({ ...opts, sim });
        process.stdout.write(`${describeOutcome(outcome).join('\n')}\n`);
      },
    );
}
