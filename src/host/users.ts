// Which running domain holds a device or mdev, from passthru's journals in the state dir (written by
// the hook, src/exec/journal). Devices libvirt assigned without our hook are not known here; they
// still show as bound to vfio-pci in `passthru list`.
import { listJournals } from '../exec/journal.js';
import { stateDirFor } from '../exec/state-dir.js';
import type { HostSnapshot } from './types.js';
import type { Users } from './listing.js';

export function domainUsers(env: NodeJS.ProcessEnv, snap: HostSnapshot): Users {
  const users: Users = new Map();
  const add = (id: string, name: string) => {
    const l = users.get(id) ?? [];
    if (!l.includes(name)) l.push(name);
    users.set(id, l);
  };
  let entries: ReturnType<typeof listJournals>;
  try {
    entries = listJournals(stateDirFor(env));
  } catch {
    return users; // unreadable state dir: list still works, without users
  }
  for (const e of entries) {
    const j = e.journal;
    if (!j) continue;
    for (const d of j.holds.devices) add(d, j.domain.name);
    for (const g of j.holds.groups) for (const m of snap.groups[g] ?? []) add(m, j.domain.name);
    for (const m of j.holds.mdevs) add(m, j.domain.name);
  }
  return users;
}
