// The bound of one host access: PASSTHRU_WRITE_TIMEOUT_MS when set, else the caller's default (the
// config's writeTimeoutMs in the hook and recover; DEFAULT_WRITE_TIMEOUT_MS where no config is read).
import { InputError } from '../errors.js';

export function timeoutFrom(env: NodeJS.ProcessEnv, fallbackMs: number): number {
  const raw = env.PASSTHRU_WRITE_TIMEOUT_MS;
  if (raw === undefined || raw === '') return fallbackMs;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 600_000) throw new InputError(`invalid PASSTHRU_WRITE_TIMEOUT_MS '${raw.slice(0, 40)}' (expected 1..600000)`);
  return n;
}
