// `xmlfix`: libvirt XML in, libvirt XML out, changing only what the edits ask for.
// Bundled as a CommonJS script (dist/xmlfix-main.cjs) started with V8's code cache (see
// src/start/code-cache-load.ts): no top-level await and no import.meta here; node built-ins are
// plain require() calls there, and import() of the rarely used parts becomes a lazy require().
import { readFileSync } from 'node:fs';
import { oneLine, PassthruError } from '../errors.js';
import { checkXmlInput } from '../xml/guard.js';
import { writeStdout } from './stdout.js';
import { parseXmlfixArgs, USAGE, type XmlfixArgs } from './xmlfix/args.js';
import { applyEdits, rootName } from './xmlfix/apply.js';
import type { HostLookup } from './xmlfix/host-lookup.js';

interface Result {
  file: string;
  /** With -i: the regular file `file` names (symlinks followed), checked before it is read. */
  target?: string;
  input: string;
  output: string;
}

async function main(argv: string[]): Promise<number> {
  const args = parseXmlfixArgs(argv);
  if (args.mode === 'help') {
    writeStdout(USAGE);
    return 0;
  }
  let hostPromise: Promise<HostLookup> | undefined;
  const host = () => (hostPromise ??= import('./xmlfix/host-lookup-impl.js').then((m) => m.openHostLookup()));
  const note = (line: string) => process.stderr.write(`xmlfix: note: ${line}\n`);
  let checkPromise: Promise<HostLookup | undefined> | undefined;
  const check = () => (checkPromise ??= hostToCheck(args, note));
  if (args.mode === 'pool') {
    const { buildPool } = await import('./xmlfix/pool.js');
    const text = await buildPool(args.pool!, host, check, note);
    return emit(args, [{ file: '-', input: '', output: text }], true, note);
  }
  // Everything is read, checked and edited before anything is written.
  const results: Result[] = [];
  const inPlaceTarget = args.inPlace ? (await import('./output.js')).inPlaceTarget : undefined;
  for (const file of args.files) {
    const target = inPlaceTarget?.(file);
    const bytes = readInput(file);
    const what = file === '-' ? 'input' : `'${file}'`;
    // With edits, the first edit's positional parse does the structural checks (one pass, not two).
    const input = checkXmlInput(bytes, what, { structure: args.edits.length === 0 });
    const output = await applyEdits(input, args.edits, { all: args.all, host, check, note, what });
    results.push({ file, ...(target ? { target } : {}), input, output });
  }
  if (args.list) {
    const { listDevices, formatListing } = await import('./xmlfix/listing.js');
    for (const r of results) {
      const items = listDevices(r.output, rootName(r.output));
      writeStdout(args.json ? `${JSON.stringify(items, null, 2)}\n` : formatListing(items));
    }
    return 0;
  }
  return emit(args, results, false, note);
}

async function emit(
  args: XmlfixArgs,
  results: Result[],
  created: boolean,
  note: (line: string) => void,
): Promise<number> {
  const changed = created || results.some((r) => r.output !== r.input);
  if (args.check) return changed ? 1 : 0;
  if (args.validate) {
    const { validateXml } = await import('./xmlfix/validate.js');
    for (const r of results) await validateXml(r.output, rootName(r.output), r.file, note);
  }
  if (args.diff) {
    const { unifiedDiff } = await import('./xmlfix/diff.js');
    for (const r of results) writeStdout(unifiedDiff(r.file, r.input, r.output));
    return 0;
  }
  if (args.inPlace || args.output !== undefined) {
    const { writeResults } = await import('./xmlfix/write.js');
    await writeResults(args, results);
    return 0;
  }
  writeStdout(results[0]!.output);
  return 0;
}

/** The host edits are checked against, or undefined (said once) with --no-host-check or no host. */
async function hostToCheck(args: XmlfixArgs, note: (line: string) => void): Promise<HostLookup | undefined> {
  if (args.noHostCheck) {
    note('--no-host-check: edits are not checked against the host');
    return undefined;
  }
  const { hostWithPci } = await import('./xmlfix/host-lookup-impl.js');
  try {
    const found = await hostWithPci();
    if (!found) note('no host PCI devices to check edits against (sys/bus/pci/devices): edits not checked');
    return found;
  } catch (err) {
    note(`no host to check edits against (${oneLine(err)}): edits not checked`);
    return undefined;
  }
}

function readInput(file: string): Buffer {
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new PassthruError(
      `cannot read '${file}': ${e.code ?? ''} ${e.message.replace(/^[A-Z]+: /, '').replace(/, open.*$/, '')}`.replace(
        /\s+/g,
        ' ',
      ),
      2,
    );
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`xmlfix: ${oneLine(err)}\n`);
    process.exitCode = err instanceof PassthruError ? err.exitCode : 2;
  },
);
