// Upper bounds on host accesses. A sysfs access can block in the kernel (a write in a driver; a
// read of an attribute whose show takes the device lock while an unbind waits for qemu:
// src/host/device-lock.ts), and neither libvirt (for the hook) nor an administrator (for `passthru
// list`) should wait on it for ever. The bound gives up on the access, it cannot end it: see
// src/host/node-sysfs.ts.
import { InputError } from '../errors.js';

export class OpTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

/**
 * Upper bound on one host access: settles as `p` does, or rejects with OpTimeout after `ms`.
 * A plan makes dozens of accesses, almost all answered at once, so they share ONE timer (armed
 * for the earliest deadline, holding the process open only while an access is pending) instead
 * of creating and cancelling a timer each.
 */
export function bounded<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  return watched(ms, p, (_resolve, reject) => reject(new OpTimeout(`timed out after ${ms} ms: ${what}`)));
}

/**
 * `p`, or undefined once `ms` have passed without an answer: bounded() for a caller that goes on
 * without the value (`passthru list`), with no error object and one promise fewer per call.
 */
export function withinOrUndefined<T>(ms: number, p: Promise<T>): Promise<T | undefined> {
  return watched<T | undefined>(ms, p, (resolve) => resolve(undefined));
}

/** `p` under the shared watchdog: settles as `p` does, or as `onDeadline` says once `ms` have passed. */
function watched<T>(
  ms: number,
  p: Promise<T>,
  onDeadline: (resolve: (v: T) => void, reject: (e: Error) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const w: Watch = { deadline: Date.now() + ms, fail: () => onDeadline(resolve, reject) };
    watch(w);
    p.then(
      (v) => {
        unwatch(w);
        resolve(v);
      },
      (err: unknown) => {
        unwatch(w);
        reject(err);
      },
    );
  });
}

interface Watch {
  deadline: number;
  fail(): void;
}
const pending = new Set<Watch>();
let watchdog: NodeJS.Timeout | undefined;
let firesAt = Infinity;
let checkQueued = false;

function arm(deadline: number, now: number): void {
  firesAt = deadline;
  watchdog = setTimeout(expire, Math.max(1, deadline - now));
}

/**
 * The timer is armed only for an access still pending once the promise jobs queued so far have run
 * (a nextTick queued from them runs then, before the event loop can wait on anything): an access the
 * host answered at once never needs it, and a process's first timer costs ~1.2M instructions (node
 * compiling its timer code). The deadline still counts from the call.
 */
function watch(w: Watch): void {
  pending.add(w);
  if (!checkQueued) {
    checkQueued = true;
    process.nextTick(guardPending);
  }
}

function unwatch(w: Watch): void {
  pending.delete(w);
  // the timer stays for the next access, but no longer keeps the process alive
  if (pending.size === 0) watchdog?.unref();
}

/** The accesses still pending now wait on the host: the timer covers the earliest deadline and holds the process open. */
function guardPending(): void {
  checkQueued = false;
  if (pending.size === 0) return;
  let earliest = Infinity;
  for (const w of pending) earliest = Math.min(earliest, w.deadline);
  if (!watchdog) arm(earliest, Date.now());
  else if (earliest < firesAt) {
    clearTimeout(watchdog);
    arm(earliest, Date.now());
  } else watchdog.ref();
}

/** Fails every access past its deadline; re-arms for the earliest one left (a timer may fire a little early). */
function expire(): void {
  watchdog = undefined;
  firesAt = Infinity;
  const now = Date.now();
  let next = Infinity;
  for (const w of [...pending]) {
    if (w.deadline <= now) {
      pending.delete(w);
      w.fail();
    } else next = Math.min(next, w.deadline);
  }
  if (next !== Infinity) arm(next, now);
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
