// A hot-plugged device's part of its domain's journal (Journal.attached): entries added by attach,
// dropped by detach, by attach's own undo and by recover; the holds they added go with them.
import { holdsWithout } from '../plan/hotplug.js';
import { removeJournal, writeJournal, type AttachedEntry, type Journal } from './journal.js';
import { undoActionIds, type ExecEnv, type UndoResult } from './run.js';

export function entryFor(j: Journal | undefined, device: string): AttachedEntry | undefined {
  return j?.attached?.find((e) => e.devices.includes(device));
}

/**
 * Undoes the entry's actions; when all are undone, takes the entry, its actions and holds out of the
 * journal, and removes the journal once nothing at all is left in it. A failed undo keeps the entry.
 */
export async function undoEntry(env: ExecEnv, j: Journal, entry: AttachedEntry): Promise<UndoResult> {
  const r = await undoActionIds(env, j, entry.actions);
  if (r.failed) {
    writeJournal(env.stateDir, j);
    return r;
  }
  j.actions = j.actions.filter((a) => !entry.actions.includes(a.id));
  j.holds = holdsWithout(j.holds, entry.holds);
  j.attached = (j.attached ?? []).filter((e) => e !== entry);
  if (j.attached.length === 0) delete j.attached;
  const h = j.holds;
  const held = h.groups.length + h.devices.length + h.mdevs.length + h.pfs.length;
  if (j.actions.length === 0 && !j.attached && held === 0) removeJournal(env.stateDir, j.domain.uuid);
  else writeJournal(env.stateDir, j);
  return r;
}
