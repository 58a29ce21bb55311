// -o OUT and -i: where xmlfix's results go (src/cli/output.ts does the writing). -i replaces each
// changed file (the regular file a symlink names, keeping the link); --backup keeps a copy beside
// the name given. -o writes through a descriptor, FIFO or device, and replaces a regular file.
import { replaceFiles, writeOutput, type Replacement } from '../output.js';
import type { XmlfixArgs } from './args.js';

export async function writeResults(
  args: XmlfixArgs,
  results: { file: string; target?: string; input: string; output: string }[],
): Promise<void> {
  if (!args.inPlace) return writeOutput(args.output!, results[0]!.output);
  // two names for one file (a link and its target) write it once
  const jobs = new Map<string, Replacement>();
  for (const r of results.filter((x) => x.output !== x.input)) {
    const path = r.target ?? r.file;
    jobs.set(path, {
      path,
      text: r.output,
      ...(args.backup !== undefined ? { backup: `${r.file}${args.backup}` } : {}),
    });
  }
  await replaceFiles([...jobs.values()]);
}
