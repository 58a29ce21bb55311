// Fixtures against schemas/host.schema.json (ajv), the synthetic generator, `ip` output parsing and
// openHost's choice of host.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv';
import { generateHost } from '../../src/sim/generate.js';
import { hostFromFixture, checkFixture, loadFixture } from '../../src/sim/fixture.js';
import { SimKernel } from '../../src/sim/kernel.js';
import { writeSimFile } from '../../src/sim/persist.js';
import { parseVfInfo, vfSetArgs, IpCommand } from '../../src/host/ip-command.js';
import { VF_DEFAULTS } from '../../src/host/netlink.js';
import { LazyIpCommand, openHost } from '../../src/host/open.js';
import { NodeSysfs } from '../../src/host/node-sysfs.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const Ajv = ((AjvModule as unknown as { default?: unknown }).default ??
  AjvModule) as unknown as typeof AjvModule.default;
const validate = new Ajv({ strict: false }).compile(
  JSON.parse(readFileSync(join(repo, 'schemas', 'host.schema.json'), 'utf8')),
);

describe('host fixtures', () => {
  it('every fixture and every sim file made from it validates against the schema', () => {
    const names = readdirSync(join(repo, 'fixtures', 'hosts')).filter((f) => f.endsWith('.json'));
    expect(names).toEqual(expect.arrayContaining(['server.json', 'workstation.json']));
    for (const n of names) {
      const doc = JSON.parse(readFileSync(join(repo, 'fixtures', 'hosts', n), 'utf8'));
      expect(validate(doc), `${n}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(validate(hostFromFixture(doc)), `${n} as sim: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(validate(hostFromFixture(generateHost(50)))).toBe(true);
  });

  it('the schema rejects bad addresses, names and extra fields', async () => {
    const ws = JSON.parse(readFileSync(join(repo, 'fixtures', 'hosts', 'workstation.json'), 'utf8'));
    const bad = [
      (d: any) => (d.devices[0].address = '0000:00:20.0'),
      (d: any) => (d.devices[0].driver = '../evil'),
      (d: any) => (d.devices[0].colour = 'red'),
      (d: any) => (d.files = { '/etc/passwd': 'x' }),
      (d: any) => (d.mdevs = [{ uuid: 'nope', parent: 'x', type: 't' }]),
    ];
    for (const mut of bad) {
      const d = structuredClone(ws);
      mut(d);
      expect(validate(d)).toBe(false);
      await expect(checkFixture(d, 'x.json')).rejects.toThrow(/host fixture x\.json: /);
    }
    const dup = structuredClone(ws);
    dup.devices.push(structuredClone(dup.devices[0]));
    await expect(checkFixture(dup, 'dup.json')).rejects.toThrow(/appears twice/);
    await expect(loadFixture('laptop')).rejects.toThrow(
      /unknown host fixture 'laptop' \(built in: workstation, server/,
    );
  });

  it('the workstation has what the hook must protect and share', () => {
    const h = hostFromFixture(JSON.parse(readFileSync(join(repo, 'fixtures', 'hosts', 'workstation.json'), 'utf8')));
    const groupOf = (a: string) => h.devices.find((d) => d.address === a)!.iommuGroup;
    expect(groupOf('0000:01:00.0')).toBe(groupOf('0000:01:00.1')); // GPU + audio
    expect(groupOf('0000:04:00.0')).toBe(groupOf('0000:00:1c.0')); // USB behind its bridge
    expect(h.rootDisk).toMatchObject({ device: '0000:02:00.0' });
    expect(h.defaultRouteNetdev).toBe('eno1');
  });
});

describe('generateHost', () => {
  it('makes exactly N devices, deterministic, unique addresses, VFs that fit', async () => {
    const a = generateHost(1234);
    expect(a.devices).toHaveLength(1234);
    expect(JSON.stringify(generateHost(1234))).toBe(JSON.stringify(a));
    expect(new Set(a.devices.map((d) => d.address)).size).toBe(1234);
    const k = new SimKernel(hostFromFixture(a));
    const pfs = a.devices.filter((d) => d.sriov).slice(0, 3);
    for (const pf of pfs) await k.write(`sys/bus/pci/devices/${pf.address}/sriov_numvfs`, '7');
    expect(k.state.devices.length).toBe(1234 + 21);
    expect(() => generateHost(0)).toThrow(/1\.\.500000/);
  });
});

describe('ip command', () => {
  it('parses vfinfo_list (vlan_list and flat forms)', () => {
    const json = JSON.stringify([
      {
        ifname: 'enp3s0f0',
        vfinfo_list: [
          {
            vf: 1,
            address: '52:54:00:AA:BB:01',
            vlan_list: [{ vlan: 10, qos: 2 }],
            rate: { max_tx: 100, min_tx: 10 },
            spoofchk: false,
            link_state: 'enable',
            trust: true,
          },
          { vf: 0, mac: '00:00:00:00:00:00', spoofchk: true, link_state: 'auto', trust: false },
        ],
      },
    ]);
    expect(parseVfInfo(json)).toEqual([
      { index: 0, ...VF_DEFAULTS }, // VF 0 as the kernel starts it

      {
        index: 1,
        mac: '52:54:00:aa:bb:01',
        vlan: 10,
        qos: 2,
        spoofchk: false,
        trust: true,
        state: 'enable',
        minRate: 10,
        maxRate: 100,
      },
    ]);
    expect(parseVfInfo('[{"ifname":"eth0"}]')).toEqual([]);
  });

  it('builds ip link set arguments for exactly the given fields', () => {
    expect(
      vfSetArgs('enp3s0f0', 2, {
        mac: '52:54:00:00:00:01',
        vlan: 5,
        qos: 1,
        trust: true,
        spoofchk: false,
        state: 'disable',
        minRate: 0,
        maxRate: 500,
      }),
    ).toEqual([
      'link',
      'set',
      'dev',
      'enp3s0f0',
      'vf',
      '2',
      'mac',
      '52:54:00:00:00:01',
      'vlan',
      '5',
      'qos',
      '1',
      'spoofchk',
      'off',
      'trust',
      'on',
      'state',
      'disable',
      'min_tx_rate',
      '0',
      'max_tx_rate',
      '500',
    ]);
    expect(vfSetArgs('eth0', 0, { trust: false })).toEqual(['link', 'set', 'dev', 'eth0', 'vf', '0', 'trust', 'off']);
  });

  it('refuses hostile interface names before running anything', async () => {
    const ip = new IpCommand(1000, '/nonexistent/ip');
    for (const n of ['../x', 'a b', '', 'x'.repeat(16), 'eth0;rm'])
      await expect(ip.listVfs(n)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(ip.setVf('eth0', -1, { trust: true })).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('openHost', () => {
  it('PASSTHRU_SIM opens the simulator; otherwise NodeSysfs under PASSTHRU_ROOT with ip', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'passthru-open-')), 'h.json');
    writeSimFile(file, hostFromFixture(generateHost(3)));
    const s = await openHost({ PASSTHRU_SIM: file });
    expect(s.kind).toBe('sim');
    expect(s.sim).toBeInstanceOf(SimKernel);
    expect(s.sysfs).toBe(s.sim);
    expect(await s.sysfs.list('sys/bus/pci/devices')).toHaveLength(3);
    const r = await openHost({ PASSTHRU_ROOT: '/tmp/some-root' });
    expect(r.kind).toBe('real');
    expect(r.root).toBe('/tmp/some-root');
    expect(r.sysfs).toBeInstanceOf(NodeSysfs);
    // ip (execa) is loaded on the first VF call; it answers as IpCommand does
    expect(r.netlink).toBeInstanceOf(LazyIpCommand);
    await expect(r.netlink.listVfs('eth0;rm')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(r.netlink.setVf('eth0', -1, { trust: true })).rejects.toMatchObject({ code: 'EINVAL' });
    expect((await openHost({})).root).toBe('/');
  });
});
