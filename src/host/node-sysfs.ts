// The real host's files through the Sysfs door: every path is relative to one root ('/' in
// production, a materialized tree in tests). Paths that could leave the root ('..', absolute, NUL)
// are refused before any file is opened, and a write is refused when symlinks would carry it out
// of the root, so a hostile name can never reach a file we do not own.
import {
  accessSync,
  close,
  closeSync,
  constants,
  open,
  read,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpath,
  write,
} from 'node:fs';
import { resolve, sep } from 'node:path';
import { errnoError, type Sysfs } from './sysfs.js';
import { readTakesDeviceLock } from './device-lock.js';

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
  if (path.split('/').some((s) => s === '..' || s === '.'))
    throw errnoError('EINVAL', "host path must not contain '.' or '..'", path);
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
  // Writes stay asynchronous: those can block in a driver and callers time them out. So do reads of
  // the attributes whose show takes the device lock (driver_override, sriov_numvfs, uevent: see
  // device-lock.ts): the real kernel blocks them while an unbind waits for qemu, and a synchronous
  // read would stall the event loop, so the caller's timeout could never fire.
  // What the timeout cannot do: free the thread. The read stays in a thread-pool thread, asleep in
  // the kernel (device_lock is an uninterruptible mutex) until the kernel lets go. The caller reports
  // and records the failure at once, but the process cannot end before that thread returns: Node's
  // exit joins the thread pool, and no signal wakes a thread in uninterruptible sleep.

  async read(path: string): Promise<string> {
    if (readTakesDeviceLock(path)) return readOffThread(this.full(path));
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
      this.realRoot ??= await realpathOf(this.root);
      const real = await realpathOf(full);
      if (real !== this.realRoot && !real.startsWith(this.realRoot + sep))
        throw errnoError('EACCES', 'write target resolves outside the host root', path);
    }
    // no O_CREAT: sysfs attributes exist or the write is wrong; one write(2) like `echo -n`
    const fd = await new Promise<number>((ok, fail) =>
      open(full, constants.O_WRONLY | constants.O_TRUNC, (err, fd) => (err ? fail(err) : ok(fd))),
    );
    try {
      await new Promise<void>((ok, fail) => write(fd, data, (err) => (err ? fail(err) : ok())));
    } finally {
      await new Promise<void>((ok, fail) => close(fd, (err) => (err ? fail(err) : ok())));
    }
  }
}

// The callback API on purpose: fs/promises (with the readline code it loads) costs a hook run ~2 ms
// to load, and these calls do the same system calls (open, one write(2), close; realpath(3)).
function realpathOf(path: string): Promise<string> {
  return new Promise((ok, fail) => realpath.native(path, (err, real) => (err ? fail(err) : ok(real))));
}

/**
 * A whole small file read in the thread pool with two requests (open, then one read of up to a page
 * per request until the file ends), not readFile's four (open, fstat, read, close): `passthru list`
 * reads two device-lock attributes per device. A sysfs attribute is at most a page, so one read
 * usually returns all of it.
 */
function readOffThread(full: string): Promise<string> {
  return new Promise((ok, fail) => {
    open(full, constants.O_RDONLY, (err, fd) => {
      if (err) return fail(err);
      const chunks: Buffer[] = [];
      const next = (): void => {
        const buf = Buffer.allocUnsafe(8192);
        read(fd, buf, 0, buf.length, null, (rerr, n) => {
          if (rerr) {
            closeSync(fd);
            return fail(rerr);
          }
          chunks.push(buf.subarray(0, n));
          if (n === buf.length) return next();
          closeSync(fd);
          ok(Buffer.concat(chunks).toString('utf8'));
        });
      };
      next();
    });
  });
}
