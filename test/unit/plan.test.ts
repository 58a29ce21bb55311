import { describe, expect, it } from 'vitest';
import { planPrepare } from '../../src/plan/prepare.js';
import { predictVfAddress } from '../../src/plan/prepare-pfs.js';
import { planPoolVfs } from '../../src/plan/pool.js';
import { formatPlan } from '../../src/plan/format.js';
import { withDefaults } from '../../src/config/types.js';
import type { Plan } from '../../src/plan/types.js';
import { InputError } from '../../src/errors.js';
import {
  dev,
  domain,
  input,
  snapshot,
  vfInfo,
  refusal,
  otherDomain,
  sriovNic,
  GPU,
  AUDIO,
  PORT,
  USB,
  PF,
  VF0,
  VF1,
  IGPU,
  MDEV,
  MDEV2,
} from './plan-helpers.js';

// A workstation-like host: GPU + its audio function in group 1 behind a root port (group 1 too),
// a USB controller alone, an SR-IOV NIC with two existing VFs, an mdev-capable iGPU.

function host(over: { pfNumVfs?: number; audioDriver?: string | undefined; instances?: number } = {}) {
  const numVfs = over.pfNumVfs ?? 2;
  return snapshot([
    dev(PORT, '060400', { driver: 'pcieport', iommuGroup: 1 }),
    dev(GPU, '030000', { driver: 'nouveau', iommuGroup: 1, vendor: '10de' }),
    dev(AUDIO, '040300', {
      driver: 'audioDriver' in over ? over.audioDriver : 'snd_hda_intel',
      iommuGroup: 1,
      vendor: '10de',
    }),
    dev(USB, '0c0330', { driver: 'xhci_hcd', iommuGroup: 2 }),
    ...sriovNic(PF, [VF0, VF1], numVfs, ['ixgbe', 'ixgbevf']),
    dev(IGPU, '030000', {
      driver: 'i915',
      iommuGroup: 4,
      bootVga: true,
      mdevTypes: [{ id: 'i915-GVTg_V5_4', availableInstances: over.instances ?? 1 }],
    }),
  ]);
}

const links = { enp3s0f0: [vfInfo(0, '02:00:00:00:00:01'), vfInfo(1, '02:00:00:00:00:02')] };

const ids = (p: Plan): string[] => p.actions.map((a) => a.id);

/** The vf-set step for VF0 (index 0 of enp3s0f0) with these settings. */
const vf0Set = (settings: Record<string, unknown>) => ({
  op: 'vf-set',
  pfNetdev: 'enp3s0f0',
  index: 0,
  vf: VF0,
  settings,
});

/** An mtty parent offering its two types, `one` and `two` instances available. */
const mttyPool = (one: number, two: number) => ({
  mtty: [
    { id: 'mtty-1', availableInstances: one },
    { id: 'mtty-2', availableInstances: two },
  ],
});

/** Metadata for MDEV (mtty-1 on mtty) and MDEV2 (mtty-2, with `second`'s parent if it names one). */
const mttyPair = (second: { parent?: string }) => ({
  mdevs: [
    { uuid: MDEV, type: 'mtty-1', parent: 'mtty' },
    { uuid: MDEV2, type: 'mtty-2', ...second },
  ],
});

describe('IOMMU group peers', () => {
  it('binds a peer on a host driver to vfio-pci, remembering the driver, and never touches the root port', () => {
    const plan = planPrepare(input(domain({ hostdevs: [[GPU, true]] }), host()));
    expect(ids(plan)).toEqual([`bind-vfio ${AUDIO}`]);
    const a = plan.actions[0]!;
    expect(a.do).toEqual([
      { op: 'load-driver', driver: 'vfio-pci' },
      { op: 'driver-override', device: AUDIO, value: 'vfio-pci' },
      { op: 'unbind', device: AUDIO, keep: 'vfio-pci' },
      { op: 'probe', device: AUDIO, unless: 'vfio-pci' },
      { op: 'expect-driver', device: AUDIO, driver: 'vfio-pci' },
    ]);
    expect(a.undo).toEqual([
      { op: 'driver-override', device: AUDIO, value: null },
      { op: 'unbind', device: AUDIO, keep: 'snd_hda_intel' },
      { op: 'probe', device: AUDIO, unless: 'snd_hda_intel' },
      { op: 'expect-driver', device: AUDIO, driver: 'snd_hda_intel' },
    ]);
    expect(plan.holds.groups).toEqual([1]);
    expect(plan.holds.devices).toEqual([GPU, AUDIO].sort());
    expect(plan.holds.devices).not.toContain(PORT);
  });

  it('leaves a peer already on vfio-pci or with no driver as it is', () => {
    expect(ids(planPrepare(input(domain({ hostdevs: [[GPU, true]] }), host({ audioDriver: 'vfio-pci' }))))).toEqual([]);
    expect(ids(planPrepare(input(domain({ hostdevs: [[GPU, true]] }), host({ audioDriver: undefined }))))).toEqual([]);
  });

  it('does not bind a peer that the domain assigns itself (managed=yes: libvirt does it)', () => {
    expect(
      ids(
        planPrepare(
          input(
            domain({
              hostdevs: [
                [GPU, true],
                [AUDIO, true],
              ],
            }),
            host(),
          ),
        ),
      ),
    ).toEqual([]);
  });

  it('binds a managed=no assigned device itself, and not one already on vfio-pci', () => {
    const plan = planPrepare(input(domain({ hostdevs: [[USB, false]] }), host()));
    expect(ids(plan)).toEqual([`bind-vfio ${USB}`]);
    expect(plan.actions[0]!.why).toContain('managed=no');
    const onVfio = host();
    onVfio.devices[USB]!.driver = 'vfio-pci';
    expect(ids(planPrepare(input(domain({ hostdevs: [[USB, false]] }), onVfio)))).toEqual([]);
  });

  it('restores a driver_override that was set before', () => {
    const s = host();
    s.devices[AUDIO]!.driverOverride = 'snd_hda_intel';
    const plan = planPrepare(input(domain({ hostdevs: [[GPU, true]] }), s));
    expect(plan.actions[0]!.undo[0]).toEqual({ op: 'driver-override', device: AUDIO, value: 'snd_hda_intel' });
  });
});

describe('refusals before any change', () => {
  it('refuses a group used by another running domain, naming device, group and domain', () => {
    const other = otherDomain('win10', { groups: [1], devices: [AUDIO] });
    const r = refusal(() => planPrepare(input(domain({ hostdevs: [[GPU, true]] }), host(), { others: [other] })));
    expect(r.message).toBe(`refused: ${GPU} shares IOMMU group 1 with devices of running domain 'win10'`);
  });

  it('refuses a missing device', () => {
    expect(refusal(() => planPrepare(input(domain({ hostdevs: [['0000:09:00.0', true]] }), host()))).message).toBe(
      'refused: 0000:09:00.0 not found on this host',
    );
  });

  it('refuses a device without IOMMU group', () => {
    const s = host();
    delete s.devices[USB]!.iommuGroup;
    expect(refusal(() => planPrepare(input(domain({ hostdevs: [[USB, true]] }), s))).message).toContain(
      'has no IOMMU group',
    );
  });

  it('refuses devices protected by the configuration: address, slot and filter forms', () => {
    for (const entry of [USB, '02:00', '02:00.0', '::0c03', '8086:1234:0c03:30', '*:*:0cxx', '8086:*:0c03:*']) {
      const r = refusal(() =>
        planPrepare(
          input(domain({ hostdevs: [[USB, true]] }), host(), { config: withDefaults({ protected: [entry] }) }),
        ),
      );
      expect(r.message).toBe(
        `refused: ${USB} is protected by the configuration ('${entry}'; override: remove it from "protected")`,
      );
    }
  });

  it('refuses a peer that is protected, saying whose peer it is', () => {
    const r = refusal(() =>
      planPrepare(input(domain({ hostdevs: [[GPU, true]] }), host(), { config: withDefaults({ protected: [AUDIO] }) })),
    );
    expect(r.message).toContain(`${AUDIO} (IOMMU group peer of ${GPU}) is protected`);
  });

  it('refuses the root disk controller and the default-route NIC unless turned off', () => {
    const facts = { rootDiskDevices: [PORT, USB], defaultRouteDevices: [PF], displayDevices: [], serialConsole: false };
    expect(refusal(() => planPrepare(input(domain({ hostdevs: [[USB, true]] }), host(), { facts }))).message).toContain(
      'root file system',
    );
    expect(refusal(() => planPrepare(input(domain({ hostdevs: [[PF, true]] }), host(), { facts }))).message).toContain(
      'default route',
    );
    const off = withDefaults({ autoProtect: { rootDisk: false } });
    expect(ids(planPrepare(input(domain({ hostdevs: [[USB, true]] }), host(), { facts, config: off })))).toEqual([]);
  });

  it('refuses the boot VGA when the host has no other display or serial console', () => {
    const alone = { rootDiskDevices: [], defaultRouteDevices: [], displayDevices: [IGPU, GPU], serialConsole: false };
    const both = domain({
      hostdevs: [
        [IGPU, true],
        [GPU, true],
      ],
    });
    // the other display (GPU) is taken by the same domain: no console left
    expect(refusal(() => planPrepare(input(both, host(), { facts: alone }))).message).toContain('boot VGA');
    // the other display stays with the host
    expect(() => planPrepare(input(domain({ hostdevs: [[IGPU, true]] }), host(), { facts: alone }))).not.toThrow();
    // a serial console is a console
    expect(() => planPrepare(input(both, host(), { facts: { ...alone, serialConsole: true } }))).not.toThrow();
  });

  it('refuses a device assigned to another running domain (no group needed)', () => {
    const other = otherDomain('db', { devices: [USB] });
    expect(
      refusal(() => planPrepare(input(domain({ hostdevs: [[USB, true]] }), host(), { others: [other] }))).message,
    ).toBe(`refused: ${USB} is used by running domain 'db'`);
  });

  it('rejects a domain without UUID as bad input', () => {
    const d = domain({ hostdevs: [[USB, true]] });
    delete d.uuid;
    expect(() => planPrepare(input(d, host()))).toThrow(InputError);
  });
});

describe('PF VF counts', () => {
  const pfMeta = (vfs: number) => ({ pfs: [{ dev: 'enp3s0f0', vfs }] });

  it('raises the count (the executor goes through 0) and restores the original on release', () => {
    const plan = planPrepare(input(domain({ metadata: pfMeta(4) }), host({ pfNumVfs: 0 })));
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]!.do).toEqual([{ op: 'sriov-numvfs', pf: PF, count: 4 }]);
    expect(plan.actions[0]!.undo).toEqual([{ op: 'sriov-release', pf: PF, count: 0 }]);
    expect(plan.holds.pfs).toEqual([{ pf: PF, vfs: 4, original: 0 }]);
  });

  it('records the need without writing when the PF already has enough', () => {
    const plan = planPrepare(input(domain({ metadata: pfMeta(2) }), host({ pfNumVfs: 2 })));
    expect(plan.actions[0]!.do).toEqual([]);
    expect(plan.actions[0]!.undo).toEqual([{ op: 'sriov-release', pf: PF, count: 2 }]);
  });

  it('shares by count: a second domain records the original count of the first', () => {
    const first = otherDomain('a', { pfs: [{ pf: PF, vfs: 2, original: 0 }] });
    const plan = planPrepare(input(domain({ metadata: pfMeta(1) }), host({ pfNumVfs: 2 }), { others: [first] }));
    expect(plan.holds.pfs).toEqual([{ pf: PF, vfs: 1, original: 0 }]);
    expect(plan.actions[0]!.undo).toEqual([{ op: 'sriov-release', pf: PF, count: 0 }]);
  });

  it('refuses to raise a count whose VFs another running domain uses', () => {
    const first = otherDomain('a', { pfs: [{ pf: PF, vfs: 2, original: 0 }] });
    expect(
      refusal(() => planPrepare(input(domain({ metadata: pfMeta(4) }), host({ pfNumVfs: 2 }), { others: [first] })))
        .message,
    ).toContain("in use by running domain 'a'");
  });

  it('refuses to raise a count while a VF is bound to vfio-pci', () => {
    const s = host({ pfNumVfs: 2 });
    s.devices[VF1]!.driver = 'vfio-pci';
    expect(refusal(() => planPrepare(input(domain({ metadata: pfMeta(4) }), s))).message).toContain(
      `${VF1} is bound to vfio-pci`,
    );
  });

  it('refuses a PF without enough VFs, and an unknown PF', () => {
    expect(refusal(() => planPrepare(input(domain({ metadata: pfMeta(9) }), host()))).message).toBe(
      `refused: PF ${PF} has not enough VFs: 9 needed, at most 8 (sriov_totalvfs)`,
    );
    expect(
      refusal(() => planPrepare(input(domain({ metadata: { pfs: [{ dev: 'eth9', vfs: 1 }] } }), host()))).message,
    ).toContain("PF 'eth9'");
  });

  it('defers devices that appear only once the VFs exist, predicting their addresses', () => {
    const s = host({ pfNumVfs: 0 });
    expect(predictVfAddress(s.devices[PF]!, 0)).toBe(VF0);
    expect(predictVfAddress(s.devices[PF]!, 1)).toBe(VF1);
    const plan = planPrepare(
      input(
        domain({
          hostdevs: [[VF1, true]],
          metadata: { ...pfMeta(2), vfs: [{ address: { domain: 0, bus: 3, slot: 0x10, function: 2 }, trust: true }] },
        }),
        s,
      ),
    );
    expect(ids(plan)).toEqual([`sriov-numvfs ${PF}`]);
    expect(plan.deferred).toEqual([VF1]);
    // a second pass on the host with VFs skips what is journaled and plans the VF settings
    const again = planPrepare(
      input(
        domain({
          hostdevs: [[VF1, true]],
          metadata: { ...pfMeta(2), vfs: [{ address: { domain: 0, bus: 3, slot: 0x10, function: 2 }, trust: true }] },
        }),
        host(),
        { links, done: plan.actions },
      ),
    );
    expect(ids(again)).toEqual([`vf-settings ${VF1}`]);
    expect(again.deferred).toEqual([]);
  });
});

describe('mdevs', () => {
  it('creates an mdev from the metadata after checking instances; removes it on undo', () => {
    const plan = planPrepare(
      input(
        domain({ mdevs: [MDEV], metadata: { mdevs: [{ uuid: MDEV, type: 'i915-GVTg_V5_4', parent: IGPU }] } }),
        host(),
      ),
    );
    expect(plan.actions.map((a) => [a.do, a.undo])).toEqual([
      [[{ op: 'mdev-create', parent: IGPU, type: 'i915-GVTg_V5_4', uuid: MDEV }], [{ op: 'mdev-remove', uuid: MDEV }]],
    ]);
    expect(plan.holds.mdevs).toEqual([MDEV]);
  });

  it('finds a parent when the metadata names none, and uses an mdevctl definition when there is no metadata', () => {
    const p1 = planPrepare(
      input(domain({ mdevs: [MDEV], metadata: { mdevs: [{ uuid: MDEV, type: 'i915-GVTg_V5_4' }] } }), host()),
    );
    expect(p1.actions[0]!.do[0]).toMatchObject({ parent: IGPU });
    const p2 = planPrepare(
      input(domain({ mdevs: [MDEV] }), host(), {
        mdevDefinitions: [{ uuid: MDEV, type: 'i915-GVTg_V5_4', parent: IGPU }],
      }),
    );
    expect(ids(p2)).toEqual([`mdev-create ${MDEV}`]);
  });

  it('uses an existing mdev as it is: no action, never removed', () => {
    const s = host();
    s.mdevs[MDEV] = { uuid: MDEV, parent: IGPU, type: 'i915-GVTg_V5_4' };
    const plan = planPrepare(
      input(domain({ mdevs: [MDEV], metadata: { mdevs: [{ uuid: MDEV, type: 'i915-GVTg_V5_4', parent: IGPU }] } }), s),
    );
    expect(plan.actions).toEqual([]);
    expect(plan.holds.mdevs).toEqual([MDEV]);
  });

  it('refuses a type without instances left, counting the domain’s own mdevs', () => {
    const meta = { mdevs: [MDEV, MDEV2].map((uuid) => ({ uuid, type: 'i915-GVTg_V5_4', parent: IGPU })) };
    expect(
      refusal(() => planPrepare(input(domain({ mdevs: [MDEV, MDEV2], metadata: meta }), host({ instances: 1 }))))
        .message,
    ).toBe(`refused: mdev ${MDEV2} type 'i915-GVTg_V5_4' on ${IGPU} has no instances left (1 available, 2 needed)`);
    expect(
      ids(planPrepare(input(domain({ mdevs: [MDEV, MDEV2], metadata: meta }), host({ instances: 2 })))),
    ).toHaveLength(2);
  });

  it('refuses an mdev with no known type, an unknown type on the parent, and a hostile type name', () => {
    expect(refusal(() => planPrepare(input(domain({ mdevs: [MDEV] }), host()))).message).toContain(
      'neither <passthru:mdev> nor an mdevctl definition',
    );
    expect(
      refusal(() =>
        planPrepare(
          input(
            domain({ mdevs: [MDEV], metadata: { mdevs: [{ uuid: MDEV, type: 'nvidia-63', parent: IGPU }] } }),
            host(),
          ),
        ),
      ).message,
    ).toContain("does not offer mdev type 'nvidia-63'");
    expect(() =>
      planPrepare(
        input(domain({ mdevs: [MDEV], metadata: { mdevs: [{ uuid: MDEV, type: '../../x', parent: IGPU }] } }), host()),
      ),
    ).toThrow(InputError);
  });

  it('creates an mdev on a parent that is no PCI device (mtty), found by its type', () => {
    const s = host();
    s.mdevParents = { mtty: [{ id: 'mtty-2', availableInstances: 2 }] };
    const plan = planPrepare(
      input(domain({ mdevs: [MDEV], metadata: { mdevs: [{ uuid: MDEV, type: 'mtty-2' }] } }), s),
    );
    expect(plan.actions[0]!.do).toEqual([{ op: 'mdev-create', parent: 'mtty', type: 'mtty-2', uuid: MDEV }]);
    expect(() =>
      planPrepare(
        input(domain({ mdevs: [MDEV], metadata: { mdevs: [{ uuid: MDEV, type: 'mtty-2', parent: '../mtty' }] } }), s),
      ),
    ).toThrow(InputError);
  });

  it('checks several mdevs of one parent against one pool: two types each with 1 available do not both fit', () => {
    // sysfs shows 1 of each (mtty with 3 free ports: mtty-1 would read 3); the types share the ports
    const s = host();
    s.mdevParents = mttyPool(1, 1);
    const meta = mttyPair({ parent: 'mtty' });
    expect(refusal(() => planPrepare(input(domain({ mdevs: [MDEV, MDEV2], metadata: meta }), s))).message).toBe(
      `refused: mdev ${MDEV2} mdev types of one parent draw from one pool: 1 of 'mtty-1' (1 available) and 1 of 'mtty-2' (1 available) may not fit together on mtty`,
    );
    // mtty's full pool (24 ports): one of each fits (1/24 + 1/12 <= 1), as does 22 + 1 (the whole pool)
    s.mdevParents = mttyPool(24, 12);
    expect(ids(planPrepare(input(domain({ mdevs: [MDEV, MDEV2], metadata: meta }), s)))).toHaveLength(2);
  });

  it('does not pick a parent whose pool the domain has already filled with another type', () => {
    const s = host();
    s.mdevParents = mttyPool(1, 1);
    const meta = mttyPair({});
    expect(refusal(() => planPrepare(input(domain({ mdevs: [MDEV, MDEV2], metadata: meta }), s))).message).toContain(
      "no device offers mdev type 'mtty-2' with instances left",
    );
  });

  it('refuses an mdev another running domain uses', () => {
    const other = otherDomain('vdi', { mdevs: [MDEV] });
    expect(refusal(() => planPrepare(input(domain({ mdevs: [MDEV] }), host(), { others: [other] }))).message).toContain(
      "used by running domain 'vdi'",
    );
  });
});

describe('SR-IOV PFs are never bound to vfio-pci', () => {
  it('refuses a PF with VFs as an IOMMU group peer (vfio-pci refuses it; its unbind may remove the VFs)', () => {
    const s = host();
    s.devices[USB]!.iommuGroup = 3; // the USB controller shares the NIC's group
    s.groups = { ...s.groups, 2: [], 3: [USB, PF].sort() };
    expect(refusal(() => planPrepare(input(domain({ hostdevs: [[USB, true]] }), s))).message).toBe(
      `refused: ${PF} (IOMMU group peer of ${USB}) is an SR-IOV PF with 2 VFs: vfio-pci does not bind a PF with SR-IOV enabled, and unbinding it from ixgbe may remove its VFs`,
    );
  });

  it('refuses a PF assigned with managed=no that has VFs or whose VFs the domain asks for; without VFs it binds', () => {
    expect(refusal(() => planPrepare(input(domain({ hostdevs: [[PF, false]] }), host()))).message).toContain(
      'is an SR-IOV PF with 2 VFs',
    );
    const pfMeta = { pfs: [{ address: { domain: 0, bus: 3, slot: 0, function: 0 }, vfs: 1 }] };
    expect(
      refusal(() => planPrepare(input(domain({ hostdevs: [[PF, false]], metadata: pfMeta }), host({ pfNumVfs: 0 }))))
        .message,
    ).toContain('with 1 VFs needed by this domain');
    expect(ids(planPrepare(input(domain({ hostdevs: [[PF, false]] }), host({ pfNumVfs: 0 }))))).toEqual([
      `bind-vfio ${PF}`,
    ]);
  });
});

describe('VF settings', () => {
  const vf0 = { domain: 0, bus: 3, slot: 0x10, function: 0 };

  it('sets MAC/VLAN and trust on a plain-hostdev VF, remembering the old values', () => {
    const plan = planPrepare(
      input(
        domain({
          hostdevs: [[VF0, true]],
          metadata: { vfs: [{ address: vf0, mac: '52:54:00:AA:BB:CC', vlan: 42, trust: true, spoofchk: true }] },
        }),
        host(),
        { links },
      ),
    );
    expect(ids(plan)).toEqual([`vf-settings ${VF0}`]);
    const a = plan.actions[0]!;
    // spoofchk is already on: not touched
    expect(a.do).toEqual([vf0Set({ mac: '52:54:00:aa:bb:cc', trust: true, vlan: 42 })]);
    expect(a.undo).toEqual([vf0Set({ mac: '02:00:00:00:00:01', trust: false, vlan: 0 })]);
  });

  it('leaves MAC/VLAN of a hostdev interface to libvirt but applies trust/state/rates', () => {
    const plan = planPrepare(
      input(
        domain({
          ifaces: [[VF0, true]],
          metadata: { vfs: [{ address: vf0, mac: '52:54:00:aa:bb:cc', vlan: 42, state: 'enable', maxRate: 1000 }] },
        }),
        host(),
        { links },
      ),
    );
    expect(plan.actions[0]!.do).toEqual([vf0Set({ maxRate: 1000, state: 'enable' })]);
  });

  it('plans nothing when the VF already has the settings', () => {
    expect(
      ids(
        planPrepare(
          input(domain({ hostdevs: [[VF0, true]], metadata: { vfs: [{ address: vf0, trust: false }] } }), host(), {
            links,
          }),
        ),
      ),
    ).toEqual([]);
  });

  it('refuses settings for a VF the domain does not get, and for a device that is no VF', () => {
    expect(
      refusal(() =>
        planPrepare(input(domain({ metadata: { vfs: [{ address: vf0, trust: true }] } }), host(), { links })),
      ).message,
    ).toContain('not assigned to this domain');
    expect(
      refusal(() =>
        planPrepare(
          input(
            domain({
              hostdevs: [[USB, true]],
              metadata: { vfs: [{ address: { domain: 0, bus: 2, slot: 0, function: 0 }, trust: true }] },
            }),
            host(),
            { links },
          ),
        ),
      ).message,
    ).toContain('not an SR-IOV VF');
  });

  it('finds a pool VF by its MAC at start and applies its settings', () => {
    const l = { enp3s0f0: [vfInfo(0, '02:00:00:00:00:01'), vfInfo(1, '52:54:00:12:34:56')] };
    const d = domain({
      networks: [{ network: 'pool', mac: '52:54:00:12:34:56' }],
      metadata: { vfs: [{ mac: '52:54:00:12:34:56', trust: true, spoofchk: false }] },
    });
    const plan = planPoolVfs({ domain: d, snapshot: host(), links: l, pools: { pool: [PF] } });
    expect(plan.actions.map((a) => a.do)).toEqual([
      [{ op: 'vf-set', pfNetdev: 'enp3s0f0', index: 1, vf: VF1, settings: { spoofchk: false, trust: true } }],
    ]);
    expect(plan.holds.devices).toEqual([VF1]);
    expect(refusal(() => planPoolVfs({ domain: d, snapshot: host(), links, pools: { pool: [PF] } })).message).toContain(
      "not found among the VFs of pool 'pool'",
    );
    expect(refusal(() => planPoolVfs({ domain: d, snapshot: host(), links: l, pools: {} })).message).toContain(
      'not a hostdev pool',
    );
  });
});

describe('the plan as a whole', () => {
  it('orders VF counts, mdevs, binds, VF settings; is deterministic; prints every step', () => {
    const d = domain({
      hostdevs: [
        [USB, false],
        [GPU, true],
        [VF0, true],
      ],
      mdevs: [MDEV],
      metadata: {
        mdevs: [{ uuid: MDEV, type: 'i915-GVTg_V5_4', parent: IGPU }],
        pfs: [{ dev: 'enp3s0f0', vfs: 2 }],
        vfs: [{ address: { domain: 0, bus: 3, slot: 0x10, function: 0 }, trust: true }],
      },
    });
    const p1 = planPrepare(input(d, host(), { links }));
    const p2 = planPrepare(input(d, host(), { links }));
    expect(p1).toEqual(p2);
    expect(ids(p1)).toEqual([
      `sriov-numvfs ${PF}`,
      `mdev-create ${MDEV}`,
      `bind-vfio ${AUDIO}`,
      `bind-vfio ${USB}`,
      `vf-settings ${VF0}`,
    ]);
    const text = formatPlan(p1);
    expect(text).toContain(`${AUDIO}: driver_override = vfio-pci`);
    expect(text).toContain('ip link set dev enp3s0f0 vf 0 trust true');
    expect(text).toContain('held while running: IOMMU groups 1, 2, 10');
  });
});
