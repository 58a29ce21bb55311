// `passthru list`: the host snapshot as rows an administrator reads (grouped by IOMMU group, since a
// group passes through whole) or as JSON. Pure: snapshot + who uses what -> listing -> text.
import { className } from './class-names.js';
import { matchesListFilter, type ListFilter } from './list-filter.js';
import type { VfInfo } from './netlink.js';
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
  /** The vfio variant driver modules.alias offers for it (libvirt >= 10 picks it for a managed hostdev). */
  vfioVariant?: string;
  netdevs: string[];
  sriov?: { totalVfs: number; numVfs: number; vfs: string[] };
  vf?: { pf: string; index: number };
  /** A VF's settings as its PF driver reports them (`ip -j -d link show dev PF`), when the PF has a netdev. */
  vfState?: VfState;
  mdevTypes?: MdevTypeInfo[];
  mdevs?: ListedMdev[];
  /** A VF of an NVIDIA GPU in vGPU mode (vGPU 17+): its current_vgpu_type (0 = none) and creatable types. */
  vgpu?: NvidiaVgpuInfo;
  /** Running domains (from passthru's journals) that hold this device. */
  usedBy: string[];
  /** Matched the filter (false for group peers shown for context). */
  matched: boolean;
  /** The root file system's disk sits behind it / the default route leaves through it. */
  rootDisk?: boolean;
  defaultRoute?: boolean;
  /**
   * ['driver_override'] when that read did not answer in time: the device lock stays held (an unbind
   * waiting for qemu to let go?), so the driver state is unknown (the driver link is gone meanwhile).
   */
  unreadable?: string[];
}

/** Host facts that make a device dangerous to take away (see src/exec/host-facts). */
export interface ListFacts {
  rootDiskDevices: string[];
  defaultRouteDevices: string[];
}

/** An existing mdev as listed under its parent. */
export interface ListedMdev {
  uuid: string;
  type: string;
  usedBy: string[];
}

/** An mdev parent that is not a PCI device (the kernel's mtty sample, a vendor's virtual device). */
export interface ListedMdevParent {
  name: string;
  types: MdevTypeInfo[];
  mdevs?: ListedMdev[];
}

export interface Listing {
  kernel?: string;
  devices: ListedDevice[];
  /** Non-PCI mdev parents (PCI ones are devices above); absent when there are none or with a filter. */
  mdevParents?: ListedMdevParent[];
}

/** Who holds what: device address or mdev UUID -> domain names. */
export type Users = Map<string, string[]>;

/** A VF's settings: VfInfo without its index (the row says which VF it is). */
export type VfState = Omit<VfInfo, 'index'>;

/** VF settings by PF netdev, as NetLink.listVfs gives them. */
export type VfLinks = Record<string, VfInfo[]>;

/** The netdev whose VF settings a VF shows: its PF's first interface, if it has one. */
function pfNetdev(pf: string | undefined, snap: HostSnapshot): string | undefined {
  return pf === undefined ? undefined : [...(snap.devices[pf]?.netdevs ?? [])].sort()[0];
}

/** The PF netdevs to ask for VF settings: those of the VFs among `shown` (default: every device). */
export function vfPfNetdevs(snap: HostSnapshot, shown?: string[]): string[] {
  const names = new Set<string>();
  for (const a of shown ?? Object.keys(snap.devices)) {
    const n = pfNetdev(snap.devices[a]?.physfn, snap);
    if (n !== undefined) names.add(n);
  }
  return [...names].sort();
}

/** Adds to each VF row the settings its PF reported (links: by PF netdev). */
export function addVfStates(l: Listing, snap: HostSnapshot, links: VfLinks): void {
  for (const r of l.devices) {
    const pf = pfNetdev(r.vf?.pf, snap);
    const v = pf === undefined ? undefined : links[pf]?.find((x) => x.index === r.vf!.index);
    if (!v) continue;
    const { index: _index, ...state } = v;
    r.vfState = state;
  }
}

export function buildListing(snap: HostSnapshot, users: Users, filter?: ListFilter, facts?: ListFacts): Listing {
  const rows: ListedDevice[] = [];
  const all = Object.values(snap.devices);
  // without a filter every device is shown and matched: no sets of 10,000 addresses to build
  let matched: Set<string> | undefined;
  let shown: Set<string> | undefined;
  if (filter) {
    matched = new Set(all.filter((d) => matchesListFilter(d, filter, snap)).map((d) => d.address));
    // the other members of a matched device's group are shown too: they go with it
    shown = new Set(matched);
    for (const a of matched) {
      const g = snap.devices[a]!.iommuGroup;
      if (g !== undefined) for (const m of snap.groups[g] ?? []) if (snap.devices[m]) shown.add(m);
    }
  }
  const mdevs = mdevsByParent(snap, users);
  const rootDisk = new Set(facts?.rootDiskDevices);
  const defaultRoute = new Set(facts?.defaultRouteDevices);
  for (const d of all) {
    if (shown && !shown.has(d.address)) continue;
    const r = row(d, snap, users, !matched || matched.has(d.address), mdevs.get(d.address));
    if (rootDisk.has(d.address)) r.rootDisk = true;
    if (defaultRoute.has(d.address)) r.defaultRoute = true;
    rows.push(r);
  }
  rows.sort(byGroupThenAddress);
  const out: Listing = { devices: rows };
  if (snap.kernel) out.kernel = snap.kernel;
  // a PCI filter matches PCI devices: a parent such as mtty is shown only in the whole listing
  if (!filter && snap.mdevParents) {
    const parents = Object.entries(snap.mdevParents).map(([name, types]) => {
      const p: ListedMdevParent = { name, types };
      const m = mdevs.get(name);
      if (m) p.mdevs = m;
      return p;
    });
    if (parents.length) out.mdevParents = parents;
  }
  return out;
}

/** Existing mdevs by parent name, sorted by UUID: one pass instead of a scan per device. */
function mdevsByParent(snap: HostSnapshot, users: Users): Map<string, ListedMdev[]> {
  const by = new Map<string, ListedMdev[]>();
  for (const m of Object.values(snap.mdevs)) {
    const l = by.get(m.parent) ?? by.set(m.parent, []).get(m.parent)!;
    l.push({ uuid: m.uuid, type: m.type, usedBy: [...(users.get(m.uuid) ?? [])].sort() });
  }
  for (const l of by.values()) l.sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
  return by;
}

function row(
  d: PciDeviceInfo,
  snap: HostSnapshot,
  users: Users,
  matched: boolean,
  mdevs: ListedMdev[] | undefined,
): ListedDevice {
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
  if (d.nvidiaVgpu) r.vgpu = d.nvidiaVgpu;
  if (mdevs) r.mdevs = mdevs;
  if (d.unreadable) r.unreadable = d.unreadable;
  return r;
}

function byGroupThenAddress(a: ListedDevice, b: ListedDevice): number {
  const ga = a.iommuGroup ?? Number.MAX_SAFE_INTEGER;
  const gb = b.iommuGroup ?? Number.MAX_SAFE_INTEGER;
  return ga - gb || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0);
}

function notes(r: ListedDevice): string {
  const n: string[] = [];
  // with a filter, the group peers shown beside what matched say so (JSON: "matched": false)
  if (!r.matched) n.push('group peer, not matched');
  if (r.bridge) n.push('bridge');
  if (r.bootVga) n.push('boot VGA');
  if (r.rootDisk) n.push('root disk');
  if (r.defaultRoute) n.push('default route');
  if (r.netdevs.length) n.push(`net ${r.netdevs.join(',')}`);
  if (r.sriov) n.push(`SR-IOV ${r.sriov.numVfs}/${r.sriov.totalVfs} VFs`);
  if (r.vf) n.push(`VF ${r.vf.index} of ${r.vf.pf}`);
  if (r.driverOverride) n.push(`override ${r.driverOverride}`);
  if (r.vfioVariant) n.push(`vfio variant ${r.vfioVariant}`);
  if (r.usedBy.length) n.push(`used by ${r.usedBy.join(', ')}`);
  if (r.unreadable) n.push(UNREADABLE_NOTE);
  return n.join('; ');
}

const UNREADABLE_NOTE = 'driver state unreadable: device lock held (being unbound?)';

/** Text for a terminal: one block per IOMMU group, columns aligned over the whole listing; then one block per non-PCI mdev parent. */
export function formatListing(l: Listing): string {
  if (l.devices.length === 0 && !l.mdevParents?.length) return 'no matching PCI devices\n';
  // '?' not '-' when the driver state could not be read: '-' says the device has no driver
  const cells = l.devices.map(
    (r) => [r.address, r.id, r.className, r.driver ?? (r.unreadable ? '?' : '-'), notes(r)] as const,
  );
  const w = [0, 1, 2, 3].map((i) => cells.reduce((m, c) => Math.max(m, c[i]!.length), 0)) as [
    number,
    number,
    number,
    number,
  ];
  const pad = ' '.repeat(2 + w[0] + 2);
  const lines: string[] = [];
  let group: number | undefined | null = null;
  for (let i = 0; i < l.devices.length; i++) {
    const r = l.devices[i]!;
    if (r.iommuGroup !== group) {
      group = r.iommuGroup;
      const size = r.groupPeers.length + 1;
      lines.push(
        group === undefined ? 'no IOMMU group' : `IOMMU group ${group}${size > 1 ? ` (${size} devices)` : ''}`,
      );
    }
    const [address, id, cls, driver, note] = cells[i]!;
    const line = `  ${address.padEnd(w[0])}  ${id.padEnd(w[1])}  ${cls.padEnd(w[2])}  ${note ? `${driver.padEnd(w[3])}  ${note}` : driver}`;
    lines.push(line.trimEnd());
    if (r.mdevTypes || r.mdevs) mdevLines(lines, pad, r.mdevTypes, r.mdevs);
    if (r.vgpu) lines.push(`${pad}${vgpuLine(r.vgpu, l.devices)}`);
    if (r.vfState) lines.push(`${pad}${vfStateLine(r.vfState)}`);
  }
  for (const p of l.mdevParents ?? []) {
    lines.push(`mdev parent ${p.name} (not a PCI device)`);
    mdevLines(lines, '  ', p.types, p.mdevs);
  }
  return `${lines.join('\n')}\n`;
}

function mdevLines(
  lines: string[],
  pad: string,
  types: MdevTypeInfo[] | undefined,
  mdevs: ListedMdev[] | undefined,
): void {
  for (const t of types ?? [])
    lines.push(
      `${pad}mdev type ${t.id}${t.name && t.name !== t.id ? ` (${t.name})` : ''}: ${t.availableInstances} available`,
    );
  for (const m of mdevs ?? [])
    lines.push(`${pad}mdev ${m.uuid} ${m.type}${m.usedBy.length ? `; used by ${m.usedBy.join(', ')}` : ''}`);
}

/** `vGPU type 1157 (NVIDIA L40S-12Q)`, or `no vGPU; creatable: …` (names from any VF's list, a VF with a vGPU lists none). */
function vgpuLine(v: NvidiaVgpuInfo, rows: ListedDevice[]): string {
  if (v.currentType !== 0)
    return `vGPU type ${describeVgpuType(
      v.currentType,
      rows.flatMap((r) => r.vgpu?.creatable ?? []),
    )}`;
  return `no vGPU; creatable: ${v.creatable.length ? v.creatable.map((t) => `${t.id} (${t.name})`).join(', ') : 'none'}`;
}

/** A VF's settings in `ip link`'s words; vlan, qos and rates only when set, as `ip link` prints them. */
function vfStateLine(v: VfState): string {
  const p = [`link/ether ${v.mac}`];
  if (v.vlan) p.push(`vlan ${v.vlan}`);
  if (v.qos) p.push(`qos ${v.qos}`);
  if (v.spoofchk !== undefined) p.push(`spoof checking ${v.spoofchk ? 'on' : 'off'}`);
  if (v.state !== undefined) p.push(`link-state ${v.state}`);
  if (v.trust !== undefined) p.push(`trust ${v.trust ? 'on' : 'off'}`);
  if (v.maxRate) p.push(`max_tx_rate ${v.maxRate}Mbps`);
  if (v.minRate) p.push(`min_tx_rate ${v.minRate}Mbps`);
  return p.join(', ');
}
