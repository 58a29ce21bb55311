// Where a new mdev goes, and whether it fits: the one rule the planner (planPrepare) and
// `passthru doctor --domain` both apply, so they can never disagree on an mdev. PURE: a snapshot,
// the type (and parent, when the domain names one) and what this domain already places in, a
// placement or the reason it cannot be made out.
import type { HostSnapshot, MdevTypeInfo } from '../host/types.js';

/** parent -> mdev type -> new instances this domain creates there (in the planner's order). */
export type MdevUse = Map<string, Map<string, number>>;

export type MdevPlacement =
  | {
      ok: true;
      parent: string;
      /** The parent's types now (available_instances before this domain creates anything). */
      types: MdevTypeInfo[];
      /** Every new instance of this domain on that parent, this one included: type -> count. */
      wanted: Map<string, number>;
    }
  | {
      ok: false;
      /** 'no-parent': no parent offers the type with room left; 'unknown-parent': the named parent is
       * no mdev parent here; 'not-offered': it does not offer the type; 'exhausted': not enough of the
       * type; 'pool': each type alone would fit, together they may not. */
      why: 'no-parent' | 'unknown-parent' | 'not-offered' | 'exhausted' | 'pool';
      /** One line for a refusal: what the planner prints after `mdev UUID`. */
      reason: string;
      parent?: string;
    };

/** The mdev types a parent offers: a PCI device's, or a non-PCI parent's (mtty); undefined if unknown. */
export function mdevTypesOf(snap: HostSnapshot, parent: string): MdevTypeInfo[] | undefined {
  return snap.devices[parent]?.mdevTypes ?? snap.mdevParents?.[parent];
}

/**
 * One more new mdev of `type`, on `parent` or (none named) on the first parent in address order
 * whose pool still takes it after what `used` holds. Does not change `used`: the caller records
 * `wanted` under `parent` once it keeps the placement.
 */
export function placeMdev(snap: HostSnapshot, type: string, parent: string | undefined, used: MdevUse): MdevPlacement {
  const at = parent ?? findParent(snap, type, used);
  if (at === undefined)
    return {
      ok: false,
      why: 'no-parent',
      reason: `has no parent: no device offers mdev type '${type}' with instances left`,
    };
  const types = mdevTypesOf(snap, at);
  if (!types)
    return {
      ok: false,
      why: 'unknown-parent',
      parent: at,
      reason: snap.devices[at]
        ? `parent ${at} exists but offers no mdev types (its driver has mediated devices off or unsupported)`
        : `parent ${at} not found on this host`,
    };
  const t = types.find((x) => x.id === type);
  if (!t)
    return { ok: false, why: 'not-offered', parent: at, reason: `parent ${at} does not offer mdev type '${type}'` };
  const wanted = new Map(used.get(at) ?? []);
  const n = (wanted.get(type) ?? 0) + 1;
  wanted.set(type, n);
  if (n > t.availableInstances)
    return {
      ok: false,
      why: 'exhausted',
      parent: at,
      reason: `type '${type}' on ${at} has no instances left (${t.availableInstances} available, ${n} needed)`,
    };
  if (!fitsSharedPool(types, wanted))
    return {
      ok: false,
      why: 'pool',
      parent: at,
      reason: `mdev types of one parent draw from one pool: ${describeWanted(types, wanted)} may not fit together on ${at}`,
    };
  return { ok: true, parent: at, types, wanted };
}

/** `1 of 'mtty-1' (1 available) and 1 of 'mtty-2' (1 available)`. */
export function describeWanted(types: MdevTypeInfo[], wanted: Map<string, number>): string {
  return [...wanted]
    .map(([ty, k]) => `${k} of '${ty}' (${types.find((x) => x.id === ty)?.availableInstances ?? 0} available)`)
    .join(' and ');
}

function findParent(snap: HostSnapshot, type: string, used: MdevUse): string | undefined {
  const parents = [...Object.keys(snap.devices), ...Object.keys(snap.mdevParents ?? {})].sort();
  for (const addr of parents) {
    const types = mdevTypesOf(snap, addr);
    if (!types?.some((x) => x.id === type)) continue;
    const wanted = new Map(used.get(addr) ?? []);
    wanted.set(type, (wanted.get(type) ?? 0) + 1);
    if (fitsSharedPool(types, wanted)) return addr;
  }
  return undefined;
}

/**
 * The share of the parent's pool that `wanted` may take, as an exact fraction num/den, or undefined
 * when a wanted type has no instances at all. sysfs shows no pool, but the types of a real parent
 * share one (mtty's ports, GVT-g's graphics memory, NVIDIA's frame buffer): type t costs at most
 * free/available(t), so count instances of t take at most count/available(t) of what is free.
 */
function poolShare(types: MdevTypeInfo[], wanted: Map<string, number>): { num: bigint; den: bigint } | undefined {
  let num = 0n;
  let den = 1n;
  for (const [id, count] of wanted) {
    const avail = BigInt(types.find((x) => x.id === id)?.availableInstances ?? 0);
    if (avail === 0n) return undefined;
    // num/den + count/avail
    num = num * avail + BigInt(count) * den;
    den *= avail;
  }
  return { num, den };
}

/**
 * Whether `wanted` new instances (type -> count) surely fit on one parent: sum(count/available) <= 1.
 * For one type that is count <= available; for several it may refuse what independent counts would
 * allow, never the other way round. Exact integer arithmetic.
 */
export function fitsSharedPool(types: MdevTypeInfo[], wanted: Map<string, number>): boolean {
  const s = poolShare(types, wanted);
  return s !== undefined && s.num <= s.den;
}

/**
 * How many instances of each of the parent's types surely still fit once `wanted` exist: the free
 * share (1 - sum) times the type's available_instances, rounded down. Exact for one pool of
 * whole-number costs (mtty's 24 ports: after 2 of mtty-2, 20 of mtty-1 or 10 of mtty-2).
 */
export function poolLeft(types: MdevTypeInfo[], wanted: Map<string, number>): Map<string, number> {
  const s = poolShare(types, wanted);
  const left = new Map<string, number>();
  for (const t of types) {
    const free = s === undefined || s.num > s.den ? 0n : ((s.den - s.num) * BigInt(t.availableInstances)) / s.den;
    left.set(t.id, Number(free));
  }
  return left;
}
