// The installed hook refuses, before acting, when what it runs or reads stopped being root's alone
// after the install (src/host/root-owned.ts): one line naming the path and the chmod/chown fix.
// prepare exits 1 and changes nothing; release exits 0 and undoes nothing (its journal stays for
// `passthru recover`); once fixed, the same release undoes everything.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimHost } from '../support/simhost.js';
import { domainXml, type DomainSpec } from '../support/domains.js';
import { hookEnv, run, type RunResult } from '../support/proc.js';
import { dist, nodeBin } from '../support/paths.js';

const domain: DomainSpec = { name: 'strict', hostdevs: [{ address: '0000:01:00.0', managed: true }] };
const xml = domainXml(domain);
let host: SimHost;
let entry: string;
let config: string;

beforeEach(async () => {
  host = await SimHost.create('workstation');
  const root = join(host.dir, 'root');
  mkdirSync(root);
  config = join(host.dir, 'config.json');
  writeFileSync(config, '{}\n', { mode: 0o644 });
  chmodSync(config, 0o644);
  const r = await run(
    nodeBin,
    [dist.passthru, 'install', '--root', root, '--sim', host.file, '--state-dir', host.stateDir, '--config', config],
    { env: hookEnv({}), limitMs: 30_000 },
  );
  expect(r.code, r.stderr).toBe(0);
  entry = join(root, 'etc', 'libvirt', 'hooks', 'qemu.d', 'passthru');
});
afterEach(() => host.cleanup());

const hook = (op: 'prepare' | 'release'): Promise<RunResult> =>
  run(entry, [domain.name, op, op === 'release' ? 'end' : 'begin', '-'], {
    input: xml,
    env: hookEnv({}),
    limitMs: 60_000,
  });

describe('the installed hook and what it runs and reads', () => {
  it('the sh entry refuses a state dir others can write before opening its lock (a planted symlink is not followed)', async () => {
    mkdirSync(host.stateDir, { mode: 0o777 });
    chmodSync(host.stateDir, 0o777);
    const victim = join(host.dir, 'victim');
    symlinkSync(victim, join(host.stateDir, 'lock'));
    const before = host.state();
    const r = await hook('prepare');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `passthru: prepare of 'strict' refused: ${host.stateDir} must be root's alone: chown root ${host.stateDir} && chmod go-w ${host.stateDir}\n`,
    );
    expect(existsSync(victim)).toBe(false);
    expect(host.state()).toBe(before);
    expect(host.journals()).toEqual([]);
    rmSync(join(host.stateDir, 'lock'));
    chmodSync(host.stateDir, 0o700);
    expect((await hook('prepare')).code).toBe(0);
  });

  it('node refuses, naming the path and the chmod, what the sh entry does not check (a directory above the state dir)', async () => {
    const open = join(host.dir, 'open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const stateDir = join(open, 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    const r = await host.hook('strict', 'prepare', xml, { env: { PASSTHRU_STATE_DIR: stateDir } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `passthru: prepare of 'strict' refused: ${open} is writable by group and others (mode 0777): chmod go-w ${open}\n`,
    );
  });

  it('release refuses a config that became writable by others: exit 0, nothing undone; once fixed it undoes all', async () => {
    const start = host.state();
    const p = await hook('prepare');
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    expect(host.journals()).toHaveLength(1);
    chmodSync(config, 0o646);
    const held = host.state();
    const r = await hook('release');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `passthru: release of 'strict' refused: ${config} is writable by others (mode 0646): chmod go-w ${config}; nothing undone: run passthru recover once fixed\n`,
    );
    expect(host.state()).toBe(held);
    expect(host.journals()).toHaveLength(1);
    chmodSync(config, 0o644);
    const again = await hook('release');
    expect(again.stderr).toBe('');
    expect(host.state()).toBe(start);
    expect(host.journals()).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'a state dir owned by another user: refused by the entry, and by node with the chown',
    async () => {
      mkdirSync(host.stateDir, { mode: 0o700 });
      chownSync(host.stateDir, 65534, 65534);
      const viaEntry = await hook('prepare');
      expect(viaEntry.code).toBe(1);
      expect(viaEntry.stderr).toMatch(/must be root's alone: chown root /);
      const node = await host.hook('strict', 'prepare', xml);
      expect(node.code).toBe(1);
      expect(node.stderr).toBe(
        `passthru: prepare of 'strict' refused: ${host.stateDir} is owned by uid 65534, not root: chown root ${host.stateDir}\n`,
      );
      expect(host.journals()).toEqual([]);
    },
  );
});
