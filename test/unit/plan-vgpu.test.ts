// Planner rules for NVIDIA vGPUs of the vendor-specific VFIO model (<passthru:vgpu>): refusals before
// any change, use-as-is, the write/undo pair, and no vfio-pci rebind of a vGPU VF.
import { describe, expect, it } from 'vitest';
import { planPrepare } from '../../src/plan/prepare.js';
import { formatPlan } from '../../src/plan/format.js';
import { InputError } from '../../src/errors.js';
import { parsePciAddress } from '../../src/pci/address.js';
import type { NvidiaVgpuInfo, PciDeviceInfo } from '../../src/host/types.js';
import { dev, domain, input, snapshot, refusalMessage } from './plan-helpers.js';

const PF = '0000:41:00.0';
const VF0 = '0000:41:00.4';
const VF1 = '0000:41:00.5';
const CREATABLE = [
  { id: 1155, name: 'NVIDIA L40S-4Q' },
  { id: 1157, name: 'NVIDIA L40S-12Q' },
];

function vf(
  address: string,
  group: number,
  vgpu: NvidiaVgpuInfo | undefined,
  extra: Partial<PciDeviceInfo> = {},
): PciDeviceInfo {
  return dev(address, '030200', {
    vendor: '10de',
    device: '26b9',
    driver: 'nvidia',
    iommuGroup: group,
    physfn: PF,
    vfIndex: group - 100,
    ...(vgpu ? { nvidiaVgpu: vgpu } : {}),
    ...extra,
  });
}

function host(
  vf0: NvidiaVgpuInfo | null = { currentType: 0, creatable: CREATABLE },
  extra: Partial<PciDeviceInfo> = {},
) {
  return snapshot([
    dev(PF, '030200', {
      vendor: '10de',
      device: '26b9',
      driver: 'nvidia',
      iommuGroup: 45,
      sriov: { totalVfs: 32, numVfs: 2, offset: 4, stride: 1, vfs: [VF0, VF1] },
    }),
    vf(VF0, 100, vf0 ?? undefined, extra),
    vf(VF1, 101, { currentType: 0, creatable: CREATABLE }),
  ]);
}

const guest = (type: string, managed = false, address = VF0) =>
  domain({ hostdevs: [[address, managed]], metadata: { vgpus: [{ address: parsePciAddress(address), type }] } });

describe('planning NVIDIA vGPUs (vendor-specific VFIO)', () => {
  it('writes the type by ID, undo writes 0 only while our type is there; the VF is not rebound to vfio-pci', () => {
    const plan = planPrepare(input(guest('1157'), host()));
    expect(plan.actions).toEqual([
      {
        id: `vgpu-type ${VF0}`,
        kind: 'vgpu-type',
        device: VF0,
        why: `NVIDIA vGPU type 1157 (NVIDIA L40S-12Q) on VF ${VF0}`,
        do: [{ op: 'vgpu-type', vf: VF0, type: 1157, from: 0 }],
        undo: [{ op: 'vgpu-type', vf: VF0, type: 0, from: 1157 }],
      },
    ]);
    expect(plan.holds.devices).toEqual([VF0]);
    expect(formatPlan(plan)).toContain(`${VF0}: nvidia/current_vgpu_type = 1157 (create the vGPU) if it is 0`);
  });

  it('a managed=no VF without the nvidia/ interface is bound to vfio-pci as before (the rules here are what skip vGPU VFs)', () => {
    const plan = planPrepare(input(domain({ hostdevs: [[VF0, false]] }), host(null)));
    expect(plan.actions.map((a) => a.id)).toEqual([`bind-vfio ${VF0}`]);
  });

  it('a vGPU made by hand (managed=no VF with a type, no entry) is used as it is; with no type it is refused', () => {
    const byHand = planPrepare(input(domain({ hostdevs: [[VF0, false]] }), host({ currentType: 1157, creatable: [] })));
    expect(byHand.actions).toEqual([]);
    expect(byHand.holds.devices).toEqual([VF0]);
    expect(refusalMessage(() => planPrepare(input(domain({ hostdevs: [[VF0, false]] }), host())))).toBe(
      `refused: ${VF0} is a VF of an NVIDIA GPU in vGPU mode with no vGPU type: give it one (xmlfix --add-vgpu ${VF0},type=ID, or echo ID > nvidia/current_vgpu_type); creatable there: 1155 (NVIDIA L40S-4Q), 1157 (NVIDIA L40S-12Q)`,
    );
    // managed='yes' without an entry is libvirt's to handle, as for any device
    expect(planPrepare(input(domain({ hostdevs: [[VF0, true]] }), host())).actions).toEqual([]);
  });

  it('resolves an exact profile name to its ID', () => {
    const plan = planPrepare(input(guest('NVIDIA L40S-4Q'), host()));
    expect(plan.actions[0]!.do).toEqual([{ op: 'vgpu-type', vf: VF0, type: 1155, from: 0 }]);
  });

  it('a VF that already has the wanted type is used as it is: no action, never reset', () => {
    const plan = planPrepare(input(guest('1157'), host({ currentType: 1157, creatable: [] })));
    expect(plan.actions).toEqual([]);
    expect(plan.holds.devices).toEqual([VF0]);
  });

  it('refuses another vGPU type already on the VF, naming both', () => {
    expect(refusalMessage(() => planPrepare(input(guest('1155'), host({ currentType: 1157, creatable: [] }))))).toBe(
      `refused: ${VF0} already has vGPU type 1157; 1155 asked (a vGPU is changed only by destroying it: write 0 to nvidia/current_vgpu_type when no guest uses it)`,
    );
    // a name cannot be matched against a VF whose list is empty once it has a vGPU
    expect(
      refusalMessage(() => planPrepare(input(guest('NVIDIA L40S-4Q'), host({ currentType: 1157, creatable: [] })))),
    ).toMatch(
      /already has vGPU type 1157; 'NVIDIA L40S-4Q' asked \(a profile name cannot be checked .*give the type ID\)$/,
    );
  });

  it('refuses a type not creatable there, listing what is', () => {
    expect(refusalMessage(() => planPrepare(input(guest('1159'), host())))).toBe(
      `refused: ${VF0} cannot take vGPU type 1159 now; creatable there: 1155 (NVIDIA L40S-4Q), 1157 (NVIDIA L40S-12Q)`,
    );
    expect(refusalMessage(() => planPrepare(input(guest('NVIDIA L40S-48Q'), host())))).toContain(
      `cannot take vGPU type 'NVIDIA L40S-48Q' now; creatable there: 1155`,
    );
    expect(refusalMessage(() => planPrepare(input(guest('1155'), host({ currentType: 0, creatable: [] }))))).toBe(
      `refused: ${VF0} cannot take vGPU type 1155 now; creatable there: none (the GPU is full, or hosts vGPUs of another framebuffer size)`,
    );
  });

  it('refuses a missing VF, a VF without the nvidia/ interface, managed=yes and an entry for an unassigned VF', () => {
    const missing = domain({
      hostdevs: [['0000:41:03.0', false]],
      metadata: { vgpus: [{ address: parsePciAddress('0000:41:03.0'), type: '1155' }] },
    });
    expect(refusalMessage(() => planPrepare(input(missing, host())))).toMatch(
      /^refused: 0000:41:03\.0 not found on this host/,
    );
    expect(refusalMessage(() => planPrepare(input(guest('1155'), host(null, { driver: 'vfio-pci' }))))).toBe(
      `refused: ${VF0} has no NVIDIA vGPU interface (no nvidia/current_vgpu_type: it is bound to vfio-pci, not nvidia)`,
    );
    expect(refusalMessage(() => planPrepare(input(guest('1155', true), host())))).toMatch(
      new RegExp(`^refused: ${VF0} carries an NVIDIA vGPU but is assigned with managed='yes'.*use managed='no'$`),
    );
    const unassigned = domain({ metadata: { vgpus: [{ address: parsePciAddress(VF1), type: '1155' }] } });
    expect(refusalMessage(() => planPrepare(input(unassigned, host())))).toMatch(
      new RegExp(`^refused: ${VF1} has a <passthru:vgpu> entry but is not assigned`),
    );
  });

  it('two entries for one VF are bad input', () => {
    const d = guest('1155');
    d.metadata.vgpus!.push({ address: parsePciAddress(VF0), type: '1157' });
    expect(() => planPrepare(input(d, host()))).toThrow(InputError);
  });

  it('a second pass skips the journaled write', () => {
    const first = planPrepare(input(guest('1157'), host()));
    expect(planPrepare(input(guest('1157'), host(), { done: first.actions })).actions).toEqual([]);
  });
});

describe('a vGPU VF that appears only once <passthru:pf vfs> raises the count', () => {
  it('is planned in the second pass, after the VF exists', () => {
    const pfOnly = snapshot([
      dev(PF, '030200', {
        vendor: '10de',
        driver: 'nvidia',
        iommuGroup: 45,
        sriov: { totalVfs: 32, numVfs: 0, offset: 4, stride: 1, vfs: [] },
      }),
    ]);
    const d = guest('1155');
    d.metadata.pfs.push({ address: parsePciAddress(PF), vfs: 1 });
    const first = planPrepare(input(d, pfOnly));
    expect(first.deferred).toEqual([VF0]);
    expect(first.actions.map((a) => a.id)).toEqual([`sriov-numvfs ${PF}`]);
    const second = planPrepare(input(d, host(), { done: first.actions }));
    expect(second.actions.map((a) => a.id)).toEqual([`vgpu-type ${VF0}`]);
  });
});
