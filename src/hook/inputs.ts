// Reads what the pure planners need, for just the devices one domain touches: the host snapshot,
// VF link state of the PFs involved, host facts, mdevctl definitions and the other domains' holds.
import { formatPciAddress } from '../pci/address.js';
import type { DomainPassthrough } from '../xml/model.js';
import type { HostSnapshot } from '../host/types.js';
import type { VfInfo } from '../host/netlink.js';
import type { Action, HostFacts, NetworkInfo, OtherDomain } from '../plan/types.js';
import type { MdevRequest } from '../xml/model.js';
import { planPrepare } from '../plan/prepare.js';
import type { Plan } from '../plan/types.js';
import { PlanRefusal } from '../plan/refusal.js';
import { listJournals } from '../exec/journal.js';
import { bounded } from '../host/bounded.js';
import { detectHostFacts } from '../exec/host-facts.js';
import { readMdevctlDefinitions } from './mdevctl.js';
import { vgpuAddresses } from '../plan/vgpu.js';
import { readSnapshot, type SnapshotRequest } from './snapshot.js';
import type { HookContext } from './context.js';
import { readPoolNetwork } from './pool-network.js';

/** The domain's networks by name (null: libvirt has no such network); undefined when libvirt's files are not read. */
export async function readNetworks(
  ctx: Pick<HookContext, 'root'>,
  d: DomainPassthrough,
): Promise<Record<string, NetworkInfo | null> | undefined> {
  if (ctx.root === undefined) return undefined;
  const out: Record<string, NetworkInfo | null> = {};
  for (const name of [...new Set(d.networkInterfaces.map((i) => i.network))].sort()) {
    const net = await readPoolNetwork(ctx.root, name);
    out[name] = net ? { hostdev: net.hostdev, pfDevs: net.pfDevs, vfAddresses: net.vfAddresses } : null;
  }
  return out;
}
import { policyAddresses, type DevicePowerState } from '../plan/gpu-policy.js';
import { readPowerState } from '../host/power.js';
import { handoverDevices } from '../plan/console.js';
import { readConsoleState } from '../host/console.js';

/** The other running domains, from their journals; an unreadable journal stops prepare (it may hold anything). */
export function otherDomains(stateDir: string, ownUuid: string): OtherDomain[] {
  const out: OtherDomain[] = [];
  for (const e of listJournals(stateDir, ownUuid)) {
    if (!e.journal) {
      const why = (e.error?.message ?? 'unreadable').replace(`journal ${e.file} `, '');
      throw new PlanRefusal(
        `journal ${e.file}`,
        `cannot be used (${why}); fix or remove it, or run 'passthru recover'`,
      );
    }
    out.push({ name: e.journal.domain.name, uuid: e.journal.domain.uuid, holds: e.journal.holds });
  }
  return out;
}

export function requestFor(
  d: DomainPassthrough,
  mdevParents: string[],
  networks: Record<string, NetworkInfo | null> = {},
): SnapshotRequest {
  const devices = new Set<string>();
  const pools = Object.values(networks).filter((n): n is NetworkInfo => n?.hostdev === true);
  for (const n of pools) for (const v of n.vfAddresses) devices.add(v);
  // a PCI parent is read as a device too, so a parent that offers no mdev types is told from a missing one
  for (const p of mdevParents) if (/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(p)) devices.add(p);
  for (const h of d.pciHostdevs) devices.add(formatPciAddress(h.address));
  for (const h of d.hostdevInterfaces) devices.add(formatPciAddress(h.address));
  for (const v of d.metadata.vfs) if (v.address) devices.add(formatPciAddress(v.address));
  for (const p of d.metadata.pfs) if (p.address) devices.add(formatPciAddress(p.address));
  const vgpus = vgpuAddresses(d);
  for (const v of vgpus) devices.add(v);
  // a managed='no' VF may be an NVIDIA vGPU set up by hand: the planner must know before binding it
  for (const h of d.pciHostdevs)
    if (!h.managed && !vgpus.includes(formatPciAddress(h.address))) vgpus.push(formatPciAddress(h.address));
  vgpus.sort();
  const netdevs = [
    ...new Set([...d.metadata.pfs.flatMap((p) => (p.dev ? [p.dev] : [])), ...pools.flatMap((n) => n.pfDevs)]),
  ];
  const mdevs = d.mdevHostdevs.map((m) => m.uuid.toLowerCase());
  // an mdev with a type but no parent: any parent offering the type may do
  const anyMdevParent = d.metadata.mdevs.some((m) => !m.parent) && d.mdevHostdevs.length > 0;
  return {
    devices: [...devices].sort(),
    netdevs: netdevs.sort(),
    mdevParents: [...new Set(mdevParents)].sort(),
    mdevs: mdevs.sort(),
    allMdevParents: anyMdevParent,
    ...(vgpus.length ? { vgpus } : {}),
  };
}

/** VF link state of every PF (by netdev) that a VF in the snapshot belongs to, plus `extraPfs`. */
export async function readLinks(
  ctx: HookContext,
  snap: HostSnapshot,
  vfs: string[],
  extraPfs: string[] = [],
): Promise<Record<string, VfInfo[]>> {
  const pfNetdevs = new Set<string>();
  for (const v of vfs) {
    const pf = snap.devices[v]?.physfn;
    const n = pf ? snap.devices[pf]?.netdevs[0] : undefined;
    if (n) pfNetdevs.add(n);
  }
  for (const p of extraPfs) {
    const n = snap.devices[p]?.netdevs[0];
    if (n) pfNetdevs.add(n);
  }
  const links: Record<string, VfInfo[]> = {};
  for (const n of [...pfNetdevs].sort())
    links[n] = await bounded(`reading VFs of ${n}`, ctx.timeoutMs, ctx.netlink.listVfs(n));
  return links;
}

/** What the second planning pass (after VF creation) can reuse: creating VFs changes none of it. */
export interface PlanMemo {
  mdevDefinitions?: MdevRequest[];
  facts?: { displays: boolean; value: HostFacts };
  /** The domain's networks (readNetworks), read once. */
  networks?: Record<string, NetworkInfo | null> | undefined;
  /** The first pass's snapshot, taken before any change (set by the first pass). */
  snapshot?: HostSnapshot;
}

/**
 * The second pass's view of the host: the first snapshot with the devices it lacked (the VFs the
 * first plan's sriov_numvfs created) read now, with their IOMMU groups and their PFs, which the
 * count changed. Everything else the first plan touched is in `done`, which the planner skips by
 * action id whatever the device's state, so a fresh read of it could not change the plan; the
 * refusals it can still raise are those about the new VFs, and those are read fresh.
 */
async function secondPassSnapshot(ctx: HookContext, first: HostSnapshot, req: SnapshotRequest): Promise<HostSnapshot> {
  const missing = req.devices.filter((a) => !first.devices[a]);
  const vgpus = req.vgpus?.filter((v) => missing.includes(v));
  const fresh = await readSnapshot(ctx, {
    devices: missing,
    netdevs: [],
    mdevParents: [],
    mdevs: [],
    allMdevParents: false,
    ...(vgpus?.length ? { vgpus } : {}),
  });
  return {
    ...first,
    devices: { ...first.devices, ...fresh.devices },
    groups: { ...first.groups, ...fresh.groups },
    netdevs: { ...first.netdevs, ...fresh.netdevs },
  };
}

/** Reads the host and plans prepare for `domain` (again, with `done` skipped, after VF creation). */
export async function planFromHost(
  ctx: HookContext,
  domain: DomainPassthrough,
  others: OtherDomain[],
  done: Action[] = [],
  memo: PlanMemo = {},
): Promise<Plan> {
  const mdevUuids = domain.mdevHostdevs.map((m) => m.uuid.toLowerCase());
  const described = new Set(domain.metadata.mdevs.map((m) => m.uuid.toLowerCase()));
  const undescribed = mdevUuids.filter((u) => !described.has(u));
  const mdevDefinitions = (memo.mdevDefinitions ??= await readMdevctlDefinitions(ctx.sysfs, undescribed));
  const parents = [...domain.metadata.mdevs, ...mdevDefinitions].flatMap((m) => (m.parent ? [m.parent] : []));
  if (!('networks' in memo)) memo.networks = await readNetworks(ctx, domain);
  const networks = memo.networks;
  const req = requestFor(domain, parents, networks ?? {});
  const snap =
    memo.snapshot && done.length
      ? await secondPassSnapshot(ctx, memo.snapshot, req)
      : (memo.snapshot = await readSnapshot(ctx, req));
  const vfAddrs = domain.metadata.vfs.flatMap((v) => (v.address ? [formatPciAddress(v.address)] : []));
  const links = await readLinks(ctx, snap, vfAddrs);
  // listing every display costs a read per device: only when the domain would take the boot VGA
  const assigned = [...domain.pciHostdevs, ...domain.hostdevInterfaces].map(
    (h) => snap.devices[formatPciAddress(h.address)],
  );
  const groups = new Set(assigned.flatMap((d) => (d?.iommuGroup === undefined ? [] : [d.iommuGroup])));
  const takesBootVga =
    assigned.some((d) => d?.bootVga) ||
    Object.values(snap.devices).some((d) => d.bootVga && d.iommuGroup !== undefined && groups.has(d.iommuGroup));
  if (!memo.facts || (takesBootVga && !memo.facts.displays))
    memo.facts = { displays: takesBootVga, value: await detectHostFacts(ctx.sysfs, { displays: takesBootVga }) };
  const facts = memo.facts.value;
  const power = await readPolicyPower(ctx, snap);
  // the console is read only when the domain takes a boot VGA whose console it opted to take over
  const handover = handoverDevices(
    domain,
    ctx.config,
    snap,
    assigned.flatMap((d) => (d ? [d.address] : [])),
  );
  const consoleState = handover.size
    ? await bounded(
        'reading the host console',
        ctx.timeoutMs,
        readConsoleState(ctx.sysfs, ctx.units, ctx.config.console.displayManagers),
      )
    : undefined;
  return planPrepare({
    domain,
    snapshot: snap,
    config: ctx.config,
    facts,
    others,
    links,
    mdevDefinitions,
    done,
    ...(networks ? { networks } : {}),
    power,
    ...(consoleState ? { console: consoleState } : {}),
  });
}

/** reset_method / d3cold_allowed of the snapshot's devices that have a config policy (none: no read). */
export async function readPolicyPower(
  ctx: Pick<HookContext, 'sysfs' | 'config' | 'timeoutMs'>,
  snap: HostSnapshot,
): Promise<Record<string, DevicePowerState>> {
  const power: Record<string, DevicePowerState> = {};
  for (const a of policyAddresses(ctx.config, snap))
    power[a] = await bounded(`reading the power state of ${a}`, ctx.timeoutMs, readPowerState(ctx.sysfs, a));
  return power;
}
