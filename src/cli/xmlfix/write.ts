// -o OUT and -i: each file is replaced atomically (temp file in the same directory, fsynced, then
// renamed), keeping its mode; nothing is renamed until every temp file is written. Temp files are
// written and synced many at a time: the kernel batches the journal commits of concurrent fsyncs,
// which is what makes a 1000-file -i call fast.
import { chmod, copyFile, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PassthruError } from '../../errors.js';
import type { XmlfixArgs } from './args.js';

interface Job {
  target: string;
  text: string;
  temp?: string;
}

const PARALLEL = 64;

export async function writeResults(
  args: XmlfixArgs,
  results: { file: string; input: string; output: string }[],
): Promise<void> {
  const jobs: Job[] = args.inPlace
    ? results.filter((r) => r.output !== r.input).map((r) => ({ target: r.file, text: r.output }))
    : [{ target: args.output!, text: results[0]!.output }];
  try {
    await inBatches(jobs, writeTemp);
    for (const job of jobs) {
      if (args.backup !== undefined) await copyFile(job.target, `${job.target}${args.backup}`);
      await rename(job.temp!, job.target);
      delete job.temp;
    }
    await inBatches([...new Set(jobs.map((j) => dirname(j.target)))], syncDir);
  } catch (err) {
    await Promise.all(jobs.map((j) => (j.temp ? unlink(j.temp).catch(() => undefined) : undefined)));
    const e = err as NodeJS.ErrnoException;
    throw new PassthruError(`cannot write ${e.path ? `'${e.path}'` : 'output'}: ${e.code ?? e.message}`, 2);
  }
}

async function writeTemp(job: Job): Promise<void> {
  const mode = await stat(job.target).then(
    (s) => s.mode & 0o7777,
    () => 0o644,
  );
  const temp = join(dirname(job.target), `.${basename(job.target)}.xmlfix-${process.pid}.tmp`);
  const fh = await open(temp, 'wx', mode);
  job.temp = temp;
  try {
    await fh.writeFile(job.text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(temp, mode); // open()'s mode is filtered by the umask
}

/** Makes the renames durable. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function inBatches<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += PARALLEL) await Promise.all(items.slice(i, i + PARALLEL).map(fn));
}
