// `start begin`: settings of VFs libvirt picked from a hostdev network pool.
// Why this point: `prepare` runs before libvirt allocates network ports (qemuProcessInit calls the
// prepare hook; qemuProcessPrepareDomain allocates the pool's VF afterwards), so at prepare nobody
// knows which VF the domain gets. At `start begin` libvirt has allocated the VF, set its MAC/VLAN and
// bound it to vfio-pci, and QEMU is not running yet: the guest's VF driver first sees the settings
// already in place (at `started` the guest would already be booting), and a failure here still
// aborts the start cleanly (libvirt then runs `stopped` and `release`, which undoes the journal).
import type { DomainPassthrough } from '../xml/model.js';
import { formatPciAddress } from '../pci/address.js';
import { domainUuid } from '../plan/prepare.js';
import { planPoolVfs } from '../plan/pool.js';
import { executeMore, newJournal } from '../exec/run.js';
import { ensureStateDir } from '../exec/journal.js';
import { execEnv, type HookContext } from './context.js';
import { readLinks } from './inputs.js';
import { readSnapshot } from './snapshot.js';
import { readPoolNetwork } from './pool-network.js';
import { findJournal } from './release.js';

export async function hookStart(
  ctx: HookContext,
  domain: DomainPassthrough,
  report: (l: string) => void,
): Promise<void> {
  const poolVfs = domain.metadata.vfs.filter((v) => !v.address && v.mac);
  if (poolVfs.length === 0) return;
  const uuid = domainUuid(domain);
  // the pools of the domain's network interfaces, and the devices they name
  const pools: Record<string, { pfDevs: string[]; vfAddresses: string[] }> = {};
  for (const i of domain.networkInterfaces) {
    if (pools[i.network] || ctx.root === undefined) continue;
    const net = await readPoolNetwork(ctx.root, i.network);
    if (net?.hostdev) pools[i.network] = net;
  }
  const live = domain.hostdevInterfaces.map((i) => formatPciAddress(i.address));
  const vfList = Object.values(pools).flatMap((p) => p.vfAddresses);
  const req = {
    devices: [...new Set([...live, ...vfList])].sort(),
    netdevs: [...new Set(Object.values(pools).flatMap((p) => p.pfDevs))].sort(),
    mdevParents: [],
    mdevs: [],
    allMdevParents: false,
  };
  let snap = await readSnapshot(ctx, req);
  // every pool as PF addresses: named PFs, and the PFs of listed VFs
  const pfsOf: Record<string, string[]> = {};
  for (const [name, p] of Object.entries(pools)) {
    const pfs = new Set<string>();
    for (const dev of p.pfDevs) if (snap.netdevs[dev]) pfs.add(snap.netdevs[dev]!);
    for (const vf of p.vfAddresses) if (snap.devices[vf]?.physfn) pfs.add(snap.devices[vf]!.physfn!);
    pfsOf[name] = [...pfs].sort();
  }
  // the VF found by MAC must be in the snapshot too: read every VF of the pools' PFs
  const missing = Object.values(pfsOf)
    .flat()
    .flatMap((pf) => snap.devices[pf]?.sriov?.vfs ?? [])
    .filter((v) => !snap.devices[v]);
  if (missing.length)
    snap = await readSnapshot(ctx, { ...req, devices: [...new Set([...req.devices, ...missing])].sort() });
  const links = await readLinks(ctx, snap, live, Object.values(pfsOf).flat());
  const j = findJournal(ctx.stateDir, { uuid });
  const plan = planPoolVfs({ domain, snapshot: snap, links, pools: pfsOf, done: j?.actions ?? [] });
  if (plan.actions.length === 0 && !j) return;
  ensureStateDir(ctx.stateDir);
  await executeMore(execEnv(ctx, report), j ?? { ...newJournal(plan), state: 'running' }, plan);
}
