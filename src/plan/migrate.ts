// What `migrate begin` and `restore begin` decide about a domain arriving on this host, beside the
// planner's own refusals (devices present, not held by another domain, mdev types with instances
// free, PFs able to give the VFs: planPrepare, run on the arriving domain, says those). PURE.
//  - An mdev the domain must create here whose named parent is missing, does not offer its type or
//    has no room left, moves to the first parent that offers the same type with room: a type name
//    belongs to one kind of device and driver (i915-GVTg_V5_4, nvidia-63, mtty-2), so such a parent
//    gives the guest the same device. The filter writes the new parent into our metadata.
//  - A VF from a pool network needs nothing: libvirt picks a free VF of the pool at start.
//  - A PCI device (hostdev or hostdev interface) moves live only with a vfio variant driver that
//    can save and load its state; with plain vfio-pci, qemu refuses to migrate it.
import type { HostSnapshot } from '../host/types.js';
import type { DomainPassthrough } from '../xml/model.js';
import { formatPciAddress } from '../pci/address.js';
import { placeMdev, type MdevUse } from './mdev.js';

export interface MdevMove {
  uuid: string;
  type: string;
  from: string;
  to: string;
}

/** The domain with the mdevs it must create here moved to parents that can take them, and the moves. */
export function relocateMdevs(
  domain: DomainPassthrough,
  snap: HostSnapshot,
): { domain: DomainPassthrough; moves: MdevMove[] } {
  const assigned = new Set(domain.mdevHostdevs.map((h) => h.uuid.toLowerCase()));
  const used: MdevUse = new Map();
  const moves: MdevMove[] = [];
  const toCreate = domain.metadata.mdevs.filter(
    (m) => assigned.has(m.uuid.toLowerCase()) && !snap.mdevs[m.uuid.toLowerCase()],
  );
  // first those that fit where the domain names them, so a move never takes their room
  const stays = new Set<string>();
  for (const m of toCreate) {
    if (m.parent === undefined) continue;
    const here = placeMdev(snap, m.type, m.parent, used);
    if (!here.ok) continue;
    used.set(here.parent, here.wanted);
    stays.add(m.uuid);
  }
  const mdevs = domain.metadata.mdevs.map((m) => {
    if (m.parent === undefined || stays.has(m.uuid) || !toCreate.includes(m)) return m;
    const place = placeMdev(snap, m.type, undefined, used);
    if (!place.ok) return m; // the planner refuses it, with its own line
    used.set(place.parent, place.wanted);
    moves.push({ uuid: m.uuid.toLowerCase(), type: m.type, from: m.parent, to: place.parent });
    return { ...m, parent: place.parent };
  });
  return { domain: { ...domain, metadata: { ...domain.metadata, mdevs } }, moves };
}

/** Notes for a live migration: the PCI devices that need a migratable (vfio variant) driver. */
export function migrationNotes(domain: DomainPassthrough): string[] {
  const pci = [...domain.pciHostdevs, ...domain.hostdevInterfaces].map((h) => formatPciAddress(h.address)).sort();
  return pci.map(
    (a) =>
      `${a} is a PCI hostdev: it migrates live only with a vfio variant driver that supports migration on both hosts; with plain vfio-pci qemu refuses to migrate it`,
  );
}
