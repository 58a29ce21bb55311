// The sh entry as libvirtd runs it: installed into <root>/etc/libvirt/hooks/qemu.d/passthru by the
// real `passthru install --root DIR --sim FILE --state-dir DIR`, then run with libvirtd's minimal
// environment (the entry must carry everything it needs).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { dist, nodeBin } from './paths.js';
import { run, hookEnv, type RunResult } from './proc.js';
import type { SimHost } from './simhost.js';

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
