// The migrate and restore filters on the simulated workstation: libvirt passes the arriving domain's
// XML; we print nothing to keep it, a new XML to change it, or exit 1 with one line naming what this
// host lacks. The host is never changed by a filter.
import { describe, expect, it } from 'vitest';
import { simHostForSuite } from '../support/simhost.js';
import { domainXml, stableUuid, type DomainSpec } from '../support/domains.js';

const GPU = '0000:01:00.0';
const IGPU = '0000:00:02.0'; // offers i915-GVTg_V5_4 (2) and _V5_8 (4)
const GVT = 'i915-GVTg_V5_4';

describe('migrate begin / restore begin filters', () => {
  const suite = simHostForSuite('workstation');

  const filter = (op: 'migrate' | 'restore', spec: DomainSpec, xml = domainXml(spec)) =>
    suite.host.hook(spec.name, 'prepare', xml, { args: [spec.name, op, 'begin', '-'] });
  const mdev = (n: string, type: string, parent?: string) => ({ uuid: stableUuid(`in:${n}`), type, parent });

  const refused: [string, DomainSpec, string][] = [
    [
      'a PCI device this host lacks',
      { name: 'in-missing', hostdevs: [{ address: '0000:0a:00.0' }] },
      '0000:0a:00.0 not found on this host',
    ],
    [
      'an mdev type no parent offers',
      { name: 'in-type', mdevs: [mdev('t', 'nvidia-63')] },
      `mdev ${stableUuid('in:t')} has no parent: no device offers mdev type 'nvidia-63' with instances left`,
    ],
    [
      'more mdevs of a type than are free',
      { name: 'in-full', mdevs: ['a', 'b', 'c'].map((k) => mdev(`full-${k}`, GVT, IGPU)) },
      `type '${GVT}' on ${IGPU} has no instances left (2 available, 3 needed)`,
    ],
    [
      'a PF without enough VFs',
      { name: 'in-pf', pfs: [{ dev: 'enp3s0f0', vfs: 9 }] },
      'PF 0000:03:00.0 has not enough VFs: 9 needed, at most 7 (sriov_totalvfs)',
    ],
    [
      'a PF this host lacks',
      { name: 'in-nopf', pfs: [{ dev: 'ens9f0', vfs: 2 }] },
      "PF 'ens9f0' not found: no such network interface on this host",
    ],
  ];
  for (const op of ['migrate', 'restore'] as const)
    for (const [what, spec, line] of refused)
      it(`${op}: refuses ${what} with one line naming it`, async () => {
        const r = await filter(op, spec);
        expect(r.code).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
        expect(r.stderr).toContain(`passthru: ${op} of '${spec.name}': refused: `);
        expect(r.stderr).toContain(line);
        expect(suite.host.state()).toBe(suite.start);
      });

  it('refuses a device another running domain holds', async () => {
    const holder: DomainSpec = { name: 'in-holder', hostdevs: [{ address: GPU }] };
    expect((await suite.host.hook(holder.name, 'prepare', domainXml(holder))).code).toBe(0);
    try {
      const r = await filter('restore', { name: 'in-gpu', hostdevs: [{ address: GPU }] });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `refused: ${GPU.replace('.', '\\.')} (is used by|shares IOMMU group 3 with devices of) running domain 'in-holder'`,
        ),
      );
    } finally {
      expect((await suite.host.hook(holder.name, 'release', domainXml(holder))).code).toBe(0);
    }
    expect(suite.host.state()).toBe(suite.start);
  });

  it('accepts what this host has, keeping the XML (no output); on migrate, notes that a PCI hostdev needs a migratable driver', async () => {
    const spec: DomainSpec = {
      name: 'in-ok',
      hostdevs: [{ address: GPU }],
      mdevs: [mdev('ok', GVT, IGPU)],
      pfs: [{ dev: 'enp3s0f0', vfs: 2 }],
    };
    const r = await filter('restore', spec);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
    const m = await filter('migrate', spec);
    expect([m.code, m.stdout]).toEqual([0, '']);
    expect(m.stderr).toBe(
      `passthru: migrate of 'in-ok': note: ${GPU} is a PCI hostdev: it migrates live only with a vfio variant driver that supports migration on both hosts; with plain vfio-pci qemu refuses to migrate it\n`,
    );
    expect(suite.host.state()).toBe(suite.start);
  });

  it('accepts a VF from a pool network (libvirt picks a free one here)', async () => {
    const xml = domainXml({ name: 'in-pool' }).replace(
      '    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n',
      `    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n    <interface type='network'>\n      <mac address='52:54:00:aa:bb:cc'/>\n      <source network='vf-pool'/>\n    </interface>\n`,
    );
    const r = await filter('migrate', { name: 'in-pool' }, xml);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
  });

  it('moves an mdev whose parent this host lacks to a parent offering its type, in the XML it prints', async () => {
    const spec: DomainSpec = { name: 'in-move', mdevs: [mdev('move', GVT, '0000:00:09.0')] };
    const xml = domainXml(spec);
    const r = await filter('migrate', spec, xml);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(xml.replace(`parent='0000:00:09.0'`, `parent='${IGPU}'`));
    expect(r.stderr).toBe(
      `passthru: migrate of 'in-move': mdev ${stableUuid('in:move')} of type ${GVT} goes on ${IGPU} (0000:00:09.0 cannot take it here)\n`,
    );
    // what prepare then gets is a domain this host starts
    expect((await suite.host.hook(spec.name, 'prepare', r.stdout)).code).toBe(0);
    expect((await suite.host.hook(spec.name, 'release', r.stdout)).code).toBe(0);
    expect(suite.host.state()).toBe(suite.start);
  });
});
