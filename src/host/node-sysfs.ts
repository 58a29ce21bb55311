// The real host's files through the Sysfs door: every path is relative to one root ('/' in
// production, a materialized tree in tests). Paths that could leave the root ('..', absolute, NUL)
// are refused before any file is opened, and a write is refused when symlinks would carry it out
// of the root, so a hostile name can never reach a file we do not own.
import { open, realpath } from 'node:fs/promises';
import { accessSync, constants, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { errnoError, type Sysfs } from './sysfs.js';

/** An options object, not 'utf8': readFileSync copies a string option into a new object on every call. */
const UTF8 = { encoding: 'utf8', flag: 'r' } as const;

/** Anything the checks below refuse: NUL, a leading '/', a '.' or '..' component. */
const SUSPECT = /\0|^\/|(?:^|\/)\.\.?(?:\/|$)/;

/** Checks a root-relative path; returns it unchanged or throws EINVAL naming it. */
export function checkRelativePath(path: string): string {
  // one regex test for the ~50,000 good paths of a `passthru list`; the checks name what is wrong
  if (typeof path === 'string' && path !== '' && !SUSPECT.test(path)) return path;
  if (typeof path !== 'string' || path === '') throw errnoError('EINVAL', 'empty host path');
  if (path.includes('\0')) throw errnoError('EINVAL', 'host path contains NUL', JSON.stringify(path));
  if (path.startsWith('/')) throw errnoError('EINVAL', 'host path must be relative to the host root', path);
  if (path.split('/').some((s) => s === '..' || s === '.')) throw errnoError('EINVAL', "host path must not contain '.' or '..'", path);
  return path;
}

export class NodeSysfs implements Sysfs {
  readonly root: string;
  private realRoot?: string;

  constructor(root: string = '/') {
    this.root = resolve(root);
  }

  private full(path: string): string {
    return this.root === sep ? `/${checkRelativePath(path)}` : `${this.root}/${checkRelativePath(path)}`;
  }

  // Reads are synchronous inside: sysfs attributes, links and directories are served from kernel
  // memory (we never read attributes that touch hardware, like config or reset), and a thread-pool
  // round trip per attribute costs more than the read itself (10,000 devices: ~100,000 reads).
  // Writes stay asynchronous: those can block in a driver and callers time them out.

  async read(path: string): Promise<string> {
    return readFileSync(this.full(path), UTF8);
  }

  async list(path: string): Promise<string[]> {
    return readdirSync(this.full(path)).sort();
  }

  async readlink(path: string): Promise<string> {
    return readlinkSync(this.full(path));
  }

  async exists(path: string): Promise<boolean> {
    try {
      accessSync(this.full(path));
      return true;
    } catch {
      return false;
    }
  }

  async write(path: string, data: string): Promise<void> {
    const full = this.full(path);
    if (this.root !== sep) {
      // symlinks inside a test tree could point anywhere: the resolved file must stay under the root
      this.realRoot ??= await realpath(this.root);
      const real = await realpath(full);
      if (real !== this.realRoot && !real.startsWith(this.realRoot + sep)) throw errnoError('EACCES', 'write target resolves outside the host root', path);
    }
    // no O_CREAT: sysfs attributes exist or the write is wrong; one write(2) like `echo -n`
    const fh = await open(full, constants.O_WRONLY | constants.O_TRUNC);
    try {
      await fh.write(data);
    } finally {
      await fh.close();
    }
  }
}
