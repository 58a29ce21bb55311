// planPrepare's sections for assigned PCI devices: which exist (or appear once this plan's VFs
// do), what each one is allowed to be, who takes what (the devices and their IOMMU group peers),
// protection, and the binds to vfio-pci. managed='yes' assigned devices are libvirt's to detach.
// managed='no' in libvirt means the admin binds the driver: the hook does that for the admin (binds
// it to vfio-pci for the run, gives the driver back at release), and leaves a device the admin has
// already bound to a VFIO driver (vfio-pci or a vendor variant) or pci-stub exactly as it is.
import type { Action } from './types.js';
import type { Assigned, PrepareContext } from './prepare-context.js';
import { protectionReason } from './protect.js';
import { bindVfioAction } from './actions.js';
import { byText } from './order.js';
import { isBridge, isVf, isVfioDriver } from './devices.js';
import { handoverDevices } from './console.js';
import { policyFor } from './gpu-policy.js';

/** Assigned devices, peers and the devices the domain takes, as the sections after them need them. */
export interface Taking {
  present: Assigned[];
  /** peer -> the assigned device whose IOMMU group it shares */
  peers: Map<string, string>;
  /** Assigned + peers. */
  taken: Set<string>;
  /** Assigned boot VGAs whose console the domain takes over (src/plan/console.ts). */
  handover: Set<string>;
}

/** Each assigned device exists now, will exist once the VFs do (deferred), or is refused. */
function presentDevices(ctx: PrepareContext): Assigned[] {
  const present: Assigned[] = [];
  for (const a of [...ctx.assigned.values()].sort((x, y) => byText(x.address, y.address))) {
    if (ctx.snap.devices[a.address]) present.push(a);
    else if (ctx.predicted.has(a.address)) ctx.deferred.push(a.address);
    else ctx.refuse(a.address, 'not found on this host');
  }
  return present;
}

/** What an assigned device may not be: a bridge; a PF whose VFs others use; a non-VF as a hostdev interface. */
function checkKind(ctx: PrepareContext, a: Assigned): void {
  const dev = ctx.snap.devices[a.address]!;
  if (isBridge(dev))
    ctx.refuse(a.address, `is a PCI bridge (class 0604): vfio-pci does not bind bridges; remove this hostdev`);
  if (a.iface && !isVf(dev))
    ctx.refuse(
      a.address,
      dev.sriov
        ? `is an SR-IOV PF, not a VF: <interface type='hostdev'> takes VFs only (libvirt refuses the rest); give one of its VFs, or assign the whole device as a <hostdev>`
        : `is not an SR-IOV VF: <interface type='hostdev'> takes VFs only (libvirt refuses the rest); assign it as a <hostdev>`,
    );
  if (!dev.sriov) return;
  // detaching a PF disables its SR-IOV: every VF goes, and with it any guest using one
  for (const vf of dev.sriov.vfs) {
    const other = ctx.holder((h) => h.devices.includes(vf));
    if (other)
      ctx.refuse(
        a.address,
        `is the PF of ${vf}, which running domain '${other.name}' holds: detaching the PF disables SR-IOV and takes the VF from that guest`,
      );
  }
  const relies = ctx.holder((h) => h.pfs.some((p) => p.pf === a.address));
  if (relies)
    ctx.refuse(
      a.address,
      `is an SR-IOV PF whose VFs running domain '${relies.name}' relies on (<passthru:pf>): detaching the PF disables SR-IOV`,
    );
}

export function planTaking(ctx: PrepareContext): Taking {
  const { snap, refuse } = ctx;
  const present = presentDevices(ctx);
  for (const a of present) checkKind(ctx, a);
  const peers = new Map<string, string>();
  for (const a of present) {
    const dev = snap.devices[a.address]!;
    const other = ctx.holder((h) => h.devices.includes(a.address));
    if (other) refuse(a.address, `is used by running domain '${other.name}'`);
    if (dev.iommuGroup === undefined)
      refuse(a.address, 'has no IOMMU group (is the IOMMU on? passthru doctor says how)');
    const g = dev.iommuGroup!;
    const gOther = ctx.holder((h) => h.groups.includes(g));
    if (gOther) refuse(a.address, `shares IOMMU group ${g} with devices of running domain '${gOther.name}'`);
    if (!ctx.holds.groups.includes(g)) ctx.holds.groups.push(g);
    for (const m of snap.groups[g] ?? [a.address]) {
      if (ctx.assigned.has(m) || peers.has(m)) continue;
      const peer = snap.devices[m] ?? refuse(m, `(IOMMU group ${g} of ${a.address}) could not be read`);
      if (isBridge(peer)) continue; // bridges and ports stay with the host, always
      peers.set(m, a.address);
    }
  }
  const taken = new Set([...present.map((a) => a.address), ...peers.keys()]);
  const handover = handoverDevices(
    ctx.input.domain,
    ctx.input.config,
    snap,
    present.map((a) => a.address),
  );
  const prot = { config: ctx.input.config, facts: ctx.input.facts, taken, handover };
  for (const addr of [...taken].sort()) {
    const reason = protectionReason(snap.devices[addr]!, prot);
    if (reason) refuse(addr, peers.has(addr) ? `(IOMMU group peer of ${peers.get(addr)}) ${reason}` : reason);
  }
  return { present, peers, taken, handover };
}

/**
 * Binds to vfio-pci (or the config's vfioDriver) for what the domain takes and libvirt does not
 * detach itself; `planned` holds binds another section already made (the console handover's).
 */
export function planBinds(
  ctx: PrepareContext,
  taking: Taking,
  vgpuVfs: Set<string>,
  planned: Set<string> = new Set(),
): Action[] {
  const { snap, refuse } = ctx;
  const { peers, taken } = taking;
  const actions: Action[] = [];
  for (const addr of [...taken].sort()) {
    const dev = snap.devices[addr]!;
    ctx.holds.devices.push(addr);
    const a = ctx.assigned.get(addr);
    if (a?.managed) continue; // libvirt detaches and reattaches it
    if (vgpuVfs.has(addr)) continue; // a vGPU VF stays on NVIDIA's vendor VFIO driver
    if (isVfioDriver(dev.driver) || dev.driver === 'pci-stub') continue; // viable as it is
    if (!dev.driver && peers.has(addr)) continue; // an unbound peer leaves the group viable
    // vfio-pci refuses a PF with SR-IOV enabled ("Cannot bind to PF with SR-IOV enabled"), and the
    // unbind before it either removes the VFs (igb, i40e, mlx5_core) or leaves them (nvme): never ours to decide
    const vfs = Math.max(dev.sriov?.numVfs ?? 0, ctx.pfRequests.get(addr) ?? 0);
    if (vfs > 0) {
      const role = a ? 'assigned with managed=no' : `IOMMU group peer of ${peers.get(addr)}`;
      refuse(
        addr,
        `(${role}) is an SR-IOV PF with ${vfs} VFs${ctx.pfRequests.has(addr) ? ' needed by this domain' : ''}: vfio-pci does not bind a PF with SR-IOV enabled, and unbinding it from ${dev.driver ?? 'its driver'} may remove its VFs`,
      );
    }
    const why = a ? 'assigned with managed=no' : `IOMMU group ${dev.iommuGroup} peer of ${peers.get(addr)}`;
    const action = bindVfioAction(dev, why, policyFor(ctx.input.config, dev).policy.vfioDriver);
    if (!ctx.done.has(action.id) && !planned.has(action.id)) actions.push(action);
  }
  return actions;
}
