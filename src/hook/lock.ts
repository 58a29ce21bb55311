// The host-wide lock around prepare/start/release: two domains starting at once must not race on
// one IOMMU group or PF. hooks/qemu takes it with flock(1) on <statedir>/lock and marks the child
// with PASSTHRU_LOCKED=1; when the node side is run directly (tests, `passthru hook`), it re-runs
// itself under the same flock(1), so both ways share one lock. The wait is bounded (-w).
import { join } from 'node:path';
import { ensureStateDir } from '../exec/journal.js';
import { LOCK_FILE, stateDirFor } from '../exec/state-dir.js';

/** flock's exit code when the wait ran out (-E), distinct from the hook's own codes. */
export const LOCK_TIMEOUT_EXIT = 75;
export const DEFAULT_LOCK_WAIT_S = 60;

export function lockWaitSeconds(env: NodeJS.ProcessEnv): number {
  const n = Number(env.PASSTHRU_LOCK_WAIT_S);
  return Number.isInteger(n) && n > 0 && n <= 3600 ? n : DEFAULT_LOCK_WAIT_S;
}

export function isLocked(env: NodeJS.ProcessEnv): boolean {
  return env.PASSTHRU_LOCKED === '1';
}

/** Runs `node script argv…` (the hook, or `passthru recover`) under flock with `input` on stdin; returns its exit code (or LOCK_TIMEOUT_EXIT). */
export async function runUnderLock(
  script: string,
  argv: string[],
  input: string | Buffer,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  // loaded here: child_process (with net and streams) costs a hook run that is already under the lock ~4 ms
  const { spawnSync } = await import('node:child_process');
  const stateDir = stateDirFor(env);
  ensureStateDir(stateDir);
  const r = spawnSync(
    'flock',
    [
      '-E',
      String(LOCK_TIMEOUT_EXIT),
      '-w',
      String(lockWaitSeconds(env)),
      join(stateDir, LOCK_FILE),
      process.execPath,
      script,
      ...argv,
    ],
    {
      input,
      env: { ...env, PASSTHRU_LOCKED: '1' },
      stdio: ['pipe', 'inherit', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (r.error) throw new Error(`cannot run flock(1) for the host-wide lock: ${r.error.message}`);
  return r.status ?? 1;
}
