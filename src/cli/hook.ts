// `passthru hook --dry-run DOMAIN.xml`: the plan prepare would run, or its refusal.
// `passthru hook DOMAIN OP SUBOP [EXTRA] [REASON]`: run the hook as libvirt does (XML on stdin).
import type { Command } from 'commander';
import { InputError } from '../errors.js';

export function registerHook(program: Command): void {
  program
    .command('hook')
    .description("show what the libvirt hook's prepare would do (--dry-run FILE), or run the hook as libvirt does")
    .option('--dry-run <file>', "domain XML file ('-' = stdin): print the plan, change nothing")
    .option('--json', 'with --dry-run: the plan as JSON')
    .argument('[args...]', 'DOMAIN OP SUBOP [EXTRA] [REASON] with the domain XML on stdin')
    .action(async (args: string[], opts: { dryRun?: string; json?: boolean }) => {
      const { readFileSync } = await import('node:fs');
      if (opts.dryRun) {
        const xml = readFileSync(opts.dryRun === '-' ? 0 : opts.dryRun);
        const { dryRun } = await import('../hook/dry-run.js');
        process.stdout.write(await dryRun(xml, process.env, !!opts.json));
        return;
      }
      if (args.length < 3) throw new InputError('hook needs DOMAIN OP SUBOP (or --dry-run FILE)');
      const { fileURLToPath } = await import('node:url');
      const { runHook } = await import('../hook/run.js');
      process.exitCode = await runHook(args, process.env, {
        readStdin: () => readFileSync(0),
        stderr: (l) => process.stderr.write(`${l}\n`),
        hookJs: fileURLToPath(new URL('./hook.cjs', import.meta.url)),
      });
    });
}
