// What `passthru attach` plans for: the part of a domain's request that its edits add, as a domain of
// its own for the planner (the same rules and refusals as prepare). PURE.
import { formatPciAddress } from '../pci/address.js';
import type { DomainPassthrough } from '../xml/model.js';
import type { Holds } from './types.js';

/** The devices (and the metadata about them) in `after` that `before` does not have. */
export function addedPassthrough(before: DomainPassthrough, after: DomainPassthrough): DomainPassthrough {
  const had = new Set([
    ...before.pciHostdevs.map((h) => formatPciAddress(h.address)),
    ...before.hostdevInterfaces.map((h) => formatPciAddress(h.address)),
    ...before.mdevHostdevs.map((m) => m.uuid.toLowerCase()),
  ]);
  const pciHostdevs = after.pciHostdevs.filter((h) => !had.has(formatPciAddress(h.address)));
  const hostdevInterfaces = after.hostdevInterfaces.filter((h) => !had.has(formatPciAddress(h.address)));
  const mdevHostdevs = after.mdevHostdevs.filter((m) => !had.has(m.uuid.toLowerCase()));
  const newPci = new Set([...pciHostdevs, ...hostdevInterfaces].map((h) => formatPciAddress(h.address)));
  const newMdev = new Set(mdevHostdevs.map((m) => m.uuid.toLowerCase()));
  const m = after.metadata;
  return {
    name: after.name,
    ...(after.uuid ? { uuid: after.uuid } : {}),
    pciHostdevs,
    hostdevInterfaces,
    mdevHostdevs,
    networkInterfaces: [],
    metadata: {
      mdevs: m.mdevs.filter((x) => newMdev.has(x.uuid.toLowerCase())),
      vfs: m.vfs.filter((v) => v.address && newPci.has(formatPciAddress(v.address))),
      pfs: [],
      vgpus: (m.vgpus ?? []).filter((v) => newPci.has(formatPciAddress(v.address))),
    },
  };
}

/** What `add` holds beyond `base`: what a detach gives back. */
export function holdsBeyond(base: Holds, add: Holds): Holds {
  return holdsWithout(add, base);
}

export function holdsWithout(base: Holds, gone: Holds): Holds {
  return {
    groups: base.groups.filter((g) => !gone.groups.includes(g)),
    devices: base.devices.filter((d) => !gone.devices.includes(d)),
    mdevs: base.mdevs.filter((u) => !gone.mdevs.includes(u)),
    pfs: base.pfs.filter((p) => !gone.pfs.some((g) => g.pf === p.pf)),
  };
}
