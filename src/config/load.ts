// Loads the host configuration: PASSTHRU_CONFIG (a real path) if set, else etc/passthru/config.json
// under the host root (read through the Sysfs door, so the simulator can hold one too). A missing
// file means defaults; a present but broken one is an error naming the file and the problem.
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { isErrno, type Sysfs } from '../host/sysfs.js';
import { layout } from '../host/layout.js';
import { protectedMatcher } from '../plan/protect.js';
import { validateConfig } from './validators.generated.js';
import { describeSchemaError } from './schema-error.js';
import { withDefaults, type EffectiveConfig, type PassthruConfig } from './types.js';
import { canonicalPolicies } from '../plan/gpu-policy.js';

export function parseConfig(text: string, where: string): EffectiveConfig {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(`config ${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (!validateConfig(data)) throw new InputError(`config ${where}: ${describeSchemaError(validateConfig.errors)}`);
  const cfg = data as PassthruConfig;
  for (const entry of cfg.protected ?? []) protectedMatcher(entry); // throws on a malformed entry
  const eff = withDefaults(cfg);
  eff.devices = canonicalPolicies(eff.devices); // throws on two keys for one device
  return eff;
}

export async function loadConfig(sysfs: Sysfs, env: NodeJS.ProcessEnv = process.env): Promise<EffectiveConfig> {
  const explicit = env.PASSTHRU_CONFIG;
  let text: string;
  try {
    // a small local file: read synchronously (fs/promises alone costs a hook run ~2 ms to load)
    text = explicit ? readFileSync(explicit, 'utf8') : await sysfs.read(layout.passthruConfig);
  } catch (err) {
    if (isErrno(err, 'ENOENT') && !explicit) return withDefaults({});
    throw new InputError(`cannot read config ${explicit ?? layout.passthruConfig}: ${(err as Error).message}`);
  }
  return parseConfig(text, explicit ?? layout.passthruConfig);
}
