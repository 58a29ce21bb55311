// hooks/qemu (sh) and src/exec/state-dir.ts (node) spell the same rule for where the journals and the
// host-wide lock live. If they ever disagree, the sh entry locks one file while `passthru recover`
// or `status` look in another directory: run the real entry with each combination of variables and
// check that the lock it takes is in the directory node computes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { renderHookEntry } from '../../src/hook/entry-template.js';
import { LOCK_FILE, stateDirFor } from '../../src/exec/state-dir.js';

const template = readFileSync(join(__dirname, '..', '..', 'hooks', 'qemu'), 'utf8');
const hostdevXml = `<domain type='kvm'><name>g</name><devices><hostdev mode='subsystem' type='pci'/></devices></domain>\n`;
let dir: string;
let fakeNode: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'passthru-statedir-'));
  fakeNode = join(dir, 'fake-node');
  writeFileSync(fakeNode, '#!/bin/sh\ncat >/dev/null\nexit 0\n');
  chmodSync(fakeNode, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// every combination is rooted in the temp dir: the unrooted default (/run/passthru) is never touched
const cases: [string, Record<string, string>][] = [
  ['PASSTHRU_STATE_DIR alone', { PASSTHRU_STATE_DIR: 'explicit' }],
  [
    'PASSTHRU_STATE_DIR wins over PASSTHRU_SIM and PASSTHRU_ROOT',
    { PASSTHRU_STATE_DIR: 'explicit2', PASSTHRU_SIM: 'host.json', PASSTHRU_ROOT: 'root' },
  ],
  ['PASSTHRU_SIM alone', { PASSTHRU_SIM: 'sim host.json' }],
  ['PASSTHRU_SIM wins over PASSTHRU_ROOT', { PASSTHRU_SIM: 'host2.json', PASSTHRU_ROOT: 'root2' }],
  ['PASSTHRU_ROOT alone', { PASSTHRU_ROOT: 'root3' }],
];

describe('hooks/qemu and stateDirFor agree on the state directory', () => {
  it.each(cases)('%s', (_name, rel) => {
    const env = Object.fromEntries(Object.entries(rel).map(([k, v]) => [k, join(dir, v)]));
    const entry = join(dir, `qemu-${Object.values(rel).join('-').replace(/\W/g, '_')}`);
    writeFileSync(entry, renderHookEntry(template, { node: fakeNode, hookJs: join(dir, 'hook.js'), env }));
    chmodSync(entry, 0o755);
    const r = spawnSync(entry, ['g', 'prepare', 'begin', '-'], {
      input: hostdevXml,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const expected = join(stateDirFor(env), LOCK_FILE);
    expect(expected.startsWith(dir)).toBe(true);
    expect(existsSync(expected)).toBe(true);
  });
});
