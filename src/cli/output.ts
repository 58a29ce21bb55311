// Where an output option (`xmlfix -o`/`-i`, `passthru sim init -o`) writes, and the writing.
// Output goes through what the user names and never replaces it:
//   `-`, /dev/stdout, /dev/fd/N, /proc/self/fd/N  -> that descriptor of ours, written as it is (a pipe,
//                                                    a socket, a file opened for append keep working);
//   an existing FIFO, character device or socket     -> opened and written into;
//   a regular file, or a new one                     -> replaced atomically (temp file beside it, fsynced,
//                                                    renamed), after following symlinks, so a link stays
//                                                    a link and its target gets the new content.
import { closeSync, lstatSync, openSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { chmod, chown, copyFile, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError, PassthruError } from '../errors.js';
import { printable } from '../pci/address.js';
import { writeFd } from './stdout.js';

export type OutputTarget =
  | { kind: 'fd'; fd: number }
  | { kind: 'stream'; path: string }
  | { kind: 'file'; path: string; exists: boolean };

/** The kernel's limit on symlinks followed in one lookup (ELOOP beyond it). */
const MAX_LINKS = 40;

/** Where `given` leads once its symlinks are followed: one of our descriptors, or a path and what is there (nothing yet: no stats). */
function follow(given: string, option: string): { fd: number } | { path: string; st?: Stats } {
  let path = resolve(given);
  for (let hop = 0; hop <= MAX_LINKS; hop++) {
    const fd = ownDescriptor(path);
    if (fd !== undefined) return { fd };
    const st = lstatOrUndefined(path, given, option);
    if (!st?.isSymbolicLink()) return st ? { path, st } : { path };
    path = resolve(dirname(path), readlinkSync(path));
  }
  throw new InputError(`${option} '${printable(given)}': too many levels of symbolic links (a loop?)`);
}

const kindOf = (st: Stats): string =>
  st.isDirectory()
    ? 'a directory'
    : st.isFIFO()
      ? 'a FIFO'
      : st.isCharacterDevice()
        ? 'a character device'
        : st.isSocket()
          ? 'a socket'
          : 'a block device';

/** Where writing to `given` goes (see the top of this file); a directory or a symlink loop is refused. */
export function outputTarget(given: string, option = '-o'): OutputTarget {
  if (given === '-') return { kind: 'fd', fd: 1 };
  const to = follow(given, option);
  if ('fd' in to) return { kind: 'fd', fd: to.fd };
  if (!to.st || to.st.isFile()) return { kind: 'file', path: to.path, exists: !!to.st };
  if (to.st.isDirectory())
    throw new InputError(`${option} '${printable(given)}' is a directory: give a file name (or - for stdout)`);
  return { kind: 'stream', path: to.path };
}

/** The regular file `-i FILE` edits: FILE itself, or what its symlinks lead to. Anything else is refused before it is read. */
export function inPlaceTarget(file: string): string {
  const to = follow(file, '-i');
  if ('path' in to && to.st?.isFile()) return to.path;
  const name = `-i '${printable(file)}'`;
  if ('path' in to && !to.st)
    throw new InputError(`${name} does not exist: -i edits existing files (-o OUT writes a new one)`);
  if ('path' in to && to.st!.isDirectory())
    throw new InputError(`${name} is a directory: -i edits files; name them (${printable(file)}/*.xml)`);
  const kind = 'path' in to ? kindOf(to.st!) : 'a descriptor';
  throw new InputError(`${name} is ${kind}: -i edits regular files in place; read it and write with -o OUT instead`);
}

/** N when `path` is /proc/self/fd/N of this process (/dev/stdout and /dev/fd/N lead there). */
function ownDescriptor(path: string): number | undefined {
  const name = basename(path);
  if (!/^\d+$/.test(name)) return undefined;
  let dir: string;
  try {
    dir = realpathSync(dirname(path));
  } catch {
    return undefined;
  }
  const m = /^\/proc\/(\d+)(?:\/task\/\d+)?\/fd$/.exec(dir);
  return m && Number(m[1]) === process.pid ? Number(name) : undefined;
}

function lstatOrUndefined(path: string, given: string, option: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && isDirectory(dirname(path))) return undefined;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new InputError(
        `${option} '${printable(given)}': no directory '${printable(path === resolve(given) ? dirname(given) : dirname(path))}' to put it in`,
      );
    throw new PassthruError(`${option} '${printable(given)}': ${code ?? (err as Error).message}`, 2);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Writes `text` where `given` leads (see outputTarget). */
export async function writeOutput(given: string, text: string, option = '-o'): Promise<void> {
  const target = outputTarget(given, option);
  if (target.kind === 'file') await replaceFiles([{ path: target.path, text }]);
  else writeThrough(target, text, given);
}

/** A descriptor or an existing FIFO/device: written as it is. A reader that has gone is not an error. */
export function writeThrough(target: OutputTarget & { kind: 'fd' | 'stream' }, text: string, given: string): void {
  try {
    if (target.kind === 'fd') {
      writeFd(target.fd, text);
      return;
    }
    const fd = openSync(target.path, 'w');
    try {
      writeFd(fd, text);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new PassthruError(`cannot write '${printable(given)}': ${(err as NodeJS.ErrnoException).code ?? err}`, 2);
  }
}

export interface Replacement {
  /** A regular file (existing or new), symlinks already followed (outputTarget, inPlaceTarget). */
  path: string;
  text: string;
  /** Where to keep a copy of the file as it was, before it is replaced. */
  backup?: string;
}

// Temp files are written and synced many at a time: the kernel batches the journal commits of
// concurrent fsyncs, which is what makes a 1000-file `xmlfix -i` call fast.
const PARALLEL = 64;

/**
 * Each file replaced atomically (temp file in the same directory, fsynced, then renamed), keeping
 * its mode (and owner, as root); nothing is renamed until every temp file is written; on failure
 * the temp files go and the originals stay.
 */
export async function replaceFiles(jobs: Replacement[]): Promise<void> {
  const temps = new Map<Replacement, string>();
  try {
    await inBatches(jobs, (job) => writeTemp(job, temps));
    for (const job of jobs) {
      if (job.backup !== undefined) await copyFile(job.path, job.backup);
      await rename(temps.get(job)!, job.path);
      temps.delete(job);
    }
    await inBatches([...new Set(jobs.map((j) => dirname(j.path)))], syncDir);
  } catch (err) {
    await Promise.all([...temps.values()].map((t) => unlink(t).catch(() => undefined)));
    const e = err as NodeJS.ErrnoException;
    throw new PassthruError(`cannot write ${e.path ? `'${printable(e.path)}'` : 'output'}: ${e.code ?? e.message}`, 2);
  }
}

/** Writes the job's temp file and records it in `temps` (so a failure anywhere removes it). */
async function writeTemp(job: Replacement, temps: Map<Replacement, string>): Promise<void> {
  const old = await stat(job.path).catch(() => undefined);
  const temp = join(dirname(job.path), `.${basename(job.path)}.${process.pid}.tmp`);
  // a new file gets the mode a shell redirection would give it (0666 less the umask)
  const fh = await open(temp, 'wx', old ? old.mode & 0o7777 : 0o666);
  temps.set(job, temp);
  try {
    await fh.writeFile(job.text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (!old) return;
  if (process.getuid?.() === 0 && (old.uid !== 0 || old.gid !== 0)) await chown(temp, old.uid, old.gid);
  await chmod(temp, old.mode & 0o7777); // open()'s mode is filtered by the umask
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

async function inBatches<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += PARALLEL) await Promise.all(items.slice(i, i + PARALLEL).map(fn));
}
