// planPoolVfs: settings of VFs that libvirt picks from a hostdev network pool. Which VF a domain got
// is known only once libvirt has allocated it (after `prepare`); the hook calls this at `start begin`,
// finding the VF by the interface's MAC among the VFs of the pool's PFs (libvirt has set that MAC).
// PURE, like planPrepare.
import type { DomainPassthrough } from '../xml/model.js';
import type { HostSnapshot } from '../host/types.js';
import type { VfInfo } from '../host/netlink.js';
import { formatPciAddress } from '../pci/address.js';
import type { Action, Plan } from './types.js';
import { PlanRefusal } from './refusal.js';
import { domainUuid } from './prepare.js';
import { planVfSettings } from './prepare-vfs.js';
import { byText } from './order.js';

export interface PoolInput {
  domain: DomainPassthrough;
  snapshot: HostSnapshot;
  links: Record<string, VfInfo[]>;
  /** network name -> PF addresses of its pool (forward mode='hostdev'); absent = not a hostdev pool. */
  pools: Record<string, string[]>;
  done?: Action[];
}

/** PF netdev + index -> VF address for the VFs whose MAC is `mac`. */
function findByMac(
  snap: HostSnapshot,
  links: Record<string, VfInfo[]>,
  pfs: string[],
  mac: string,
): string | undefined {
  for (const pfAddr of [...pfs].sort()) {
    const pf = snap.devices[pfAddr];
    const netdev = pf?.netdevs[0];
    if (!pf?.sriov || !netdev) continue;
    const hit = links[netdev]?.find((v) => v.mac.toLowerCase() === mac);
    if (hit) return pf.sriov.vfs[hit.index];
  }
  return undefined;
}

export function planPoolVfs(input: PoolInput): Plan {
  const { domain, snapshot: snap } = input;
  const uuid = domainUuid(domain);
  const done = new Set((input.done ?? []).map((a) => a.id));
  const refuse = (device: string, reason: string): never => {
    throw new PlanRefusal(device, reason);
  };
  const actions: Action[] = [];
  const devices: string[] = [];
  for (const req of domain.metadata.vfs) {
    if (req.address || !req.mac) continue; // VFs named by address were planned at prepare
    const mac = req.mac.toLowerCase();
    // the live XML may already show the pool interface as type='hostdev' with the VF's address
    const live = domain.hostdevInterfaces.find((i) => i.mac?.toLowerCase() === mac);
    let vf: string | undefined = live ? formatPciAddress(live.address) : undefined;
    if (!vf) {
      const iface = domain.networkInterfaces.find((i) => i.mac?.toLowerCase() === mac);
      if (!iface)
        refuse(`VF with MAC ${mac}`, 'has settings in the metadata but no interface of the domain has that MAC');
      const pfs = input.pools[iface!.network];
      if (!pfs) refuse(`VF with MAC ${mac}`, `is on network '${iface!.network}', which is not a hostdev pool`);
      vf = findByMac(snap, input.links, pfs!, mac);
      if (!vf)
        refuse(
          `VF with MAC ${mac}`,
          `not found among the VFs of pool '${iface!.network}' (${pfs!.join(', ') || 'no PFs'})`,
        );
    }
    devices.push(vf!);
    const action = planVfSettings(snap, input.links, vf!, { ...req, mac }, false, refuse);
    if (action && !done.has(action.id)) actions.push(action);
  }
  actions.sort((a, b) => byText(a.device, b.device));
  return {
    domain: { name: domain.name, uuid },
    actions,
    holds: { groups: [], devices: devices.sort(), mdevs: [], pfs: [] },
    deferred: [],
  };
}
