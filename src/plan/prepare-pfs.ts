// planPrepare's first section: VF counts from <passthru:pf vfs=N>. A count is shared between
// domains by count (raised when too low, restored by the last domain that relies on it); it changes
// only through 0, which removes the existing VFs, so never while anyone uses them; and never on a
// protected PF (on drivers such as igb a count change resets the PF, and the host's network with it).
import { formatPciAddress } from '../pci/address.js';
import { InputError } from '../errors.js';
import type { PciDeviceInfo } from '../host/types.js';
import type { Action } from './types.js';
import type { PrepareContext } from './prepare-context.js';
import { checkNetdev } from './names.js';
import { byText } from './order.js';
import { protectionReason } from './protect.js';
import { isVfioDriver } from './devices.js';

/** VF k's address from the PF's SR-IOV offset and stride (PCIe routing ids), for VFs not created yet. */
export function predictVfAddress(pf: PciDeviceInfo, k: number): string | undefined {
  const s = pf.sriov;
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(pf.address);
  if (!s || !m) return undefined;
  const rid = (parseInt(m[2]!, 16) << 8) + (parseInt(m[3]!, 16) << 3) + parseInt(m[4]!, 16) + s.offset + k * s.stride;
  if (rid > 0xffff) return undefined;
  return formatPciAddress({ domain: parseInt(m[1]!, 16), bus: rid >> 8, slot: (rid >> 3) & 0x1f, function: rid & 7 });
}

/** PF address -> the most VFs any <passthru:pf> of the domain asks there. */
function readPfRequests(ctx: PrepareContext): void {
  const { snap, refuse } = ctx;
  for (const req of ctx.input.domain.metadata.pfs) {
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
    ctx.pfRequests.set(pfAddr, Math.max(req.vfs, ctx.pfRequests.get(pfAddr) ?? 0));
  }
}

export function planPfCounts(ctx: PrepareContext): Action[] {
  const { snap, refuse } = ctx;
  readPfRequests(ctx);
  const actions: Action[] = [];
  for (const [pfAddr, want] of [...ctx.pfRequests].sort(([a], [b]) => byText(a, b))) {
    const pf = snap.devices[pfAddr] ?? refuse(`PF ${pfAddr}`, 'not found on this host');
    if (!pf.sriov) refuse(`PF ${pfAddr}`, 'does not support SR-IOV (no sriov_totalvfs)');
    const s = pf.sriov!;
    if (want > s.totalVfs)
      refuse(`PF ${pfAddr}`, `has not enough VFs: ${want} needed, at most ${s.totalVfs} (sriov_totalvfs)`);
    const other = ctx.holder((h) => h.pfs.some((p) => p.pf === pfAddr));
    const original = other?.holds.pfs.find((p) => p.pf === pfAddr)!.original ?? s.numVfs;
    const id = `sriov-numvfs ${pfAddr}`;
    for (let k = 0; k < want; k++) {
      const a = predictVfAddress(pf, k);
      if (a && !snap.devices[a]) ctx.predicted.add(a);
    }
    ctx.holds.pfs.push({ pf: pfAddr, vfs: want, original });
    if (ctx.done.has(id)) continue;
    if (s.numVfs >= want) {
      // enough already: nothing to write, but the journal records the need so the count stays while we run
      actions.push({
        id,
        kind: 'sriov-numvfs',
        device: pfAddr,
        why: `PF has ${s.numVfs} VFs, ${want} needed`,
        do: [],
        undo: [{ op: 'sriov-release', pf: pfAddr, count: original }],
      });
      continue;
    }
    const prot = protectionReason(pf, { config: ctx.input.config, facts: ctx.input.facts, taken: new Set() });
    if (prot) refuse(`PF ${pfAddr}`, `${prot}; a VF count change resets the PF on drivers such as igb`);
    if (s.numVfs > 0) {
      if (other)
        refuse(
          `PF ${pfAddr}`,
          `has ${s.numVfs} VFs in use by running domain '${other.name}'; ${want} needed (raising the count would remove them)`,
        );
      const busy = s.vfs.filter((v) => isVfioDriver(snap.devices[v]?.driver));
      if (busy.length)
        refuse(
          `PF ${pfAddr}`,
          `has ${s.numVfs} VFs, ${want} needed, but ${busy[0]} is bound to ${snap.devices[busy[0]!]!.driver} (raising the count would remove it)`,
        );
    }
    actions.push({
      id,
      kind: 'sriov-numvfs',
      device: pfAddr,
      why: `domain needs ${want} VFs, PF has ${s.numVfs}`,
      do: [{ op: 'sriov-numvfs', pf: pfAddr, count: want }],
      undo: [{ op: 'sriov-release', pf: pfAddr, count: original }],
    });
  }
  return actions;
}
