// planPrepare: what `prepare begin` must change so libvirt can start the domain, and how to undo it.
// PURE: the domain's request, a host snapshot, the config, host facts and the other running domains'
// holds in; an ordered plan out, or a PlanRefusal thrown before anything was decided. Rules:
//  - PF VF counts from <passthru:pf vfs=N> (shared between domains by count, restored by the last one);
//  - mdevs created from <passthru:mdev> or an mdevctl definition, after checking available_instances;
//    an mdev that already exists is used as it is and never removed;
//  - every endpoint of an assigned device's IOMMU group that is not assigned and not a bridge/port is
//    bound to vfio-pci (managed='yes' assigned devices are libvirt's; managed='no' ones are ours);
//  - VF settings (MAC/VLAN for plain-hostdev VFs; trust, spoofchk, state, rates for any VF);
//  - NVIDIA vGPU types of VFs (src/plan/vgpu.ts); such VFs stay on the nvidia driver.
import { formatPciAddress } from '../pci/address.js';
import { InputError } from '../errors.js';
import type { DomainPassthrough, MdevRequest, VfRequest } from '../xml/model.js';
import type { HostSnapshot, PciDeviceInfo } from '../host/types.js';
import type { VfInfo, VfSettings } from '../host/netlink.js';
import type { EffectiveConfig } from '../config/types.js';
import type { Action, HostFacts, Holds, OtherDomain, Plan } from './types.js';
import { PlanRefusal } from './refusal.js';
import { protectionReason, type ProtectContext } from './protect.js';
import { checkMdevParent, checkMdevType, checkNetdev, checkUuid } from './names.js';
import { bindVfioAction, vfSettingsAction } from './actions.js';
import { byText } from './order.js';
import { planVgpus } from './vgpu.js';
import { placeMdev, type MdevUse } from './mdev.js';

export interface PrepareInput {
  domain: DomainPassthrough;
  snapshot: HostSnapshot;
  config: EffectiveConfig;
  facts: HostFacts;
  /** Other running domains (from their journals). */
  others: OtherDomain[];
  /** VF link state of the PFs involved, by PF netdev (NetLink.listVfs). */
  links: Record<string, VfInfo[]>;
  /** mdevctl definitions, used for an mdev the metadata does not describe. */
  mdevDefinitions?: MdevRequest[];
  /** Actions already journaled for this domain (a second pass after VF creation): not planned again. */
  done?: Action[];
}

const VFIO = 'vfio-pci';
/** Drivers that leave a group viable for VFIO as they are. */
const VIABLE = new Set([VFIO, 'pci-stub']);

export function isBridge(d: PciDeviceInfo): boolean {
  return d.isBridge || d.class.startsWith('0604');
}

export function domainUuid(domain: DomainPassthrough): string {
  if (!domain.uuid) throw new InputError(`domain '${domain.name}' has no <uuid> in its XML`);
  return checkUuid(domain.uuid, 'domain UUID');
}

/** VF k's address from the PF's SR-IOV offset and stride (PCIe routing ids), for VFs not created yet. */
export function predictVfAddress(pf: PciDeviceInfo, k: number): string | undefined {
  const s = pf.sriov;
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(pf.address);
  if (!s || !m) return undefined;
  const rid = (parseInt(m[2]!, 16) << 8) + (parseInt(m[3]!, 16) << 3) + parseInt(m[4]!, 16) + s.offset + k * s.stride;
  if (rid > 0xffff) return undefined;
  return formatPciAddress({ domain: parseInt(m[1]!, 16), bus: rid >> 8, slot: (rid >> 3) & 0x1f, function: rid & 7 });
}

interface Assigned {
  address: string;
  managed: boolean;
  iface: boolean; // <interface type='hostdev'>: libvirt sets its MAC/VLAN
}

export function planPrepare(input: PrepareInput): Plan {
  const { domain, snapshot: snap, others } = input;
  const uuid = domainUuid(domain);
  const done = new Set((input.done ?? []).map((a) => a.id));
  const holds: Holds = { groups: [], devices: [], mdevs: [], pfs: [] };
  const refuse = (device: string, reason: string): never => {
    throw new PlanRefusal(device, reason);
  };
  const holder = (pred: (h: Holds) => boolean): OtherDomain | undefined => others.find((o) => pred(o.holds));

  // ---- PF VF counts ------------------------------------------------------------------------------
  const sriovActions: Action[] = [];
  const predicted = new Set<string>();
  const pfRequests = new Map<string, number>();
  for (const req of domain.metadata.pfs) {
    if (!Number.isInteger(req.vfs) || req.vfs < 0)
      throw new InputError(`invalid VF count '${String(req.vfs)}' in <passthru:pf>`);
    if (req.vfs === 0) continue;
    let pfAddr: string | undefined;
    if (req.address) pfAddr = formatPciAddress(req.address);
    else if (req.dev)
      pfAddr =
        snap.netdevs[checkNetdev(req.dev)] ??
        refuse(`PF '${req.dev}'`, 'not found: no such network interface on this host');
    if (!pfAddr) throw new InputError(`<passthru:pf> needs dev= or address=`);
    pfRequests.set(pfAddr, Math.max(req.vfs, pfRequests.get(pfAddr) ?? 0));
  }
  for (const [pfAddr, want] of [...pfRequests].sort(([a], [b]) => byText(a, b))) {
    const pf = snap.devices[pfAddr] ?? refuse(`PF ${pfAddr}`, 'not found on this host');
    if (!pf.sriov) refuse(`PF ${pfAddr}`, 'does not support SR-IOV (no sriov_totalvfs)');
    const s = pf.sriov!;
    if (want > s.totalVfs)
      refuse(`PF ${pfAddr}`, `has not enough VFs: ${want} needed, at most ${s.totalVfs} (sriov_totalvfs)`);
    const other = holder((h) => h.pfs.some((p) => p.pf === pfAddr));
    const original = other?.holds.pfs.find((p) => p.pf === pfAddr)!.original ?? s.numVfs;
    const id = `sriov-numvfs ${pfAddr}`;
    for (let k = 0; k < want; k++) {
      const a = predictVfAddress(pf, k);
      if (a && !snap.devices[a]) predicted.add(a);
    }
    holds.pfs.push({ pf: pfAddr, vfs: want, original });
    if (done.has(id)) continue;
    if (s.numVfs >= want) {
      // enough already: nothing to write, but the journal records the need so the count stays while we run
      sriovActions.push({
        id,
        kind: 'sriov-numvfs',
        device: pfAddr,
        why: `PF has ${s.numVfs} VFs, ${want} needed`,
        do: [],
        undo: [{ op: 'sriov-release', pf: pfAddr, count: original }],
      });
      continue;
    }
    if (s.numVfs > 0) {
      // the count changes only through 0, which removes the existing VFs: never while someone uses them
      if (other)
        refuse(
          `PF ${pfAddr}`,
          `has ${s.numVfs} VFs in use by running domain '${other.name}'; ${want} needed (raising the count would remove them)`,
        );
      const busy = s.vfs.filter((v) => snap.devices[v]?.driver === VFIO);
      if (busy.length)
        refuse(
          `PF ${pfAddr}`,
          `has ${s.numVfs} VFs, ${want} needed, but ${busy[0]} is bound to vfio-pci (raising the count would remove it)`,
        );
    }
    sriovActions.push({
      id,
      kind: 'sriov-numvfs',
      device: pfAddr,
      why: `domain needs ${want} VFs, PF has ${s.numVfs}`,
      do: [{ op: 'sriov-numvfs', pf: pfAddr, count: want }],
      undo: [{ op: 'sriov-release', pf: pfAddr, count: original }],
    });
  }

  // ---- assigned PCI devices ---------------------------------------------------------------------
  const assigned = new Map<string, Assigned>();
  for (const h of domain.pciHostdevs)
    assigned.set(formatPciAddress(h.address), {
      address: formatPciAddress(h.address),
      managed: h.managed,
      iface: false,
    });
  for (const h of domain.hostdevInterfaces)
    assigned.set(formatPciAddress(h.address), {
      address: formatPciAddress(h.address),
      managed: h.managed,
      iface: true,
    });
  const deferred: string[] = [];
  const present: Assigned[] = [];
  for (const a of [...assigned.values()].sort((x, y) => byText(x.address, y.address))) {
    if (snap.devices[a.address]) present.push(a);
    else if (predicted.has(a.address)) deferred.push(a.address);
    else refuse(a.address, 'not found on this host');
  }

  // who takes what: assigned devices and their group peers
  const peers = new Map<string, string>(); // peer -> the assigned device whose group it shares
  for (const a of present) {
    const dev = snap.devices[a.address]!;
    const other = holder((h) => h.devices.includes(a.address));
    if (other) refuse(a.address, `is used by running domain '${other.name}'`);
    if (dev.iommuGroup === undefined)
      refuse(a.address, 'has no IOMMU group (is the IOMMU enabled? intel_iommu=on / amd_iommu=on)');
    const g = dev.iommuGroup!;
    const gOther = holder((h) => h.groups.includes(g));
    if (gOther) refuse(a.address, `shares IOMMU group ${g} with devices of running domain '${gOther.name}'`);
    if (!holds.groups.includes(g)) holds.groups.push(g);
    for (const m of snap.groups[g] ?? [a.address]) {
      if (assigned.has(m) || peers.has(m)) continue;
      const peer = snap.devices[m] ?? refuse(m, `(IOMMU group ${g} of ${a.address}) could not be read`);
      if (isBridge(peer)) continue; // bridges and ports stay with the host, always
      peers.set(m, a.address);
    }
  }
  const taken = new Set([...present.map((a) => a.address), ...peers.keys()]);
  const ctx: ProtectContext = { config: input.config, facts: input.facts, taken };
  for (const addr of [...taken].sort()) {
    const reason = protectionReason(snap.devices[addr]!, ctx);
    if (reason) refuse(addr, peers.has(addr) ? `(IOMMU group peer of ${peers.get(addr)}) ${reason}` : reason);
  }

  // NVIDIA vGPU VFs (checked before any bind is planned: a refusal changes nothing)
  const vgpu = planVgpus({ domain, snapshot: snap, done, deferred, refuse });

  const bindActions: Action[] = [];
  for (const addr of [...taken].sort()) {
    const dev = snap.devices[addr]!;
    holds.devices.push(addr);
    const a = assigned.get(addr);
    if (a?.managed) continue; // libvirt detaches and reattaches it
    if (vgpu.vfs.has(addr)) continue; // a vGPU VF stays on NVIDIA's vendor VFIO driver
    if (dev.driver && VIABLE.has(dev.driver)) continue;
    if (!dev.driver && peers.has(addr)) continue; // an unbound peer leaves the group viable
    // vfio-pci refuses a PF with SR-IOV enabled ("Cannot bind to PF with SR-IOV enabled"), and the
    // unbind before it either removes the VFs (igb, i40e, mlx5_core) or leaves them (nvme): never ours to decide
    const vfs = Math.max(dev.sriov?.numVfs ?? 0, pfRequests.get(addr) ?? 0);
    if (vfs > 0) {
      const role = a ? 'assigned with managed=no' : `IOMMU group peer of ${peers.get(addr)}`;
      refuse(
        addr,
        `(${role}) is an SR-IOV PF with ${vfs} VFs${pfRequests.has(addr) ? ' needed by this domain' : ''}: vfio-pci does not bind a PF with SR-IOV enabled, and unbinding it from ${dev.driver ?? 'its driver'} may remove its VFs`,
      );
    }
    const why = a ? 'assigned with managed=no' : `IOMMU group ${dev.iommuGroup} peer of ${peers.get(addr)}`;
    const action = bindVfioAction(dev, why);
    if (!done.has(action.id)) bindActions.push(action);
  }

  // ---- mdevs ------------------------------------------------------------------------------------
  const mdevActions: Action[] = [];
  const used: MdevUse = new Map(); // parent -> type -> instances this plan creates
  for (const h of [...domain.mdevHostdevs].sort((x, y) => byText(x.uuid, y.uuid))) {
    const id = checkUuid(h.uuid);
    const other = holder((x) => x.mdevs.includes(id));
    if (other) refuse(`mdev ${id}`, `is used by running domain '${other.name}'`);
    holds.mdevs.push(id);
    if (snap.mdevs[id]) continue; // exists: used as is, never removed by us
    const actionId = `mdev-create ${id}`;
    if (done.has(actionId)) continue;
    const req =
      domain.metadata.mdevs.find((m) => m.uuid.toLowerCase() === id) ??
      input.mdevDefinitions?.find((m) => m.uuid.toLowerCase() === id);
    if (!req)
      refuse(`mdev ${id}`, 'does not exist and neither <passthru:mdev> nor an mdevctl definition gives its type');
    const type = checkMdevType(req!.type);
    const place = placeMdev(snap, type, req!.parent !== undefined ? checkMdevParent(req!.parent) : undefined, used);
    if (!place.ok) return refuse(`mdev ${id}`, place.reason);
    const { parent, wanted } = place;
    used.set(parent, wanted);
    mdevActions.push({
      id: actionId,
      kind: 'mdev-create',
      device: id,
      why: `mdev of type ${type} on ${parent}`,
      do: [{ op: 'mdev-create', parent, type, uuid: id }],
      undo: [{ op: 'mdev-remove', uuid: id }],
    });
  }

  // ---- VF settings ------------------------------------------------------------------------------
  const vfActions: Action[] = [];
  const seenVf = new Set<string>();
  for (const req of domain.metadata.vfs) {
    if (!req.address) continue; // a pool VF: known only at `start begin` (planPoolVfs)
    const addr = formatPciAddress(req.address);
    if (seenVf.has(addr)) throw new InputError(`two <passthru:vf> elements for ${addr}`);
    seenVf.add(addr);
    const a = assigned.get(addr);
    if (!a) refuse(addr, 'has VF settings in the metadata but is not assigned to this domain');
    if (deferred.includes(addr)) continue;
    const action = planVfSettings(snap, input.links, addr, req, !a!.iface, refuse);
    if (action && !done.has(action.id)) vfActions.push(action);
  }

  return {
    domain: { name: domain.name, uuid },
    actions: [...sriovActions, ...mdevActions, ...vgpu.actions, ...bindActions, ...vfActions],
    holds: sortHolds(holds),
    deferred,
  };
}

/** The VF settings action for one VF, or undefined when it already has them. */
export function planVfSettings(
  snap: HostSnapshot,
  links: Record<string, VfInfo[]>,
  addr: string,
  req: VfRequest,
  macVlan: boolean,
  refuse: (device: string, reason: string) => never,
): Action | undefined {
  const vf = snap.devices[addr] ?? refuse(addr, 'not found on this host');
  if (!vf.physfn || vf.vfIndex === undefined) refuse(addr, 'has VF settings but is not an SR-IOV VF');
  const pf = snap.devices[vf.physfn!] ?? refuse(addr, `PF ${vf.physfn} could not be read`);
  const pfNetdev =
    pf.netdevs[0] ?? refuse(addr, `PF ${pf.address} has no network interface to set VF settings through`);
  const cur =
    links[pfNetdev]?.find((v) => v.index === vf.vfIndex) ??
    refuse(addr, `VF ${vf.vfIndex} of ${pfNetdev} is not reported by the PF driver`);
  const want: VfSettings = {};
  if (macVlan && req.mac !== undefined) want.mac = req.mac.toLowerCase();
  if (macVlan && req.vlan !== undefined) want.vlan = req.vlan;
  if (req.trust !== undefined) want.trust = req.trust;
  if (req.spoofchk !== undefined) want.spoofchk = req.spoofchk;
  if (req.state !== undefined) want.state = req.state;
  if (req.minRate !== undefined) want.minRate = req.minRate;
  if (req.maxRate !== undefined) want.maxRate = req.maxRate;
  return vfSettingsAction(addr, pfNetdev, vf.vfIndex!, cur, want);
}

function sortHolds(h: Holds): Holds {
  return {
    groups: [...h.groups].sort((a, b) => a - b),
    devices: [...h.devices].sort(),
    mdevs: [...h.mdevs].sort(),
    pfs: [...h.pfs].sort((a, b) => byText(a.pf, b.pf)),
  };
}
