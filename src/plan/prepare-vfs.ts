// planPrepare's VF settings section (MAC/VLAN for plain-hostdev VFs; trust, spoofchk, state, rates
// for any VF), and the one-VF rule planPoolVfs shares.
import { formatPciAddress } from '../pci/address.js';
import { InputError } from '../errors.js';
import type { VfRequest } from '../xml/model.js';
import type { HostSnapshot } from '../host/types.js';
import type { VfInfo, VfSettings } from '../host/netlink.js';
import type { Action } from './types.js';
import type { PrepareContext } from './prepare-context.js';
import { vfSettingsAction } from './actions.js';

export function planVfs(ctx: PrepareContext): Action[] {
  const actions: Action[] = [];
  const seen = new Set<string>();
  for (const req of ctx.input.domain.metadata.vfs) {
    if (!req.address) continue; // a pool VF: known only at `start begin` (planPoolVfs)
    const addr = formatPciAddress(req.address);
    if (seen.has(addr)) throw new InputError(`two <passthru:vf> elements for ${addr}`);
    seen.add(addr);
    const a = ctx.assigned.get(addr);
    if (!a) ctx.refuse(addr, 'has VF settings in the metadata but is not assigned to this domain');
    if (ctx.deferred.includes(addr)) continue;
    const action = planVfSettings(ctx.snap, ctx.input.links, addr, req, !a!.iface, ctx.refuse);
    if (action && !ctx.done.has(action.id)) actions.push(action);
  }
  return actions;
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
