// Small builders for planner tests: a host snapshot from a few device lines, a domain request.
import type { HostSnapshot, PciDeviceInfo } from '../../src/host/types.js';
import type { DomainPassthrough } from '../../src/xml/model.js';
import { parsePciAddress } from '../../src/pci/address.js';
import { withDefaults } from '../../src/config/types.js';
import type { PrepareInput } from '../../src/plan/prepare.js';
import type { HostFacts, OtherDomain } from '../../src/plan/types.js';
import type { VfInfo } from '../../src/host/netlink.js';
import { PlanRefusal } from '../../src/plan/refusal.js';

export function dev(address: string, cls: string, extra: Partial<PciDeviceInfo> = {}): PciDeviceInfo {
  return {
    address,
    vendor: '8086',
    device: '1234',
    class: cls,
    netdevs: [],
    isBridge: cls.startsWith('0604'),
    ...extra,
  };
}

export function snapshot(devices: PciDeviceInfo[], extra: Partial<HostSnapshot> = {}): HostSnapshot {
  const snap: HostSnapshot = { devices: {}, groups: {}, mdevs: {}, netdevs: {}, ...extra };
  for (const d of devices) {
    snap.devices[d.address] = d;
    if (d.iommuGroup !== undefined) (snap.groups[d.iommuGroup] ??= []).push(d.address);
    for (const n of d.netdevs) snap.netdevs[n] = d.address;
  }
  for (const g of Object.values(snap.groups)) g.sort();
  return snap;
}

/** Addresses of the workstation-like hosts the planner tests build (not every test has every one). */
export const PORT = '0000:00:01.0';
export const GPU = '0000:01:00.0';
export const AUDIO = '0000:01:00.1';
export const USB = '0000:02:00.0';
export const PF = '0000:03:00.0';
export const VF0 = '0000:03:10.0';
export const VF1 = '0000:03:10.2';
export const IGPU = '0000:00:02.0';
export const MDEV = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
export const MDEV2 = 'aaaaaaaa-bbbb-4ccc-8ddd-ffffffffffff';

export const UUID = '11111111-2222-4333-8444-555555555555';

export function domain(parts: {
  hostdevs?: [string, boolean][];
  ifaces?: [string, boolean][];
  mdevs?: string[];
  networks?: { network: string; mac?: string }[];
  metadata?: Partial<DomainPassthrough['metadata']>;
  name?: string;
  uuid?: string;
}): DomainPassthrough {
  return {
    name: parts.name ?? 'guest',
    uuid: parts.uuid ?? UUID,
    pciHostdevs: (parts.hostdevs ?? []).map(([a, managed]) => ({ address: parsePciAddress(a), managed })),
    hostdevInterfaces: (parts.ifaces ?? []).map(([a, managed]) => ({ address: parsePciAddress(a), managed })),
    mdevHostdevs: (parts.mdevs ?? []).map((uuid) => ({ uuid, model: 'vfio-pci' })),
    networkInterfaces: parts.networks ?? [],
    metadata: { mdevs: [], vfs: [], pfs: [], vgpus: [], ...parts.metadata },
  };
}

export const noFacts: HostFacts = {
  rootDiskDevices: [],
  defaultRouteDevices: [],
  displayDevices: [],
  serialConsole: false,
};

export function input(d: DomainPassthrough, s: HostSnapshot, more: Partial<PrepareInput> = {}): PrepareInput {
  return { domain: d, snapshot: s, config: withDefaults({}), facts: noFacts, others: [], links: {}, ...more };
}

export function vfInfo(index: number, mac: string, extra: Partial<VfInfo> = {}): VfInfo {
  return { index, mac, vlan: 0, spoofchk: true, trust: false, state: 'auto', minRate: 0, maxRate: 0, ...extra };
}

/** The PlanRefusal `fn` throws; any other error passes through, and no refusal at all fails the test. */
export function refusal(fn: () => unknown): PlanRefusal {
  try {
    fn();
  } catch (err) {
    if (err instanceof PlanRefusal) return err;
    throw err;
  }
  throw new Error('expected a refusal, the plan went through');
}

/** The message of the PlanRefusal `fn` throws (see refusal). */
export const refusalMessage = (fn: () => unknown): string => refusal(fn).message;

/** Another running domain, holding only what `holds` names. */
export function otherDomain(name: string, holds: Partial<OtherDomain['holds']>): OtherDomain {
  return {
    name,
    uuid: '99999999-2222-4333-8444-555555555555',
    holds: { groups: [], devices: [], mdevs: [], pfs: [], ...holds },
  };
}

/**
 * An SR-IOV NIC: PF `pf` (netdev enp3s0f0, group 3, room for 8 VFs at offset 128, stride 2) on `driver`
 * with `numVfs` enabled, the first of `vfAddresses` as its VFs on `vfDriver`, each in a group from 10.
 */
export function sriovNic(
  pf: string,
  vfAddresses: string[],
  numVfs: number,
  [driver, vfDriver]: [string, string],
): PciDeviceInfo[] {
  const vfs = vfAddresses.slice(0, numVfs);
  return [
    dev(pf, '020000', {
      driver,
      iommuGroup: 3,
      netdevs: ['enp3s0f0'],
      sriov: { totalVfs: 8, numVfs, offset: 128, stride: 2, vfs },
    }),
    ...vfs.map((a, k) => dev(a, '020000', { driver: vfDriver, iommuGroup: 10 + k, physfn: pf, vfIndex: k })),
  ];
}
