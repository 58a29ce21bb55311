// planPrepare's mdev section: an mdev that exists is used as it is and never removed; a new one is
// created from <passthru:mdev> or an mdevctl definition, placed by the rule doctor shares (mdev.ts).
import type { Action } from './types.js';
import type { PrepareContext } from './prepare-context.js';
import { checkMdevParent, checkMdevType, checkUuid } from './names.js';
import { byText } from './order.js';
import { placeMdev, type MdevUse } from './mdev.js';

export function planMdevs(ctx: PrepareContext): Action[] {
  const { snap, refuse, input } = ctx;
  const actions: Action[] = [];
  const used: MdevUse = new Map(); // parent -> type -> instances this plan creates
  for (const h of [...input.domain.mdevHostdevs].sort((x, y) => byText(x.uuid, y.uuid))) {
    const id = checkUuid(h.uuid);
    const other = ctx.holder((x) => x.mdevs.includes(id));
    if (other) refuse(`mdev ${id}`, `is used by running domain '${other.name}'`);
    ctx.holds.mdevs.push(id);
    if (snap.mdevs[id]) continue; // exists: used as is, never removed by us
    const actionId = `mdev-create ${id}`;
    if (ctx.done.has(actionId)) continue;
    const req =
      input.domain.metadata.mdevs.find((m) => m.uuid.toLowerCase() === id) ??
      input.mdevDefinitions?.find((m) => m.uuid.toLowerCase() === id);
    if (!req)
      refuse(`mdev ${id}`, 'does not exist and neither <passthru:mdev> nor an mdevctl definition gives its type');
    const type = checkMdevType(req!.type);
    const place = placeMdev(snap, type, req!.parent !== undefined ? checkMdevParent(req!.parent) : undefined, used);
    if (!place.ok) return refuse(`mdev ${id}`, place.reason);
    const { parent, wanted } = place;
    used.set(parent, wanted);
    actions.push({
      id: actionId,
      kind: 'mdev-create',
      device: id,
      why: `mdev of type ${type} on ${parent}`,
      do: [{ op: 'mdev-create', parent, type, uuid: id }],
      undo: [{ op: 'mdev-remove', uuid: id }],
    });
  }
  return actions;
}
