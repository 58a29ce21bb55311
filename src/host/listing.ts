// `passthru list`: the host snapshot as rows an administrator reads (grouped by IOMMU group, since a
// group passes through whole) or as JSON. Pure: snapshot + who uses what -> listing -> text.
import { className } from './class-names.js';
import { matchesPciFilter, type PciFilterTerm } from '../pci/filter.js';
import type { HostSnapshot, MdevTypeInfo, NvidiaVgpuInfo, PciDeviceInfo } from './types.js';
import { describeVgpuType } from './nvidia-vgpu.js';

export interface ListedDevice {
  address: string;
  id: string; // 'vendor:device'
  class: string;
  className: string;
  driver?: string;
  driverOverride?: string;
  iommuGroup?: number;
  /** Other members of the same IOMMU group. */
  groupPeers: string[];
  bridge: boolean;
  bootVga?: boolean;
  netdevs: string[];
  sriov?: { totalVfs: number; numVfs: number; vfs: string[] };
  vf?: { pf: string; index: number };
  mdevTypes?: MdevTypeInfo[];
  mdevs?: { uuid: string; type: string; usedBy: string[] }[];
  /** A VF of an NVIDIA GPU in vGPU mode (vGPU 17+): its current_vgpu_type (0 = none) and creatable types. */
  vgpu?: NvidiaVgpuInfo;
  /** Running domains (from passthru's journals) that hold this device. */
  usedBy: string[];
  /** Matched the filter (false for group peers shown for context). */
  matched: boolean;
  /** The root file system's disk sits behind it / the default route leaves through it. */
  rootDisk?: boolean;
  defaultRoute?: boolean;
}

/** Host facts that make a device dangerous to take away (see src/exec/host-facts). */
export interface ListFacts {
  rootDiskDevices: string[];
  defaultRouteDevices: string[];
}

export interface Listing {
  kernel?: string;
  devices: ListedDevice[];
}

/** Who holds what: device address or mdev UUID -> domain names. */
export type Users = Map<string, string[]>;

export function buildListing(snap: HostSnapshot, users: Users, filter?: PciFilterTerm[], facts?: ListFacts): Listing {
  const rows: ListedDevice[] = [];
  const matched = new Set(Object.values(snap.devices).filter((d) => !filter || matchesPciFilter(d, filter)).map((d) => d.address));
  // with a filter, the other members of a matched device's group are shown too: they go with it
  const shown = new Set(matched);
  for (const a of matched) {
    const g = snap.devices[a]!.iommuGroup;
    if (filter && g !== undefined) for (const m of snap.groups[g] ?? []) if (snap.devices[m]) shown.add(m);
  }
  for (const d of Object.values(snap.devices)) {
    if (!shown.has(d.address)) continue;
    const r = row(d, snap, users, matched.has(d.address));
    if (facts?.rootDiskDevices.includes(d.address)) r.rootDisk = true;
    if (facts?.defaultRouteDevices.includes(d.address)) r.defaultRoute = true;
    rows.push(r);
  }
  rows.sort(byGroupThenAddress);
  const out: Listing = { devices: rows };
  if (snap.kernel) out.kernel = snap.kernel;
  return out;
}

function row(d: PciDeviceInfo, snap: HostSnapshot, users: Users, matched: boolean): ListedDevice {
  const r: ListedDevice = {
    address: d.address,
    id: `${d.vendor}:${d.device}`,
    class: d.class,
    className: className(d.class),
    groupPeers: d.iommuGroup === undefined ? [] : (snap.groups[d.iommuGroup] ?? []).filter((m) => m !== d.address),
    bridge: d.isBridge,
    netdevs: [...d.netdevs].sort(),
    usedBy: [...(users.get(d.address) ?? [])].sort(),
    matched,
  };
  if (d.driver) r.driver = d.driver;
  if (d.driverOverride) r.driverOverride = d.driverOverride;
  if (d.iommuGroup !== undefined) r.iommuGroup = d.iommuGroup;
  if (d.bootVga) r.bootVga = true;
  if (d.sriov) r.sriov = { totalVfs: d.sriov.totalVfs, numVfs: d.sriov.numVfs, vfs: d.sriov.vfs };
  if (d.physfn) r.vf = { pf: d.physfn, index: d.vfIndex ?? -1 };
  if (d.mdevTypes) r.mdevTypes = d.mdevTypes;
  const mdevs = Object.values(snap.mdevs).filter((m) => m.parent === d.address);
  if (d.nvidiaVgpu) r.vgpu = d.nvidiaVgpu;
  if (mdevs.length) r.mdevs = mdevs.map((m) => ({ uuid: m.uuid, type: m.type, usedBy: [...(users.get(m.uuid) ?? [])].sort() })).sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
  return r;
}

function byGroupThenAddress(a: ListedDevice, b: ListedDevice): number {
  const ga = a.iommuGroup ?? Number.MAX_SAFE_INTEGER;
  const gb = b.iommuGroup ?? Number.MAX_SAFE_INTEGER;
  return ga - gb || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0);
}

function notes(r: ListedDevice): string {
  const n: string[] = [];
  if (r.bridge) n.push('bridge');
  if (r.bootVga) n.push('boot VGA');
  if (r.rootDisk) n.push('root disk');
  if (r.defaultRoute) n.push('default route');
  if (r.netdevs.length) n.push(`net ${r.netdevs.join(',')}`);
  if (r.sriov) n.push(`SR-IOV ${r.sriov.numVfs}/${r.sriov.totalVfs} VFs`);
  if (r.vf) n.push(`VF ${r.vf.index} of ${r.vf.pf}`);
  if (r.driverOverride) n.push(`override ${r.driverOverride}`);
  if (r.usedBy.length) n.push(`used by ${r.usedBy.join(', ')}`);
  return n.join('; ');
}

/** Text for a terminal: one block per IOMMU group, columns aligned over the whole listing. */
export function formatListing(l: Listing): string {
  if (l.devices.length === 0) return 'no matching PCI devices\n';
  const cells = l.devices.map((r) => [r.address, r.id, r.className, r.driver ?? '-', notes(r)]);
  const w = [0, 1, 2, 3].map((i) => Math.max(...cells.map((c) => c[i]!.length)));
  const lines: string[] = [];
  let group: number | undefined | null = null;
  l.devices.forEach((r, i) => {
    if (r.iommuGroup !== group) {
      group = r.iommuGroup;
      const size = r.groupPeers.length + 1;
      lines.push(group === undefined ? 'no IOMMU group' : `IOMMU group ${group}${size > 1 ? ` (${size} devices)` : ''}`);
    }
    const c = cells[i]!;
    lines.push(`  ${c.slice(0, 4).map((x, k) => x.padEnd(w[k]!)).join('  ')}${c[4] ? `  ${c[4]}` : ''}`.trimEnd());
    const pad = ' '.repeat(2 + w[0]! + 2);
    for (const t of r.mdevTypes ?? []) lines.push(`${pad}mdev type ${t.id}${t.name && t.name !== t.id ? ` (${t.name})` : ''}: ${t.availableInstances} available`);
    for (const m of r.mdevs ?? []) lines.push(`${pad}mdev ${m.uuid} ${m.type}${m.usedBy.length ? `; used by ${m.usedBy.join(', ')}` : ''}`);
    if (r.vgpu) lines.push(`${pad}${vgpuLine(r.vgpu, l.devices)}`);
  });
  return lines.join('\n') + '\n';
}

/** `vGPU type 1157 (NVIDIA L40S-12Q)`, or `no vGPU; creatable: …` (names from any VF's list, a VF with a vGPU lists none). */
function vgpuLine(v: NvidiaVgpuInfo, rows: ListedDevice[]): string {
  if (v.currentType !== 0) return `vGPU type ${describeVgpuType(v.currentType, rows.flatMap((r) => r.vgpu?.creatable ?? []))}`;
  return `no vGPU; creatable: ${v.creatable.length ? v.creatable.map((t) => `${t.id} (${t.name})`).join(', ') : 'none'}`;
}
