// `passthru doctor --domain FILE`: the hook's verdict on the domain (judged by the planner, the
// same call as `passthru hook --dry-run`), and each passthrough device described against the host:
// exists (or is created by the plan), group viable or what the hook will bind, driver in use, mdevs
// placed by the planner's rule, PFs with enough VFs, pool networks. A finding fails when the
// verdict's refusal is about it; doctor has no refusal rules of its own.
// Pure: domain + snapshot + the verdict -> results.
import { formatPciAddress } from '../pci/address.js';
import type { DomainPassthrough } from '../xml/model.js';
import type { HostSnapshot, MdevTypeInfo } from '../host/types.js';
import type { NetworkInfo } from '../plan/types.js';
import { both, namedUnreadable, type CheckResult } from './types.js';
import { describeWanted, mdevTypesOf, placeMdev, poolLeft, type MdevPlacement, type MdevUse } from '../plan/mdev.js';
import { refusalAbout, type DoctorVerdict } from './verdict.js';
import { isVfioDriver } from '../plan/devices.js';
import { predictVfAddress } from '../plan/prepare-pfs.js';

export interface DomainJudgement {
  verdict: DoctorVerdict;
  /** The domain's networks as the hook read them (undefined: not read). */
  networks?: Record<string, NetworkInfo | null> | undefined;
}

/** VFs the domain's <passthru:pf> makes the hook create (by the planner's own address rule). */
function createdVfs(dp: DomainPassthrough, snap: HostSnapshot): Set<string> {
  const out = new Set<string>();
  for (const req of dp.metadata.pfs) {
    const addr = req.address ? formatPciAddress(req.address) : req.dev ? snap.netdevs[req.dev] : undefined;
    const pf = addr ? snap.devices[addr] : undefined;
    if (!pf?.sriov) continue;
    for (let k = 0; k < Math.min(req.vfs, pf.sriov.totalVfs); k++) {
      const vf = predictVfAddress(pf, k);
      if (vf && !snap.devices[vf]) out.add(vf);
    }
  }
  return out;
}

function deviceCheck(
  addr: string,
  managed: boolean,
  kind: string,
  dp: DomainPassthrough,
  snap: HostSnapshot,
  j: DomainJudgement,
  assigned: Set<string>,
): CheckResult {
  const base = { id: `domain-device:${addr}`, title: `${kind} ${addr}` };
  const d = snap.devices[addr];
  const group = d?.iommuGroup === undefined ? [] : (snap.groups[d.iommuGroup] ?? []);
  const refused = refusalAbout(j.verdict, [addr, ...group]);
  if (!d) {
    if (createdVfs(dp, snap).has(addr))
      return {
        ...base,
        status: 'pass',
        detail: `${addr} appears when the hook raises its PF's VF count (<passthru:pf>); judged again then`,
      };
    const sameBus = Object.keys(snap.devices).filter((a) => a.slice(0, 7) === addr.slice(0, 7));
    return {
      ...base,
      status: 'fail',
      detail: `${addr} does not exist on this host${sameBus.length ? ` (on that bus: ${sameBus.join(', ')})` : ''}`,
      fix: both(`passthru list   # then fix the address in the domain (virsh edit ${dp.name})`),
    };
  }
  if (refused)
    return {
      ...base,
      status: 'fail',
      detail: `${refused.device} ${refused.reason}`,
      fix: both(`virsh edit ${dp.name}   # remove or change this device, or apply the override named`),
    };
  // the hook reads the device and its group peers too: a read the device lock holds up fails its start
  const held = [
    addr,
    ...(d.iommuGroup === undefined ? [] : (snap.groups[d.iommuGroup] ?? []).filter((m) => m !== addr)),
  ].filter((m) => snap.devices[m]?.unreadable);
  if (held.length)
    return {
      ...base,
      status: 'fail',
      detail: `${namedUnreadable(held.map((m) => snap.devices[m]!))} did not answer: device lock held (being unbound?); the hook cannot read ${held.length > 1 || held[0] !== addr ? 'them' : 'it'} either, a start now fails`,
      fix: both('wait until the unbind ends (the qemu that had the device must let go of it), then passthru list'),
    };
  const drv = d.driver ?? 'no driver';
  const vgpu = dp.metadata.vgpus.some((v) => formatPciAddress(v.address) === addr) || d.nvidiaVgpu !== undefined;
  const who = managed
    ? "managed='yes': libvirt detaches it"
    : vgpu
      ? "managed='no', an NVIDIA vGPU VF: stays on its driver"
      : isVfioDriver(d.driver) || d.driver === 'pci-stub'
        ? `managed='no', already on ${d.driver}: left as the admin bound it`
        : "managed='no': the hook binds it to vfio-pci";
  if (d.iommuGroup === undefined)
    return {
      ...base,
      status: 'fail',
      detail: `${addr} has no IOMMU group (IOMMU off?)`,
      fix: both('passthru doctor   # see the iommu-* checks'),
    };
  const peers = (snap.groups[d.iommuGroup] ?? []).filter((m) => m !== addr && !assigned.has(m));
  const binds = j.verdict.kind === 'plan' ? j.verdict.plan.actions.filter((a) => a.kind === 'bind-vfio') : [];
  const toBind = peers.filter((m) => binds.some((a) => a.device === m));
  const detail = `bound to ${drv} (${who}); IOMMU group ${d.iommuGroup}${peers.length ? ` with ${peers.join(', ')}` : ' alone'}`;
  if (toBind.length)
    return {
      ...base,
      status: 'warn',
      detail: `${detail}; at start the hook binds ${toBind.map((m) => `${m} (${snap.devices[m]!.driver})`).join(', ')} to vfio-pci, and gives them back at stop`,
    };
  if (j.verdict.kind !== 'plan') return { ...base, status: 'pass', detail: `${detail}; the hook refused the domain` };
  return { ...base, status: 'pass', detail: `${detail}; group viable` };
}

export function domainChecks(dp: DomainPassthrough, snap: HostSnapshot, j: DomainJudgement): CheckResult[] {
  const out: CheckResult[] = [];
  const devs = [
    ...dp.pciHostdevs.map((h) => ({ a: formatPciAddress(h.address), managed: h.managed, kind: 'hostdev' })),
    ...dp.hostdevInterfaces.map((h) => ({
      a: formatPciAddress(h.address),
      managed: h.managed,
      kind: 'interface hostdev',
    })),
  ];
  const assigned = new Set(devs.map((x) => x.a));
  for (const x of devs) out.push(deviceCheck(x.a, x.managed, x.kind, dp, snap, j, assigned));
  out.push(...mdevChecks(dp, snap, j), ...pfChecks(dp, snap, j), ...networkChecks(dp, j));
  return out;
}

/** Each <passthru:pf>: what the hook does with its VF count, or the refusal about it. */
function pfChecks(dp: DomainPassthrough, snap: HostSnapshot, j: DomainJudgement): CheckResult[] {
  return dp.metadata.pfs.map((pf): CheckResult => {
    const addr = pf.address ? formatPciAddress(pf.address) : pf.dev ? snap.netdevs[pf.dev] : undefined;
    const name = pf.dev ?? addr ?? '?';
    const base = { id: `domain-pf:${name}`, title: `PF ${name} with ${pf.vfs} VFs` };
    const refused = refusalAbout(j.verdict, [...(addr ? [`PF ${addr}`] : []), `PF '${pf.dev}'`]);
    if (refused)
      return {
        ...base,
        status: 'fail',
        detail: `${refused.device} ${refused.reason}`,
        fix: both('passthru list --filter ::0200   # PFs, their VFs and which the host needs'),
      };
    const s = addr ? snap.devices[addr]?.sriov : undefined;
    if (!s) return { ...base, status: 'warn', detail: `${name}: not judged (the hook refused the domain before it)` };
    return {
      ...base,
      status: 'pass',
      detail: `${addr} has ${s.numVfs} of ${s.totalVfs} VFs${s.numVfs < pf.vfs ? `; the hook raises it to ${pf.vfs}` : ''}`,
    };
  });
}

/** Each network of an <interface type='network'>: a hostdev pool the hook checked, or libvirt's business. */
function networkChecks(dp: DomainPassthrough, j: DomainJudgement): CheckResult[] {
  const names = [...new Set(dp.networkInterfaces.map((i) => i.network))].sort();
  return names.map((name): CheckResult => {
    const base = { id: `domain-network:${name}`, title: `network ${name}` };
    // the same fail shape as the PF check's, kept inline beside each check's own fix
    const refused = refusalAbout(j.verdict, [`network '${name}'`]);
    if (refused)
      return {
        ...base,
        status: 'fail',
        detail: `${refused.device} ${refused.reason}`,
        fix: both('virsh net-list --all; virsh net-dumpxml NAME   # the pool and its PFs'),
      };
    const net = j.networks?.[name];
    if (net === undefined) return { ...base, status: 'pass', detail: "libvirt's files not read: not judged" };
    if (net === null)
      return { ...base, status: 'warn', detail: `libvirt has no network '${name}': libvirt refuses the start` };
    if (!net.hostdev) return { ...base, status: 'pass', detail: 'not a hostdev pool: left to libvirt' };
    const from = [...net.pfDevs.map((d) => `PF ${d}`), ...net.vfAddresses].join(', ');
    return { ...base, status: 'pass', detail: `hostdev pool of ${from}: libvirt picks a VF at start` };
  });
}

/**
 * Each mdev of the domain. New ones are placed by the planner's own rule (placeMdev), in its order
 * (by UUID), so several mdevs of one parent are judged together against the parent's shared pool,
 * as the hook will; the findings keep the domain's order.
 */
function mdevChecks(dp: DomainPassthrough, snap: HostSnapshot, j: DomainJudgement): CheckResult[] {
  const found = new Map<string, CheckResult>();
  const used: MdevUse = new Map();
  for (const h of [...dp.mdevHostdevs].sort((x, y) => (x.uuid.toLowerCase() < y.uuid.toLowerCase() ? -1 : 1))) {
    const id = h.uuid.toLowerCase();
    const base = { id: `domain-mdev:${h.uuid}`, title: `mdev ${h.uuid}` };
    // the hook's refusal about this mdev (a running domain uses it, or any rule below) decides
    const refused = refusalAbout(j.verdict, [`mdev ${id}`]);
    const failed = (r: CheckResult): CheckResult =>
      refused && r.status !== 'fail' ? { ...base, status: 'fail', detail: `${refused.device} ${refused.reason}` } : r;
    const existing = snap.mdevs[id];
    if (existing) {
      found.set(
        h.uuid,
        failed({
          ...base,
          status: 'pass',
          detail: `exists: type ${existing.type} on ${existing.parent} (used as it is, never removed by the hook)`,
        }),
      );
      continue;
    }
    const req = dp.metadata.mdevs.find((m) => m.uuid.toLowerCase() === id);
    if (!req) {
      found.set(h.uuid, {
        ...base,
        status: 'fail',
        detail: `does not exist, and the domain has no <passthru:mdev uuid='${h.uuid}'> saying which type to create`,
        fix: both(`mdevctl start -u ${h.uuid} -p PARENT --type TYPE   # or add the type with xmlfix`),
      });
      continue;
    }
    const place = placeMdev(snap, req.type, req.parent, used);
    if (place.ok) {
      used.set(place.parent, place.wanted);
      found.set(
        h.uuid,
        failed({
          ...base,
          status: 'pass',
          detail: `the hook creates it: ${placedDetail(req.type, place.parent, place.types, place.wanted)}`,
        }),
      );
    } else found.set(h.uuid, { ...base, ...unplaced(req.type, req.parent, place, snap, used) });
  }
  return dp.mdevHostdevs.map((h) => found.get(h.uuid)!);
}

/** `mtty-2 on mtty (12 available; left after it: mtty-1 22, mtty-2 11)`, naming the domain's other new mdevs there. */
function placedDetail(type: string, parent: string, types: MdevTypeInfo[], wanted: Map<string, number>): string {
  const left = [...poolLeft(types, wanted)].map(([t, n]) => `${t} ${n}`).join(', ');
  const avail = types.find((t) => t.id === type)!.availableInstances;
  const total = [...wanted.values()].reduce((a, b) => a + b, 0);
  if (total === 1) return `${type} on ${parent} (${avail} available; left after it: ${left})`;
  return `${type} on ${parent}, with this domain's other new mdevs there: ${describeWanted(types, wanted)} from one pool; left after them, at least: ${left}`;
}

function unplaced(
  type: string,
  parent: string | undefined,
  place: Extract<MdevPlacement, { ok: false }>,
  snap: HostSnapshot,
  used: MdevUse,
): Pick<CheckResult, 'status' | 'detail' | 'fix'> {
  const parents = [...Object.keys(snap.devices), ...Object.keys(snap.mdevParents ?? {})]
    .filter((p) => mdevTypesOf(snap, p))
    .sort();
  const offering = parents.filter((p) => mdevTypesOf(snap, p)!.some((t) => t.id === type));
  if (
    place.why === 'unknown-parent' ||
    place.why === 'not-offered' ||
    (place.why === 'no-parent' && offering.length === 0)
  ) {
    const known = [...new Set(parents.flatMap((p) => mdevTypesOf(snap, p)!.map((t) => t.id)))].sort();
    const where =
      place.why === 'unknown-parent'
        ? `${parent} is no mdev parent on this host`
        : parent
          ? `type ${type} is not offered by ${parent}`
          : `type ${type} is offered by no parent`;
    return {
      status: 'fail',
      detail: `${where}${known.length ? ` (types here: ${known.join(', ')})` : ' (no mdev parent on this host)'}`,
      fix: both('passthru list   # pick an offered type'),
    };
  }
  if (place.why === 'pool') {
    const types = mdevTypesOf(snap, place.parent!)!;
    const wanted = new Map(used.get(place.parent!) ?? []);
    wanted.set(type, (wanted.get(type) ?? 0) + 1);
    return {
      status: 'fail',
      detail: `${place.parent}'s mdev types draw from one pool: this domain's ${describeWanted(types, wanted)} may not fit together`,
      fix: both(`ask for fewer or smaller mdevs on ${place.parent}, or put one on another parent (passthru list)`),
    };
  }
  // exhausted on the named parent, or no parent with room left
  const on = place.parent ? [place.parent] : offering;
  const counts = on
    .map(
      (p) =>
        `${p}: ${mdevTypesOf(snap, p)!.find((t) => t.id === type)!.availableInstances} available${used.get(p)?.size ? `, ${describeWanted(mdevTypesOf(snap, p)!, used.get(p)!)} already for this domain` : ''}`,
    )
    .join('; ');
  return {
    status: 'fail',
    detail: `no instances of ${type} left for it (${counts})`,
    fix: both('stop a domain that uses this type, or choose a smaller type (passthru list)'),
  };
}
