// mdevctl's persistent definitions: etc/mdevctl.d/PARENT/UUID holds JSON {"mdev_type": …,
// "start": …, "attrs": […]} (mdevctl's README). A layout with a type directory in between
// (PARENT/TYPE/UUID) is read too. Only the UUIDs asked for are looked up.
import { layout } from '../host/layout.js';
import type { Sysfs } from '../host/sysfs.js';
import type { MdevRequest } from '../xml/model.js';
import { checkMdevParent, checkMdevType } from '../plan/names.js';
import { byText } from '../plan/order.js';

async function list(s: Sysfs, p: string): Promise<string[]> {
  try {
    return await s.list(p);
  } catch {
    return [];
  }
}

export async function readMdevctlDefinitions(s: Sysfs, uuids: string[]): Promise<MdevRequest[]> {
  if (uuids.length === 0) return [];
  const want = new Set(uuids);
  const out: MdevRequest[] = [];
  for (const parent of await list(s, layout.mdevctlDir)) {
    try {
      checkMdevParent(parent);
    } catch {
      continue; // not a device name mdevctl would write
    }
    for (const entry of await list(s, `${layout.mdevctlDir}/${parent}`)) {
      if (want.has(entry)) {
        try {
          const def = JSON.parse(await s.read(`${layout.mdevctlDir}/${parent}/${entry}`)) as { mdev_type?: unknown };
          if (typeof def.mdev_type === 'string') out.push({ uuid: entry, type: checkMdevType(def.mdev_type), parent });
        } catch {
          // an unreadable definition is as good as none: the planner then says the type is unknown
        }
        continue;
      }
      for (const u of await list(s, `${layout.mdevctlDir}/${parent}/${entry}`)) {
        if (want.has(u)) out.push({ uuid: u, type: checkMdevType(entry), parent });
      }
    }
  }
  return out.sort((a, b) => byText(a.uuid, b.uuid));
}
