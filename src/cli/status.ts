// `passthru status [--json]`: what each running domain holds, from the journals.
import type { Command } from 'commander';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show what passthrough resources each domain holds (from the journals)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { statusReport, formatStatus } = await import('../exec/status.js');
      const { stateDirFor } = await import('../exec/state-dir.js');
      const report = statusReport(stateDirFor(process.env));
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
      if (report.problems.length) process.exitCode = 1;
    });
}
