// The executor on an in-process host: journal before every change, undo in reverse on failure,
// recover from whatever a crash leaves, release that never hangs, VF counts shared by count.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planPrepare, type PrepareInput } from '../../src/plan/prepare.js';
import { executePrepare, newJournal, PrepareFailed, undoJournal, type ExecEnv } from '../../src/exec/run.js';
import { journalPath, listJournals, readJournalFile, writeJournal } from '../../src/exec/journal.js';
import { recover } from '../../src/exec/recover.js';
import { withDefaults } from '../../src/config/types.js';
import type { Action, OtherDomain, Plan } from '../../src/plan/types.js';
import { parsePciAddress } from '../../src/pci/address.js';
import type { DomainPassthrough } from '../../src/xml/model.js';
import { FakeHost } from './exec-fakehost.js';

const MDEV = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const VF1 = '0000:03:10.2';

function bigDomain(uuid = '11111111-2222-4333-8444-555555555555', name = 'big'): DomainPassthrough {
  return {
    name,
    uuid,
    pciHostdevs: [
      { address: parsePciAddress('0000:01:00.0'), managed: true },
      { address: parsePciAddress('0000:02:00.0'), managed: false },
      { address: parsePciAddress(VF1), managed: true },
    ],
    hostdevInterfaces: [],
    mdevHostdevs: [{ uuid: MDEV, model: 'vfio-pci' }],
    networkInterfaces: [],
    metadata: {
      mdevs: [{ uuid: MDEV, type: 'i915-GVTg_V5_4', parent: '0000:00:02.0' }],
      pfs: [{ dev: 'enp3s0', vfs: 2 }],
      vfs: [{ address: parsePciAddress(VF1), mac: '52:54:00:00:00:07', vlan: 7, trust: true }],
      vgpus: [],
    },
  };
}

let dir: string;
let lines: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'passthru-exec-'));
  lines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const envOf = (h: FakeHost, timeoutMs = 1000): ExecEnv => ({
  sysfs: h,
  netlink: h,
  stateDir: dir,
  timeoutMs,
  report: (l) => lines.push(l),
});

async function planOn(
  h: FakeHost,
  d: DomainPassthrough,
  others: OtherDomain[] = [],
  done: Action[] = [],
): Promise<Plan> {
  const snap = h.snapshot();
  const input: PrepareInput = {
    domain: d,
    snapshot: snap,
    config: withDefaults({}),
    facts: { rootDiskDevices: [], defaultRouteDevices: [], displayDevices: [], serialConsole: false },
    others,
    links: { enp3s0: await h.listVfs('enp3s0') },
    done,
  };
  return planPrepare(input);
}

async function prepare(h: FakeHost, d = bigDomain(), others: OtherDomain[] = []) {
  return executePrepare(envOf(h), await planOn(h, d, others), (done) => planOn(h, d, others, done));
}

describe('prepare and release', () => {
  it('does every step, journals it, and release puts the host back exactly', async () => {
    const h = FakeHost.workstation();
    const before = h.dump();
    const j = await prepare(h);
    expect(j.state).toBe('running');
    expect(j.actions.map((a) => [a.id, a.status])).toEqual([
      ['sriov-numvfs 0000:03:00.0', 'done'],
      [`mdev-create ${MDEV}`, 'done'],
      ['bind-vfio 0000:01:00.1', 'done'],
      ['bind-vfio 0000:01:00.2', 'done'],
      ['bind-vfio 0000:02:00.0', 'done'],
      [`vf-settings ${VF1}`, 'done'],
    ]);
    expect(readJournalFile(journalPath(dir, j.domain.uuid))).toEqual(j);
    expect(h.s.devs['0000:01:00.1']!.driver).toBe('vfio-pci');
    expect(h.s.devs['0000:01:00.0']!.driver).toBe('nouveau'); // managed='yes': libvirt's
    expect(h.s.vfs.enp3s0![1]).toMatchObject({ mac: '52:54:00:00:00:07', vlan: 7, trust: true });
    expect(h.dump()).not.toBe(before);
    const r = await undoJournal(envOf(h), j);
    expect(r.failed).toBe(0);
    expect(h.dump()).toBe(before);
    expect(readdirSync(dir).filter((n) => n.endsWith('.json'))).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('a failure at any write undoes everything, names device and step, leaves no journal', async () => {
    const probe = FakeHost.workstation();
    await prepare(probe);
    const total = probe.writes.length;
    expect(total).toBeGreaterThan(10);
    for (let k = 1; k <= total; k++) {
      const h = FakeHost.workstation();
      const before = h.dump();
      h.failAt = { n: k, code: k % 2 ? 'EIO' : 'EBUSY' };
      const err = await prepare(h).catch((e: unknown) => e);
      expect(err, `write ${k}`).toBeInstanceOf(PrepareFailed);
      const msg = (err as Error).message;
      expect(msg, `write ${k}`).toMatch(
        /^(0000:[0-9a-f:.]+|[0-9a-f-]{36}): [a-z_ 0-9]+ failed: E(IO|BUSY): injected fault.*; host restored$/,
      );
      expect(msg).not.toContain('\n');
      expect(h.dump(), `write ${k}`).toBe(before);
      expect(listJournals(dir), `write ${k}`).toEqual([]);
    }
  });

  it('a VF that does not appear after its PF count was raised fails prepare, undone', async () => {
    const h = FakeHost.workstation();
    const before = h.dump();
    h.noVfDevices = true;
    const err = await prepare(h).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrepareFailed);
    expect((err as Error).message).toBe(
      `${VF1}: not found on this host after raising its PF's sriov_numvfs; host restored`,
    );
    expect(h.dump()).toBe(before);
    expect(listJournals(dir)).toEqual([]);
  });
});

describe('recover after a crash', () => {
  it('restores from the journal a crash at any write leaves, and a second recover changes nothing', async () => {
    const probe = FakeHost.workstation();
    await prepare(probe);
    const total = probe.writes.length;
    for (let k = 1; k <= total; k++) {
      rmSync(dir, { recursive: true, force: true });
      const h = FakeHost.workstation();
      const before = h.dump();
      h.hangAt = k; // the process "dies" at write k: nothing after it happens
      void prepare(h).catch(() => {});
      await new Promise((r) => setTimeout(r, 5));
      h.hangAt = undefined;
      const entries = listJournals(dir);
      expect(entries, `write ${k}`).toHaveLength(1);
      expect(entries[0]!.journal!.state).toBe('preparing');
      const r1 = await recover(envOf(h), { all: true });
      expect(r1.domains[0]!.failed).toBe(0);
      expect(h.dump(), `write ${k}`).toBe(before);
      const writes = h.writes.length;
      const r2 = await recover(envOf(h), { all: true });
      expect(r2.domains).toEqual([]);
      expect(h.writes.length).toBe(writes);
    }
  });
  it('a journal written before its plan ran undoes to nothing: each undo checks the host first', async () => {
    // prepare journals a whole plan before its first change; a crash before some of its actions
    // ran leaves them 'pending' in the journal, and recover must then leave them alone
    const h = FakeHost.workstation();
    const before = h.dump();
    const plan = await planOn(h, bigDomain());
    expect(plan.actions.length).toBeGreaterThan(3);
    const j = newJournal(plan);
    j.actions = plan.actions.map((a) => ({ ...a, status: 'pending' }));
    writeJournal(dir, j);
    const r = await recover(envOf(h), { all: true });
    expect(r.domains[0]!.failed).toBe(0);
    expect(h.writes).toEqual([]);
    expect(h.dump()).toBe(before);
    expect(listJournals(dir)).toEqual([]);
  });
});

describe('release never hangs', () => {
  it('a stuck write times out, the rest is undone, the journal stays for recover', async () => {
    const h = FakeHost.workstation();
    const before = h.dump();
    const j = await prepare(h);
    h.hangAt = h.writes.length + 2; // the second write of the release
    const r = await undoJournal(envOf(h, 50), j);
    expect(r.failed).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^passthru: undo for 'big': 0000:[0-9a-f:.]+: .+ failed: timed out after 50 ms: /);
    expect(h.s.mdevs[MDEV]).toBeUndefined(); // later steps still ran
    expect(existsSync(journalPath(dir, j.domain.uuid))).toBe(true);
    h.hangAt = undefined;
    const rec = await recover(envOf(h), { domain: 'big' });
    expect(lines.slice(1)).toEqual([]);
    expect(rec.domains[0]!.failed).toBe(0);
    expect(h.dump()).toBe(before);
  });
});

describe('VF counts shared by count', () => {
  it('the PF keeps its VFs until the last domain that needs them is released', async () => {
    const h = FakeHost.workstation();
    const before = h.dump();
    const a: DomainPassthrough = {
      ...bigDomain('aaaaaaaa-2222-4333-8444-555555555555', 'a'),
      pciHostdevs: [],
      mdevHostdevs: [],
      metadata: { mdevs: [], vfs: [], pfs: [{ dev: 'enp3s0', vfs: 2 }], vgpus: [] },
    };
    const b: DomainPassthrough = {
      ...a,
      name: 'b',
      uuid: 'bbbbbbbb-2222-4333-8444-555555555555',
      metadata: { mdevs: [], vfs: [], pfs: [{ dev: 'enp3s0', vfs: 1 }], vgpus: [] },
    };
    const ja = await prepare(h, a);
    const others = [{ name: 'a', uuid: ja.domain.uuid, holds: ja.holds }];
    const jb = await prepare(h, b, others);
    expect(jb.holds.pfs).toEqual([{ pf: '0000:03:00.0', vfs: 1, original: 0 }]);
    await undoJournal(envOf(h), ja);
    expect(h.s.devs['0000:03:00.0']!.pf!.num).toBe(2);
    await undoJournal(envOf(h), jb);
    expect(h.s.devs['0000:03:00.0']!.pf!.num).toBe(0);
    expect(h.dump()).toBe(before);
  });
});
