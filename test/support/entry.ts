// The sh entry as libvirtd runs it: installed into <root>/etc/libvirt/hooks/qemu.d/passthru by the
// real `passthru install --root DIR --sim FILE --state-dir DIR`, then run with libvirtd's minimal
// environment (the entry must carry everything it needs).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { dist, nodeBin } from './paths.js';
import { run, hookEnv, type RunResult } from './proc.js';
import { afterAll, beforeAll } from 'vitest';
import { SimHost } from './simhost.js';

export interface Entry {
  path: string;
  how: 'passthru install';
  run(args: string[], xml: string | Buffer, limitMs?: number): Promise<RunResult>;
}

export async function installEntry(host: SimHost, root = join(host.dir, 'root')): Promise<Entry> {
  mkdirSync(root, { recursive: true });
  const installed = join(root, 'etc', 'libvirt', 'hooks', 'qemu.d', 'passthru');
  const r = await run(
    nodeBin,
    [dist.passthru, 'install', '--root', root, '--sim', host.file, '--state-dir', host.stateDir],
    { env: hookEnv({}), limitMs: 30_000 },
  );
  if (r.code !== 0 || !existsSync(installed))
    throw new Error(`passthru install failed (${r.code}): ${r.stderr.trim()}`);
  return {
    path: installed,
    how: 'passthru install',
    run: (args, xml, limitMs = 150_000) => run(installed, args, { input: xml, env: hookEnv({}), limitMs }),
  };
}

/** A SimHost of `fixture` with our entry installed, made once for the describe block this is called in. */
export function installedHostForSuite(fixture: string): { host: SimHost; entry: Entry } {
  const suite = {} as { host: SimHost; entry: Entry };
  beforeAll(async () => {
    suite.host = await SimHost.create(fixture);
    suite.entry = await installEntry(suite.host);
  });
  afterAll(() => suite.host?.cleanup());
  return suite;
}
