// Refusals of the planner added for issue 12 (one verdict): each would have let prepare change the
// host, or libvirt fail after our changes. Pure: planPrepare on small snapshots.
import { describe, expect, it } from 'vitest';
import { planPrepare } from '../../src/plan/prepare.js';
import { withDefaults } from '../../src/config/types.js';
import type { OtherDomain } from '../../src/plan/types.js';
import {
  dev,
  domain,
  input,
  noFacts,
  snapshot,
  refusalMessage,
  otherDomain,
  sriovNic,
  PORT,
  GPU,
  PF,
  VF0,
  VF1,
  IGPU,
  MDEV,
} from './plan-helpers.js';

function host(numVfs = 2) {
  return snapshot([
    dev(PORT, '060400', { driver: 'pcieport', iommuGroup: 1 }),
    dev(GPU, '030000', { driver: 'nouveau', iommuGroup: 1 }),
    ...sriovNic(PF, [VF0, VF1], numVfs, ['igb', 'igbvf']),
    dev(IGPU, '030000', { driver: 'i915', iommuGroup: 4, bootVga: true }),
  ]);
}

const holding = (devices: string[], pfs: OtherDomain['holds']['pfs'] = []): OtherDomain =>
  otherDomain('other', { devices, pfs });

describe('planner refusals (issue 12)', () => {
  it('refuses a PCI bridge as a hostdev (vfio-pci does not bind bridges)', () => {
    expect(refusalMessage(() => planPrepare(input(domain({ hostdevs: [[PORT, true]] }), host())))).toBe(
      `refused: ${PORT} is a PCI bridge (class 0604): vfio-pci does not bind bridges; remove this hostdev`,
    );
  });

  it('refuses a PF while another running domain holds one of its VFs, naming the VF and the domain', () => {
    for (const managed of [true, false])
      expect(
        refusalMessage(() =>
          planPrepare(input(domain({ hostdevs: [[PF, managed]] }), host(), { others: [holding([VF1])] })),
        ),
      ).toBe(
        `refused: ${PF} is the PF of ${VF1}, which running domain 'other' holds: detaching the PF disables SR-IOV and takes the VF from that guest`,
      );
    expect(
      refusalMessage(() =>
        planPrepare(
          input(domain({ hostdevs: [[PF, true]] }), host(), {
            others: [holding([], [{ pf: PF, vfs: 2, original: 0 }])],
          }),
        ),
      ),
    ).toContain(`${PF} is an SR-IOV PF whose VFs running domain 'other' relies on`);
  });

  it('refuses a PF (or any device that is no VF) as an <interface type=hostdev>', () => {
    expect(refusalMessage(() => planPrepare(input(domain({ ifaces: [[PF, true]] }), host(0))))).toBe(
      `refused: ${PF} is an SR-IOV PF, not a VF: <interface type='hostdev'> takes VFs only (libvirt refuses the rest); give one of its VFs, or assign the whole device as a <hostdev>`,
    );
    expect(refusalMessage(() => planPrepare(input(domain({ ifaces: [[GPU, true]] }), host())))).toContain(
      `${GPU} is not an SR-IOV VF: <interface type='hostdev'> takes VFs only`,
    );
    expect(planPrepare(input(domain({ ifaces: [[VF0, true]] }), host())).holds.devices).toEqual([VF0]);
  });

  it('refuses a VF count change on a protected PF (default route, configured list) and says the override', () => {
    const d = domain({ metadata: { pfs: [{ dev: 'enp3s0f0', vfs: 4 }] } });
    const facts = { ...noFacts, defaultRouteDevices: [PF] };
    expect(refusalMessage(() => planPrepare(input(d, host(0), { facts })))).toBe(
      `refused: PF ${PF} is protected: it carries the host's default route (override: "autoProtect": {"defaultRoute": false} in the config); a VF count change resets the PF on drivers such as igb`,
    );
    const config = withDefaults({ protected: [PF] });
    expect(refusalMessage(() => planPrepare(input(d, host(0), { config })))).toContain(
      `PF ${PF} is protected by the configuration ('${PF}'; override: remove it from "protected")`,
    );
    // enough VFs already: nothing is written, nothing to refuse
    const enough = domain({ metadata: { pfs: [{ dev: 'enp3s0f0', vfs: 2 }] } });
    expect(planPrepare(input(enough, host(2), { facts })).actions[0]!.do).toEqual([]);
    expect(
      planPrepare(input(d, host(0), { facts, config: withDefaults({ autoProtect: { defaultRoute: false } }) })).actions
        .length,
    ).toBe(1);
  });

  it('says the override of the boot VGA', () => {
    const s = host();
    const facts = { ...noFacts, displayDevices: [IGPU] };
    expect(refusalMessage(() => planPrepare(input(domain({ hostdevs: [[IGPU, true]] }), s, { facts })))).toBe(
      `refused: ${IGPU} is protected: it is the boot VGA and the host has no other console (override: "autoProtect": {"bootVga": false} in the config, console=ttyS0 on the kernel command line, or the console handover: <passthru:console handover='on'/> or consoleHandover in the device's config)`,
    );
  });

  it('says when an mdev parent exists but offers no mdev types', () => {
    const d = domain({ mdevs: [MDEV], metadata: { mdevs: [{ uuid: MDEV, type: 'i915-GVTg_V5_4', parent: IGPU }] } });
    expect(refusalMessage(() => planPrepare(input(d, host())))).toBe(
      `refused: mdev ${MDEV} parent ${IGPU} exists but offers no mdev types (its driver has mediated devices off or unsupported)`,
    );
  });

  describe('pool networks', () => {
    const pool = (pfDevs: string[], vfAddresses: string[] = []) => ({ hostdev: true, pfDevs, vfAddresses });
    const d = domain({ networks: [{ network: 'pool', mac: '52:54:00:00:00:01' }] });

    it('refuses a missing network', () => {
      expect(refusalMessage(() => planPrepare(input(d, host(), { networks: { pool: null } })))).toBe(
        `refused: network 'pool' not found: libvirt has no such network (virsh net-list --all); fix <source network='pool'/>`,
      );
    });

    it('refuses a pool PF with no VFs, unless this domain creates them', () => {
      expect(refusalMessage(() => planPrepare(input(d, host(0), { networks: { pool: pool(['enp3s0f0']) } })))).toBe(
        `refused: network 'pool' PF enp3s0f0 (${PF}) has no VFs: add <passthru:pf dev='enp3s0f0' vfs='N'/> to the domain, or set its sriov_numvfs`,
      );
      const creates = domain({
        networks: [{ network: 'pool' }],
        metadata: { pfs: [{ dev: 'enp3s0f0', vfs: 2 }] },
      });
      expect(planPrepare(input(creates, host(0), { networks: { pool: pool(['enp3s0f0']) } })).actions.length).toBe(1);
      expect(planPrepare(input(d, host(2), { networks: { pool: pool(['enp3s0f0']) } })).actions).toEqual([]);
    });

    it('refuses a pool PF that is not on this host, and a pool whose listed VFs do not exist', () => {
      expect(refusalMessage(() => planPrepare(input(d, host(), { networks: { pool: pool(['eth9']) } })))).toBe(
        `refused: network 'pool' PF eth9 not found: no such network interface on this host`,
      );
      expect(
        refusalMessage(() => planPrepare(input(d, host(), { networks: { pool: pool([], ['0000:07:10.0']) } }))),
      ).toBe(`refused: network 'pool' lists VFs of which none exists on this host (0000:07:10.0)`);
    });

    it('leaves networks that are no hostdev pool to libvirt', () => {
      const nat = { hostdev: false, pfDevs: [], vfAddresses: [] };
      expect(planPrepare(input(d, host(), { networks: { pool: nat } })).actions).toEqual([]);
    });
  });

  it("managed='no': binds a device on a host driver for the admin, leaves one the admin bound to a VFIO driver", () => {
    const s = snapshot([
      dev('0000:05:00.0', '020000', { driver: 'mlx5_core', iommuGroup: 5 }),
      dev('0000:06:00.0', '020000', { driver: 'mlx5_vfio_pci', iommuGroup: 6 }),
      dev('0000:07:00.0', '020000', { driver: 'vfio-pci', iommuGroup: 7 }),
    ]);
    const plan = planPrepare(
      input(
        domain({
          hostdevs: [
            ['0000:05:00.0', false],
            ['0000:06:00.0', false],
            ['0000:07:00.0', false],
          ],
        }),
        s,
      ),
    );
    expect(plan.actions.map((a) => a.id)).toEqual(['bind-vfio 0000:05:00.0']);
    expect(plan.holds.devices).toEqual(['0000:05:00.0', '0000:06:00.0', '0000:07:00.0']);
  });
});
