// -o OUT and -i: each file is replaced atomically (temp file in the same directory, then rename),
// keeping its mode; nothing is renamed until every temp file is written.
import { chmod, copyFile, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PassthruError } from '../../errors.js';
import type { XmlfixArgs } from './args.js';

interface Pending {
  target: string;
  temp: string;
}

export async function writeResults(args: XmlfixArgs, results: { file: string; input: string; output: string }[]): Promise<void> {
  const jobs = args.inPlace ? results.filter((r) => r.output !== r.input).map((r) => ({ target: r.file, text: r.output })) : [{ target: args.output!, text: results[0]!.output }];
  const pending: Pending[] = [];
  try {
    for (const job of jobs) {
      const mode = await stat(job.target).then(
        (s) => s.mode & 0o7777,
        () => 0o644,
      );
      const temp = join(dirname(job.target), `.${basename(job.target)}.xmlfix-${process.pid}.tmp`);
      const fh = await open(temp, 'wx', mode);
      pending.push({ target: job.target, temp });
      try {
        await fh.writeFile(job.text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await chmod(temp, mode);
    }
    for (const p of pending) {
      if (args.backup !== undefined) await copyFile(p.target, `${p.target}${args.backup}`);
      await rename(p.temp, p.target);
    }
  } catch (err) {
    await Promise.all(pending.map((p) => unlink(p.temp).catch(() => undefined)));
    const e = err as NodeJS.ErrnoException;
    throw new PassthruError(`cannot write ${e.path ? `'${e.path}'` : 'output'}: ${e.code ?? e.message}`, 2);
  }
}
