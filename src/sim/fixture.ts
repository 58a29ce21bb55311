// Fixtures -> simulated hosts. The workstation and server fixtures are bundled (JSON imports), so
// `passthru sim init --fixture workstation` works from the single-file build; any other fixture is
// read from a path and checked against schemas/host.schema.json first.
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import workstation from '../../fixtures/hosts/workstation.json' with { type: 'json' };
import server from '../../fixtures/hosts/server.json' with { type: 'json' };
import hostSchema from '../../schemas/host.schema.json' with { type: 'json' };
import { SimKernel } from './kernel.js';
import type { SimFile, SimHostState } from './state.js';

export const EMBEDDED_FIXTURES: Record<string, unknown> = { workstation, server };

/** A fixture (already parsed) completed into a sim host: native drivers, existing VFs, mdev groups. */
export function hostFromFixture(fixture: SimHostState): SimFile {
  const state = structuredClone(fixture) as SimFile & { description?: string };
  delete state.description;
  const k = new SimKernel(state);
  k.initialize();
  return { simVersion: 1, ...k.state, writeLog: [], counters: { writes: 0 } };
}

/** Validates a parsed fixture; throws InputError naming the first problem and where. */
export async function checkFixture(doc: unknown, source: string): Promise<SimHostState> {
  const mod = (await import('ajv')) as unknown as { default: { default?: unknown } };
  // ajv is CommonJS: its class is `default` or `default.default` depending on the loader
  const Ajv = (mod.default.default ?? mod.default) as typeof import('ajv').default;
  const ajv = new Ajv({ allErrors: false, strict: false });
  const validate = ajv.compile(hostSchema);
  if (!validate(doc)) {
    const e = validate.errors?.[0];
    throw new InputError(`host fixture ${source}: ${e?.instancePath || '(top)'} ${e?.message ?? 'is invalid'}`);
  }
  const host = doc as unknown as SimHostState;
  const seen = new Set<string>();
  for (const d of host.devices) {
    if (seen.has(d.address)) throw new InputError(`host fixture ${source}: device ${d.address} appears twice`);
    seen.add(d.address);
  }
  return host;
}

/** A fixture by embedded name ('workstation', 'server') or by file path. */
export async function loadFixture(nameOrPath: string): Promise<SimHostState> {
  const embedded = EMBEDDED_FIXTURES[nameOrPath];
  if (embedded) return checkFixture(structuredClone(embedded), nameOrPath);
  if (!nameOrPath.includes('/') && !nameOrPath.endsWith('.json')) {
    throw new InputError(
      `unknown host fixture '${nameOrPath}' (built in: ${Object.keys(EMBEDDED_FIXTURES).join(', ')}; or give a path to a .json file)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read host fixture '${nameOrPath}': ${(err as { code?: string }).code ?? 'error'}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`host fixture '${nameOrPath}' is not valid JSON: ${(err as Error).message}`);
  }
  return checkFixture(doc, nameOrPath);
}
