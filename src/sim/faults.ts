// Fault injection for the simulated host, so tests can make the kernel refuse, crash or hang at an
// exact step. Faults come from the sim file's `faults` field and/or the environment variable
// PASSTHRU_SIM_FAULTS (JSON, same shape; both apply). Format:
//
//   {
//     "failWrite": {"n": 3, "errno": "EIO"},            // the 3rd write attempted by this process fails
//     "failPath": {"pattern": "sriov_numvfs$", "errno": "EBUSY", "data": "^4$"},  // writes whose path
//                                                        // (and data, if given) match the JS regexps fail
//     "killAfterWrite": 5,                               // SIGKILL this process right after write 5 is saved
//     "hangOnWrite": 2                                   // write 2 never completes (and changes nothing)
//   }
//
// failWrite and failPath may also be arrays of such objects. "Writes" are the sysfs writes and the
// VF settings (NetLink.setVf) of one process (one SimKernel instance), counted from 1, failed
// attempts included, so N names the same step in every run of the same command.
import { errnoError, type ErrnoError } from '../host/sysfs.js';

export interface FailWrite {
  n: number;
  errno: string;
}
export interface FailPath {
  pattern: string;
  errno: string;
  data?: string;
}
export interface SimFaults {
  failWrite?: FailWrite | FailWrite[];
  failPath?: FailPath | FailPath[];
  killAfterWrite?: number;
  hangOnWrite?: number;
}

const ERRNO = /^E[A-Z0-9]{1,15}$/;
const arr = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const posInt = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x) && x >= 1;

/** Validates a faults object; throws a one-line error naming the bad field. */
export function parseFaults(raw: unknown, source: string): SimFaults {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${source}: faults must be a JSON object`);
  const f = raw as Record<string, unknown>;
  for (const k of Object.keys(f))
    if (!['failWrite', 'failPath', 'killAfterWrite', 'hangOnWrite'].includes(k))
      throw new Error(`${source}: unknown fault '${k}'`);
  for (const w of arr(f.failWrite as FailWrite | FailWrite[] | undefined)) {
    if (!posInt(w?.n) || !ERRNO.test(String(w?.errno)))
      throw new Error(`${source}: failWrite needs {"n": positive integer, "errno": "EIO"}, got ${JSON.stringify(w)}`);
  }
  for (const p of arr(f.failPath as FailPath | FailPath[] | undefined)) {
    if (typeof p?.pattern !== 'string' || !ERRNO.test(String(p?.errno)))
      throw new Error(`${source}: failPath needs {"pattern": regexp, "errno": "EIO"}, got ${JSON.stringify(p)}`);
    new RegExp(p.pattern);
    if (p.data !== undefined) new RegExp(p.data);
  }
  for (const k of ['killAfterWrite', 'hangOnWrite'] as const)
    if (f[k] !== undefined && !posInt(f[k])) throw new Error(`${source}: ${k} must be a positive integer`);
  return f as SimFaults;
}

/** Faults from the file and the environment together. */
export function loadFaults(fileFaults: unknown, env: NodeJS.ProcessEnv): SimFaults[] {
  const out = [parseFaults(fileFaults, 'sim file')];
  const e = env.PASSTHRU_SIM_FAULTS;
  if (e && e.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(e);
    } catch {
      throw new Error(`PASSTHRU_SIM_FAULTS is not valid JSON: ${e.slice(0, 80)}`);
    }
    out.push(parseFaults(parsed, 'PASSTHRU_SIM_FAULTS'));
  }
  return out;
}

export type FaultDecision = { kind: 'ok' } | { kind: 'fail'; error: ErrnoError } | { kind: 'hang' };

/** What happens to write number n (1-based) to path with data. */
export function decide(faults: SimFaults[], n: number, path: string, data: string): FaultDecision {
  for (const f of faults) {
    if (f.hangOnWrite === n) return { kind: 'hang' };
    for (const w of arr(f.failWrite))
      if (w.n === n) return { kind: 'fail', error: errnoError(w.errno, `injected fault on write ${n}`, path) };
    for (const p of arr(f.failPath)) {
      if (new RegExp(p.pattern).test(path) && (p.data === undefined || new RegExp(p.data).test(data)))
        return { kind: 'fail', error: errnoError(p.errno, `injected fault on ${path}`, path) };
    }
  }
  return { kind: 'ok' };
}

export function killAfter(faults: SimFaults[], n: number): boolean {
  return faults.some((f) => f.killAfterWrite === n);
}
