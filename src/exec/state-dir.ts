// Where journals and the host-wide lock live. The same rule is spelled in hooks/qemu (sh) so both
// sides take the same lock: PASSTHRU_STATE_DIR, else `${PASSTHRU_SIM}.state` for a simulated host,
// else <PASSTHRU_ROOT or />/run/passthru.
import { join } from 'node:path';
import { layout } from '../host/layout.js';

export function stateDirFor(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PASSTHRU_STATE_DIR) return env.PASSTHRU_STATE_DIR;
  if (env.PASSTHRU_SIM) return `${env.PASSTHRU_SIM}.state`;
  return join(env.PASSTHRU_ROOT || '/', layout.stateDir);
}

export const LOCK_FILE = 'lock';
