// `passthru list` shows each VF's settings as its PF driver reports them (NetLink: `ip -j -d link
// show dev PF` on a host, the simulator here), the domain that holds it, and `--filter` takes a PF's
// interface name. On a materialized tree the real `ip` is asked about netdevs this machine lacks: the
// listing still comes whole, says which PF's settings are missing, and exits 1.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimKernel } from '../../src/sim/kernel.js';
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
import { materialize } from '../../src/sim/materialize.js';
import { writeSimFile } from '../../src/sim/persist.js';
import { ensureStateDir, JOURNAL_SCHEMA, writeJournal } from '../../src/exec/journal.js';
import type { Listing } from '../../src/host/listing.js';
import { parseListFilter } from '../../src/host/list-filter.js';
import type { SimHostState } from '../../src/sim/state.js';
import { dist, nodeBin } from '../support/paths.js';

const PF = '0000:3b:00.0'; // i40e, ens1f0, 8 VFs in the server fixture
const VF2 = '0000:3b:02.2';

async function serverFile(dir: string): Promise<string> {
  const file = join(dir, 'host.json');
  writeSimFile(file, hostFromFixture(structuredClone(EMBEDDED_FIXTURES.server) as SimHostState));
  const k = SimKernel.load(file, {});
  await k.setVf('ens1f0', 2, {
    mac: '52:54:00:aa:bb:02',
    vlan: 100,
    qos: 3,
    trust: true,
    spoofchk: false,
    state: 'enable',
    minRate: 10,
    maxRate: 1000,
  });
  return file;
}

function list(env: NodeJS.ProcessEnv, args: string[]) {
  return spawnSync(nodeBin, [dist.passthru, 'list', ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', ...env },
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
}

describe('passthru list: VF settings and holders', () => {
  it('shows a VF’s MAC, VLAN, qos, trust, spoofchk, link state and rates in text and --json, and who holds it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'passthru-list-vf-'));
    try {
      const sim = await serverFile(dir);
      const state = join(dir, 'state');
      ensureStateDir(state);
      writeJournal(state, {
        schema: JOURNAL_SCHEMA,
        domain: { name: 'router', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fb2' },
        state: 'running',
        pid: 1,
        updated: '',
        holds: { groups: [], devices: [VF2], mdevs: [], pfs: [] },
        actions: [],
      });
      const env = { PASSTHRU_SIM: sim, PASSTHRU_STATE_DIR: state };
      const text = list(env, []);
      expect([text.status, text.stderr]).toEqual([0, '']);
      const lines = text.stdout.split('\n');
      const at = lines.findIndex((l) => l.includes(VF2));
      expect(lines[at]).toMatch(/VF 2 of 0000:3b:00\.0; used by router$/);
      expect(lines[at + 1]!.trim()).toBe(
        'link/ether 52:54:00:aa:bb:02, vlan 100, qos 3, spoof checking off, link-state enable, trust on, max_tx_rate 1000Mbps, min_tx_rate 10Mbps',
      );
      // a VF left as it came: vlan, qos and rates of 0 are not printed, as `ip link` does not
      expect(lines[lines.findIndex((l) => l.includes('0000:3b:02.3')) + 1]!.trim()).toBe(
        'link/ether 00:00:00:00:00:00, spoof checking on, link-state auto, trust off',
      );
      const json = JSON.parse(list(env, ['--json']).stdout) as Listing;
      const row = json.devices.find((d) => d.address === VF2)!;
      expect(row.vfState).toEqual({
        mac: '52:54:00:aa:bb:02',
        vlan: 100,
        qos: 3,
        spoofchk: false,
        trust: true,
        state: 'enable',
        minRate: 10,
        maxRate: 1000,
      });
      expect(row.usedBy).toEqual(['router']);
      expect(json.devices.find((d) => d.address === PF)!.vfState).toBeUndefined(); // a PF row has none
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--filter takes a PF interface name: the PF and its VFs match; unknown names are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'passthru-list-vf-'));
    try {
      const env = { PASSTHRU_SIM: await serverFile(dir), PASSTHRU_STATE_DIR: join(dir, 'state') };
      const r = list(env, ['--json', '--filter', 'ens1f0']);
      expect(r.status).toBe(0);
      const l = JSON.parse(r.stdout) as Listing;
      expect(l.devices.filter((d) => d.matched).map((d) => d.address)).toEqual([
        '0000:3b:02.0',
        '0000:3b:02.1',
        VF2,
        '0000:3b:02.3',
        '0000:3b:02.4',
        '0000:3b:02.5',
        '0000:3b:02.6',
        '0000:3b:02.7',
        PF,
      ]);
      expect(l.devices.every((d) => d.matched)).toBe(true); // each alone in its group here
      expect(l.devices.find((d) => d.address === VF2)!.vfState?.vlan).toBe(100);
      // a name and an lspci term in one comma list: either may match
      const both = JSON.parse(list(env, ['--json', '--filter', 'ens3f0np0,10de:1eb8']).stdout) as Listing;
      expect(both.devices.map((d) => d.address)).toEqual([
        '0000:5e:00.2',
        '0000:5e:00.3',
        '0000:5e:00.4',
        '0000:5e:00.5',
        '0000:5e:00.0',
        '0000:af:00.0',
      ]);
      const bad = list(env, ['--filter', 'ens9']);
      expect(bad.status).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toContain("no PCI device has the network interface 'ens9'");
      const odd = list(env, ['--filter', 'ens1f0/../x']);
      expect(odd.status).toBe(2);
      expect(odd.stderr).toContain("invalid filter 'ens1f0/../x'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses a comma list into lspci terms and interface names', () => {
    expect(parseListFilter('10de::0300,ens1f0')).toEqual({
      pci: [{ vendor: 0x10de, classValue: 0x0300, classMask: 0xffff, text: '10de::0300' }],
      netdevs: ['ens1f0'],
    });
    expect(parseListFilter('eno1')).toEqual({ pci: [], netdevs: ['eno1'] });
    expect(() => parseListFilter('ens1f0,')).toThrow(/invalid device filter/);
  });

  it('on a tree whose PF netdevs this machine lacks, the real ip fails: listed whole, the PF named on stderr, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'passthru-list-vf-'));
    try {
      const root = join(dir, 'root');
      await materialize(SimKernel.load(await serverFile(dir), {}), root);
      const r = list({ PASSTHRU_ROOT: root, PASSTHRU_STATE_DIR: join(dir, 'state') }, ['--json']);
      expect(r.status).toBe(1);
      const l = JSON.parse(r.stdout) as Listing;
      expect(l.devices.find((d) => d.address === VF2)).toMatchObject({ vf: { pf: PF, index: 2 } });
      expect(l.devices.some((d) => d.vfState)).toBe(false);
      const err = r.stderr.trim().split('\n');
      expect(err).toHaveLength(2); // ens1f0 and ens3f0np0, one line each
      expect(err[0]).toMatch(/^passthru: VF settings of ens1f0 not shown: /);
      expect(err[1]).toMatch(/^passthru: VF settings of ens3f0np0 not shown: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
