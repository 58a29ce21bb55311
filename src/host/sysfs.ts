// The one door to the host's files. Every path is relative to one configurable root ('/' in
// production, a temp dir or the simulator in tests): 'sys/bus/pci/devices/0000:01:00.0/vendor',
// 'proc/cmdline', 'etc/modprobe.d', 'dev/vfio/5'. Implemented by NodeSysfs (real files) and SimKernel.
// Async on purpose: a sysfs write can block in the kernel, and callers must be able to time it out.

export interface Sysfs {
  /** File contents (sysfs values keep their trailing newline; callers trim). Throws ENOENT etc. as errno errors. */
  read(path: string): Promise<string>;
  /** Directory entries, sorted. */
  list(path: string): Promise<string[]>;
  /** Raw symlink target, e.g. '../../../bus/pci/drivers/vfio-pci'. */
  readlink(path: string): Promise<string>;
  exists(path: string): Promise<boolean>;
  /** One write(2) of data, as `echo -n data > path` would do. */
  write(path: string, data: string): Promise<void>;
}

/** An error carrying an errno code, as fs errors and the simulator's injected faults do. */
export interface ErrnoError extends Error {
  code: string; // 'ENOENT', 'EBUSY', 'EIO', ...
  path?: string;
}

export function errnoError(code: string, message: string, path?: string): ErrnoError {
  const e = new Error(`${code}: ${message}${path ? `, '${path}'` : ''}`) as ErrnoError;
  e.code = code;
  if (path !== undefined) e.path = path;
  return e;
}

export function isErrno(err: unknown, code?: string): err is ErrnoError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as ErrnoError).code === 'string' &&
    (code === undefined || (err as ErrnoError).code === code)
  );
}
