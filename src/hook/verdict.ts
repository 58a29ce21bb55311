// The one verdict on a domain's start: whether the hook acts on it at all, and if so the plan its
// prepare would run or the planner's refusal. `passthru hook --dry-run` and `passthru doctor
// --domain` take it from here; the hook's prepare plans through the same planFromHost, so the three
// can only agree.
import { InputError } from '../errors.js';
import type { DomainPassthrough } from '../xml/model.js';
import type { Plan } from '../plan/types.js';
import { PlanRefusal } from '../plan/refusal.js';
import { domainUuid } from '../plan/prepare.js';
import type { HookContext } from './context.js';
import { otherDomains, type PlanMemo, planFromHost, readNetworks } from './inputs.js';

export type Verdict =
  /** Nothing the hook acts on: it exits at once. */
  { kind: 'nothing' } | { kind: 'plan'; plan: Plan } | { kind: 'refused'; refusal: PlanRefusal };

/** True when the domain asks for anything the hook acts on, pool networks aside (see actsOn). */
export function wantsPassthrough(d: DomainPassthrough): boolean {
  const m = d.metadata;
  return (
    d.pciHostdevs.length +
      d.hostdevInterfaces.length +
      d.mdevHostdevs.length +
      m.mdevs.length +
      m.vfs.length +
      m.pfs.length +
      m.vgpus.length >
    0
  );
}

/**
 * Whether the hook acts on the domain: it wants passthrough, or one of its networks is a hostdev pool.
 * The networks it reads go into `memo`, where the planning that follows finds them.
 */
export async function actsOn(
  ctx: Pick<HookContext, 'root'>,
  d: DomainPassthrough,
  memo: PlanMemo = {},
): Promise<boolean> {
  if (wantsPassthrough(d)) return true;
  if (d.networkInterfaces.length === 0) return false;
  try {
    if (!('networks' in memo)) memo.networks = await readNetworks(ctx, d);
    return Object.values(memo.networks ?? {}).some((n) => n?.hostdev);
  } catch (err) {
    // a name no libvirt network can have, in a domain that asks nothing else of us: libvirt's to refuse
    if (err instanceof InputError) return false;
    throw err;
  }
}

/** prepare's verdict, changing nothing and taking no lock; errors other than a refusal are thrown. */
export async function judgePrepare(ctx: HookContext, domain: DomainPassthrough, memo: PlanMemo = {}): Promise<Verdict> {
  if (!(await actsOn(ctx, domain, memo))) return { kind: 'nothing' };
  try {
    const others = otherDomains(ctx.stateDir, domainUuid(domain));
    return { kind: 'plan', plan: await planFromHost(ctx, domain, others, [], memo) };
  } catch (err) {
    if (err instanceof PlanRefusal) return { kind: 'refused', refusal: err };
    throw err;
  }
}
