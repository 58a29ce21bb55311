// The pure parts of hot-plug and of the migrate/restore filter: what an attach adds, which device a
// detach selector names, our metadata as `virsh metadata --set` takes it, and where an arriving
// domain's mdevs go.
import { describe, expect, it } from 'vitest';
import { addedPassthrough, holdsBeyond, holdsWithout } from '../../src/plan/hotplug.js';
import { relocateMdevs, migrationNotes } from '../../src/plan/migrate.js';
import { deviceFragments, fragmentMatches } from '../../src/xml/device-fragments.js';
import { metadataOf } from '../../src/exec/libvirt-domain.js';
import { parsePciAddress } from '../../src/pci/address.js';
import { dev, domain, snapshot } from './plan-helpers.js';

const M1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const M2 = 'aaaaaaaa-0000-4000-8000-000000000002';

describe('addedPassthrough', () => {
  it('keeps only the devices (and their metadata) the edits added', () => {
    const before = domain({
      hostdevs: [['0000:01:00.0', true]],
      mdevs: [M1],
      metadata: { mdevs: [{ uuid: M1, type: 't' }] },
    });
    const after = domain({
      hostdevs: [
        ['0000:01:00.0', true],
        ['0000:02:00.0', true],
      ],
      ifaces: [['0000:03:10.0', true]],
      mdevs: [M1, M2],
      metadata: {
        mdevs: [
          { uuid: M1, type: 't' },
          { uuid: M2, type: 't', parent: '0000:00:02.0' },
        ],
        vfs: [{ address: parsePciAddress('0000:03:10.0'), trust: true }, { address: parsePciAddress('0000:01:00.0') }],
        pfs: [{ dev: 'eth0', vfs: 4 }],
      },
    });
    const a = addedPassthrough(before, after);
    expect(a.pciHostdevs.map((h) => h.address.bus)).toEqual([2]);
    expect(a.hostdevInterfaces).toHaveLength(1);
    expect(a.mdevHostdevs.map((m) => m.uuid)).toEqual([M2]);
    expect(a.metadata.mdevs.map((m) => m.uuid)).toEqual([M2]);
    expect(a.metadata.vfs).toHaveLength(1);
    expect(a.metadata.pfs).toEqual([]);
  });

  it('holds: what an attach adds beyond the domain, and taking it away again', () => {
    const base = {
      groups: [1],
      devices: ['0000:01:00.0'],
      mdevs: [],
      pfs: [{ pf: '0000:03:00.0', vfs: 2, original: 0 }],
    };
    const plan = { groups: [1, 3], devices: ['0000:01:00.0', '0000:02:00.0'], mdevs: [M1], pfs: [] };
    const extra = holdsBeyond(base, plan);
    expect(extra).toEqual({ groups: [3], devices: ['0000:02:00.0'], mdevs: [M1], pfs: [] });
    expect(holdsWithout({ ...base, groups: [1, 3], devices: [...plan.devices], mdevs: [M1] }, extra)).toEqual(base);
  });
});

const XML = `<domain type='kvm'>
  <name>vm</name>
  <devices>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source>
        <address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/>
      </source>
    </hostdev>
    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>
      <source>
        <address uuid='${M1.toUpperCase()}'/>
      </source>
    </hostdev>
    <interface type='hostdev' managed='yes'>
      <mac address='52:54:00:AA:00:01'/>
      <source>
        <address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x0'/>
      </source>
    </interface>
  </devices>
</domain>
`;

describe('deviceFragments / fragmentMatches', () => {
  it('gives each device its exact bytes and host-side key', () => {
    const f = deviceFragments(XML);
    expect(f.map((x) => [x.kind, x.key, x.mac])).toEqual([
      ['pci', '0000:01:00.1', undefined],
      ['mdev', M1, undefined],
      ['interface', '0000:03:10.0', '52:54:00:aa:00:01'],
    ]);
    expect(f[0]!.xml).toBe(`${XML.split('\n').slice(3, 8).join('\n').trimStart()}\n`);
  });

  it('matches an address (full or short), a slot, a UUID and a MAC; nothing else', () => {
    const [pci, mdev, iface] = deviceFragments(XML) as [never, never, never];
    for (const s of ['0000:01:00.1', '01:00.1', '01:00', '0000:01:00']) expect(fragmentMatches(pci, s), s).toBe(true);
    for (const s of ['01:00.0', '01:0', '0000:01:00.', '1:00.1']) expect(fragmentMatches(pci, s), s).toBe(false);
    expect(fragmentMatches(mdev, M1.toUpperCase())).toBe(true);
    expect(fragmentMatches(mdev, '01:00')).toBe(false);
    expect(fragmentMatches(iface, '52:54:00:AA:00:01')).toBe(true);
  });
});

describe('metadataOf', () => {
  it('gives our container without prefix and namespace declaration, as virsh metadata --set takes it', () => {
    const xml = `<domain>\n  <metadata>\n    <p:devices xmlns:p='https://passthru.dev/xmlns/domain/1'>\n      <p:vf address='0000:03:10.0' trust='on'/>\n    </p:devices>\n  </metadata>\n  <devices/>\n</domain>\n`;
    expect(metadataOf(xml)).toBe(`<devices>\n      <vf address='0000:03:10.0' trust='on'/>\n    </devices>`);
    expect(metadataOf('<domain><devices/></domain>')).toBeUndefined();
  });
});

describe('relocateMdevs (migrate/restore filter)', () => {
  const gvt = (n: number) => [
    { id: 'i915-GVTg_V5_4', name: 'x', description: '', deviceApi: 'vfio-pci', availableInstances: n },
  ];
  const snap = snapshot([
    dev('0000:00:02.0', '030000', { mdevTypes: gvt(1) }),
    dev('0000:00:03.0', '030000', { mdevTypes: gvt(1) }),
  ]);
  const want = (parent?: string, uuid = M1) => ({ uuid, type: 'i915-GVTg_V5_4', ...(parent ? { parent } : {}) });

  it('moves an mdev whose parent is missing, or full, to a parent offering its type', () => {
    const d = domain({ mdevs: [M1, M2], metadata: { mdevs: [want('0000:09:00.0'), want('0000:00:02.0', M2)] } });
    const r = relocateMdevs(d, snap);
    // M2 stays on 00:02.0 (its one instance); M1 from the missing 09:00.0 goes where room is left
    expect(r.moves).toEqual([{ uuid: M1, type: 'i915-GVTg_V5_4', from: '0000:09:00.0', to: '0000:00:03.0' }]);
    expect(r.domain.metadata.mdevs.map((m) => m.parent)).toEqual(['0000:00:03.0', '0000:00:02.0']);
  });

  it('leaves what fits, what exists, and what no parent can take (the planner refuses that)', () => {
    expect(relocateMdevs(domain({ mdevs: [M1], metadata: { mdevs: [want('0000:00:03.0')] } }), snap).moves).toEqual([]);
    const exists = { ...snap, mdevs: { [M1]: { uuid: M1, parent: '0000:00:02.0', type: 'i915-GVTg_V5_4' } } } as never;
    expect(relocateMdevs(domain({ mdevs: [M1], metadata: { mdevs: [want('0000:09:00.0')] } }), exists).moves).toEqual(
      [],
    );
    const none = relocateMdevs(
      domain({ mdevs: [M1], metadata: { mdevs: [{ uuid: M1, type: 'nvidia-63', parent: '0000:09:00.0' }] } }),
      snap,
    );
    expect(none.moves).toEqual([]);
    expect(none.domain.metadata.mdevs[0]!.parent).toBe('0000:09:00.0');
  });

  it('notes every PCI hostdev of a migrating domain', () => {
    expect(
      migrationNotes(domain({ hostdevs: [['0000:02:00.0', true]], ifaces: [['0000:01:00.0', true]] })).map((n) =>
        n.slice(0, 12),
      ),
    ).toEqual(['0000:01:00.0', '0000:02:00.0']);
  });
});
