// `passthru hook --dry-run [--json] FILE`: the plan prepare would run, or its refusal.
// `passthru hook DOMAIN OP SUBOP [EXTRA] [REASON]`: run the hook as libvirt does (XML on stdin).
// --dry-run is a flag and FILE a positional: as an option taking a value, `--dry-run --json FILE`
// took `--json` for the file.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { printable } from '../pci/address.js';

export function registerHook(program: Command): void {
  program
    .command('hook')
    .description("show what the libvirt hook's prepare would do (--dry-run FILE), or run the hook as libvirt does")
    .option('--dry-run', "print the plan for the domain XML in FILE ('-' = stdin); change nothing")
    .option('--json', 'with --dry-run: the plan as JSON')
    .argument('[args...]', 'FILE with --dry-run; else DOMAIN OP SUBOP [EXTRA] [REASON] with the domain XML on stdin')
    .action(async (args: string[], opts: { dryRun?: boolean; json?: boolean }) => {
      if (opts.dryRun) {
        if (args.length !== 1)
          throw new InputError(
            `hook --dry-run takes one domain XML FILE ('-' = stdin), got ${args.length ? args.map((a) => `'${printable(a)}'`).join(' ') : 'none'}`,
          );
        const xml = readDomainXml(args[0]!);
        const { dryRun } = await import('../hook/dry-run.js');
        process.stdout.write(await dryRun(xml, process.env, !!opts.json));
        return;
      }
      if (opts.json) throw new InputError('--json goes with --dry-run (passthru hook --dry-run --json FILE)');
      if (args.length < 3)
        throw new InputError(
          'hook needs DOMAIN OP SUBOP [EXTRA] with the domain XML on stdin, as libvirt runs it (or --dry-run FILE)',
        );
      const { runHook } = await import('../hook/run.js');
      process.exitCode = await runHook(args, process.env, {
        readStdin: () => readFileSync(0),
        stderr: (l) => process.stderr.write(`${l}\n`),
        hookJs: hookProgram(),
      });
    });
}

/**
 * The hook program beside the CLI's entry (dist/hook.cjs next to dist/passthru.js): this module is
 * bundled into a chunk under dist/chunks/, so its own URL does not say where dist/ is; the entry
 * node was started with does (a symlinked bin resolves to the package's file).
 */
function hookProgram(): string {
  return join(dirname(realpathSync(process.argv[1]!)), 'hook.cjs');
}

function readDomainXml(file: string): Buffer {
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    throw new InputError(
      `cannot read domain XML '${printable(file)}': ${(err as NodeJS.ErrnoException).code ?? 'error'} (give a libvirt domain XML file, e.g. from virsh dumpxml)`,
    );
  }
}
