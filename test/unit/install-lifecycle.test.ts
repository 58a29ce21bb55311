// The installed entry over its life: `passthru install` refuses what the hook would refuse to run
// (not root's alone), `--uninstall` leaves nothing of ours, and doctor reports an entry that points at
// a node or bundle that no longer exists, or at what others can change.
import { describe, expect, it } from 'vitest';
import { suiteTemp } from '../support/suite-temp.js';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { dist, hookTemplate, nodeBin } from '../support/paths.js';
import { domainXml } from '../support/domains.js';
import { readEntry, renderEntry } from '../../src/install/entry.js';
import { hookEntryChecks } from '../../src/doctor/hook-entry.js';

const temp = suiteTemp('passthru-lifecycle-');

/** A host root with the /etc/libvirt a libvirt package leaves (no hooks/). */
function freshRoot(): string {
  const root = temp.fresh('root');
  mkdirSync(join(root, 'etc', 'libvirt'), { recursive: true });
  return root;
}
const entryOf = (root: string): string => join(root, 'etc', 'libvirt', 'hooks', 'qemu.d', 'passthru');

function passthru(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(nodeBin, [dist.passthru, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every path under dir (directories too) with its mode: equal listings = nothing added or left. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      out.push(`${p.slice(dir.length)} ${(st.mode & 0o7777).toString(8)}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

describe('passthru install --uninstall', () => {
  it('leaves nothing of ours after the entry ran: no entry, no hooks dirs it made, no state dir or lock', () => {
    const root = freshRoot();
    const sim = `${temp.fresh('host')}.json`;
    expect(passthru(['sim', 'init', '--fixture', 'workstation', '-o', sim]).code).toBe(0);
    const state = join(root, 'run', 'passthru');
    mkdirSync(join(root, 'run'));
    const beforeRun = tree(root);
    const r = passthru(['install', '--root', root, '--sim', sim, '--state-dir', state]);
    expect(r.code, r.stderr).toBe(0);
    const xml = domainXml({ name: 'vm', hostdevs: [{ address: '0000:01:00.0', managed: true }] });
    for (const [op, sub] of [
      ['prepare', 'begin'],
      ['release', 'end'],
    ]) {
      const h = spawnSync(entryOf(root), ['vm', op!, sub!, '-'], { input: xml, env: { PATH: '/usr/bin:/bin' } });
      expect(h.status, String(h.stderr)).toBe(0);
    }
    expect(readdirSync(state)).toEqual(['lock']);
    const u = passthru(['install', '--uninstall', '--root', root]);
    expect(u.code, u.stderr).toBe(0);
    expect(u.stdout).toBe(`removed ${entryOf(root)}\n`);
    expect(tree(root)).toEqual(beforeRun);
  });

  it('keeps a state dir that still holds journals, and says how to undo them', () => {
    const root = freshRoot();
    expect(passthru(['install', '--root', root]).code).toBe(0);
    const state = join(root, 'run', 'passthru');
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'lock'), '');
    writeFileSync(join(state, '0c0de0ca-c4e0-4a1b-8c2d-3e4f5a6b7c8d.json'), '{}');
    const u = passthru(['install', '--uninstall', '--root', root]);
    expect(u.code, u.stderr).toBe(0);
    expect(u.stdout).toContain(`journals remain in ${state}`);
    expect(u.stdout).toContain('passthru recover --all');
    expect(readdirSync(state).sort()).toEqual(['0c0de0ca-c4e0-4a1b-8c2d-3e4f5a6b7c8d.json', 'lock']);
  });
});

describe("passthru install refuses what is not root's alone (nothing written)", () => {
  it('a state dir under a directory others can write', () => {
    const root = freshRoot();
    const open = temp.fresh('open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const before = tree(root);
    const r = passthru(['install', '--root', root, '--state-dir', join(open, 'state')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `passthru: not installing ${entryOf(root)}: the hook runs as root and ${open} is writable by group and others (mode 0777): chmod go-w ${open}\n`,
    );
    expect(tree(root)).toEqual(before);
  });

  it('a config file its group can write', () => {
    const root = freshRoot();
    const cfg = `${temp.fresh('config')}.json`;
    writeFileSync(cfg, '{}');
    chmodSync(cfg, 0o664);
    const r = passthru(['install', '--root', root, '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${cfg} is writable by its group \\(mode 0664\\): chmod go-w ${cfg}\\n$`));
    expect(readdirSync(join(root, 'etc', 'libvirt'))).toEqual([]);
  });
});

describe('the entry read back, and doctor on it', () => {
  const template = readFileSync(hookTemplate, 'utf8');
  const settings = (root: string) => ({
    node: nodeBin,
    hookJs: dist.hook,
    env: { PASSTHRU_ROOT: root, PASSTHRU_STATE_DIR: join(root, "it's state") },
  });
  const write = (root: string, text: string): void => {
    mkdirSync(join(root, 'etc', 'libvirt', 'hooks', 'qemu.d'), { recursive: true });
    writeFileSync(entryOf(root), text, { mode: 0o755 });
  };
  const wouldInstall = { node: nodeBin, hookJs: dist.hook };

  it('readEntry gives back what renderEntry wrote (quotes included); not ours: undefined', () => {
    const s = settings('/r oot');
    expect(readEntry(renderEntry(template, s))).toEqual(s);
    expect(readEntry(template)).toBeUndefined();
  });

  it('not installed: a warning with `passthru install`, and what it would install is checked', () => {
    const root = freshRoot();
    const [entry, trust] = hookEntryChecks({ root, wouldInstall });
    expect(entry).toMatchObject({ id: 'hook-entry', status: 'warn', fix: { debian: 'passthru install' } });
    expect(trust).toMatchObject({ id: 'hook-trust', status: 'pass' });
  });

  it('installed and sound: both pass', () => {
    const root = freshRoot();
    write(root, renderEntry(template, settings(root)));
    expect(hookEntryChecks({ root, wouldInstall }).map((c) => c.status)).toEqual(['pass', 'pass']);
  });

  it('an entry whose node or bundle no longer exists (upgrade, removal) fails, naming the path', () => {
    const root = freshRoot();
    const gone = join(temp.dir, 'old-node-v18', 'bin', 'node');
    write(root, renderEntry(template, { ...settings(root), node: gone }));
    const [entry] = hookEntryChecks({ root, wouldInstall });
    expect(entry!.status).toBe('fail');
    expect(entry!.detail).toContain(`runs ${gone}, which no longer exists`);
    expect(entry!.fix?.debian).toBe('passthru install');
  });

  it('an installed state dir others can write fails with the chmod to paste (through the CLI too)', () => {
    const root = freshRoot();
    const s = settings(root);
    mkdirSync(s.env.PASSTHRU_STATE_DIR, { mode: 0o770 });
    chmodSync(s.env.PASSTHRU_STATE_DIR, 0o770);
    write(root, renderEntry(template, s));
    const [, trust] = hookEntryChecks({ root, wouldInstall });
    expect(trust).toMatchObject({ status: 'fail', fix: { debian: `chmod go-w ${s.env.PASSTHRU_STATE_DIR}` } });
    const r = passthru(['doctor', '--json'], { PASSTHRU_ROOT: root });
    const report = JSON.parse(r.stdout) as { checks: { id: string; status: string; detail: string }[] };
    expect(report.checks.find((c) => c.id === 'hook-trust')).toMatchObject({ status: 'fail' });
    expect(report.checks.find((c) => c.id === 'hook-entry')).toMatchObject({ status: 'pass' });
  });

  it('a qemu.d/passthru someone else wrote is named and left unchecked', () => {
    const root = freshRoot();
    write(root, '#!/bin/sh\nexit 0\n');
    expect(hookEntryChecks({ root, wouldInstall })).toEqual([
      expect.objectContaining({ id: 'hook-entry', status: 'warn', detail: expect.stringMatching(/not written by/) }),
    ]);
  });
});
