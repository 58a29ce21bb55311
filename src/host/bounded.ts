// Upper bounds on host accesses. A sysfs access can block in the kernel (a write in a driver; a
// read of an attribute whose show takes the device lock while an unbind waits for qemu:
// src/host/device-lock.ts), and neither libvirt (for the hook) nor an administrator (for `passthru
// list`) should wait on it for ever. The bound gives up on the access, it cannot end it: see
// src/host/node-sysfs.ts.
import { InputError } from '../errors.js';

export class OpTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

/** Upper bound on one host access: settles as `p` does, or rejects with OpTimeout after `ms`. */
export function bounded<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  return within(ms, p, () => Promise.reject(new OpTimeout(`timed out after ${ms} ms: ${what}`)));
}

/** `p`, or undefined once `ms` have passed without an answer: for a caller that goes on without the value. */
export function withinOrUndefined<T>(ms: number, p: Promise<T>): Promise<T | undefined> {
  return within<T | undefined>(ms, p, () => Promise.resolve(undefined));
}

/** `p`, or what `late()` gives once `ms` have passed; the timer holds the process only while `p` is pending. */
function within<T>(ms: number, p: Promise<T>, late: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late()), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Bound of one device-lock read for `passthru list` and `doctor` (HostReader's lockedReadMs): a probe
 * or an unbind nothing holds keeps the lock for far less; an unbind waiting for qemu, indefinitely.
 */
export const COMMAND_LOCKED_READ_MS = 2000;

/**
 * The bound from PASSTHRU_WRITE_TIMEOUT_MS (the hook's variable, also honoured by `passthru list`),
 * else `fallbackMs`. A bad value is bad input.
 */
export function timeoutFromEnv(env: NodeJS.ProcessEnv, fallbackMs: number): number {
  const raw = env.PASSTHRU_WRITE_TIMEOUT_MS;
  if (raw === undefined || raw === '') return fallbackMs;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 600_000)
    throw new InputError(`invalid PASSTHRU_WRITE_TIMEOUT_MS '${raw.slice(0, 40)}' (expected 1..600000)`);
  return n;
}
