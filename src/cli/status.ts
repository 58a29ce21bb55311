// `passthru status [--json] [-c URI]`: what each domain holds, from the journals, and which are orphans.
import type { Command } from 'commander';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show what passthrough resources each domain holds (from the journals)')
    // declared here like list's options, deliberately: each command owns its commander declaration
    .option('--json', 'machine-readable output')
    .option(
      '-c, --connect <uri>',
      'libvirt connection asked which domains run (default: LIBVIRT_DEFAULT_URI, as virsh)',
    )
    .action(async (opts: { json?: boolean; connect?: string }) => {
      const { statusReport, formatStatus } = await import('../exec/status.js');
      const { stateDirFor } = await import('../exec/state-dir.js');
      const { livenessCheck } = await import('../exec/liveness.js');
      const isRunning = await livenessCheck({ uri: opts.connect, root: process.env.PASSTHRU_ROOT || '/' });
      const report = statusReport(stateDirFor(process.env), isRunning);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
      if (report.problems.length) process.exitCode = 1;
    });
}
