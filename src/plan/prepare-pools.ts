// planPrepare's check of hostdev pool networks (<interface type='network'> on a network with
// <forward mode='hostdev'>): libvirt picks the VF only after prepare, so what can be judged now is
// that the network exists and that its pool has VFs to give, counting the VFs this domain's own
// <passthru:pf> creates. Networks that are no pool are libvirt's business. No actions.
import type { PrepareContext } from './prepare-context.js';

export function checkPoolNetworks(ctx: PrepareContext): void {
  const { snap, refuse } = ctx;
  const networks = ctx.input.networks;
  if (!networks) return;
  const names = [...new Set(ctx.input.domain.networkInterfaces.map((i) => i.network))].sort();
  for (const name of names) {
    const net = networks[name];
    const who = `network '${name}'`;
    if (net === undefined) continue; // not read: nothing to judge
    if (net === null)
      refuse(who, `not found: libvirt has no such network (virsh net-list --all); fix <source network='${name}'/>`);
    if (!net!.hostdev) continue;
    for (const dev of net!.pfDevs) {
      const addr = snap.netdevs[dev] ?? refuse(`${who} PF ${dev}`, 'not found: no such network interface on this host');
      const pf = snap.devices[addr] ?? refuse(`${who} PF ${dev}`, `(${addr}) could not be read`);
      if (!pf.sriov) refuse(`${who} PF ${dev}`, `(${addr}) is not an SR-IOV PF (no sriov_totalvfs)`);
      const vfs = Math.max(pf.sriov!.numVfs, ctx.pfRequests.get(addr) ?? 0);
      if (vfs === 0)
        refuse(
          `${who} PF ${dev}`,
          `(${addr}) has no VFs: add <passthru:pf dev='${dev}' vfs='N'/> to the domain, or set its sriov_numvfs`,
        );
    }
    const listed = net!.vfAddresses;
    if (listed.length && !listed.some((a) => snap.devices[a] || ctx.predicted.has(a)))
      refuse(who, `lists VFs of which none exists on this host (${listed.join(', ')})`);
    if (net!.pfDevs.length === 0 && listed.length === 0) refuse(who, 'is a hostdev pool with no PF and no VF');
  }
}
