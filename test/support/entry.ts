// The sh entry as libvirtd would run it: installed into <root>/etc/libvirt/hooks/qemu.d/passthru by
// the real `passthru install --root DIR --sim FILE --state-dir DIR`. When the install command is not
// available yet, the template is filled with the hook's own renderer; `how` says which, so a figure
// never claims more than was run.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHookEntry } from '../../src/hook/entry-template.js';
import { dist, hookTemplate, nodeBin } from './paths.js';
import { run, hookEnv, type RunResult } from './proc.js';
import type { SimHost } from './simhost.js';

export interface Entry {
  path: string;
  how: 'passthru install' | 'template';
  run(args: string[], xml: string | Buffer, limitMs?: number): Promise<RunResult>;
}

export async function installEntry(host: SimHost, root = join(host.dir, 'root')): Promise<Entry> {
  mkdirSync(root, { recursive: true });
  const installed = join(root, 'etc', 'libvirt', 'hooks', 'qemu.d', 'passthru');
  const r = await run(nodeBin, [dist.passthru, 'install', '--root', root, '--sim', host.file, '--state-dir', host.stateDir], { env: hookEnv({}), limitMs: 30_000 });
  let how: Entry['how'] = 'passthru install';
  if (r.code !== 0 || !existsSync(installed)) {
    if (!/unknown command/i.test(r.stderr)) throw new Error(`passthru install failed (${r.code}): ${r.stderr.trim()}`);
    mkdirSync(join(installed, '..'), { recursive: true });
    writeFileSync(installed, renderHookEntry(readFileSync(hookTemplate, 'utf8'), { node: nodeBin, hookJs: dist.hook, env: { PASSTHRU_SIM: host.file, PASSTHRU_STATE_DIR: host.stateDir, PASSTHRU_LOCK_WAIT_S: '120' } }));
    chmodSync(installed, 0o755);
    how = 'template';
  }
  return {
    path: installed,
    how,
    // libvirtd's minimal environment: nothing of ours, the entry must carry it
    run: (args, xml, limitMs = 150_000) => run(installed, args, { input: xml, env: hookEnv({}), limitMs }),
  };
}
