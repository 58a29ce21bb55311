// Applies xmlfix's edits, in order, to one document. Plain addresses never touch the host; slots,
// filters and PF names are resolved against the host (real or PASSTHRU_SIM) only when given, and so
// is --add-vgpu (which VF, and which type ID it can take, only the host knows).
import { InputError } from '../../errors.js';
import {
  isPciAddress,
  parsePciAddress,
  parsePciSelector,
  printable,
  samePciAddress,
  type PciAddress,
} from '../../pci/address.js';
import { isPciFilter, parsePciFilter } from '../../pci/filter.js';
import {
  addMdev,
  addPciHostdevs,
  addVf,
  addVgpu,
  removeVgpu,
  assignedAddresses,
  freeGuestSlot,
  guestAddressOf,
  openDomain,
  removeHostdevs,
  removeVf,
  type GuestAddress,
  type RemoveTarget,
} from '../../xml/domain-edits.js';
import {
  HOSTDEV_KEYS,
  MDEV_KEYS,
  VF_KEYS,
  VGPU_KEYS,
  hostdevOptions,
  mdevOptions,
  splitOptions,
  vfOptions,
  vgpuType,
} from '../../xml/edit-options.js';
import { addPf, addVfAddress, removeVfAddress } from '../../xml/network-edits.js';
import { parseMac, parseUuid } from '../../xml/values.js';
import { parseTree } from '../../xml/tree.js';
import { DOMAIN_EDITS, NETWORK_EDITS, type Edit } from './args.js';
import type { HostLookup } from './host-lookup.js';

export interface ApplyContext {
  all: boolean;
  /** How errors name the document ('input', a file name). */
  what?: string;
  /** Loaded on first need: most edits never look at the host. */
  host: () => Promise<HostLookup>;
}

export function rootName(text: string): string {
  const m = /<([A-Za-z_][\w.:-]*)[\s/>]/.exec(text.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, ''));
  return m?.[1] ?? '';
}

export async function applyEdits(text: string, edits: Edit[], ctx: ApplyContext): Promise<string> {
  if (edits.length) parseTree(text, ctx.what ?? 'input'); // refuses bad structure before any edit
  const root = rootName(text);
  if (root !== 'domain' && root !== 'network')
    throw new InputError(`not libvirt domain or network XML: the root element is <${printable(root, 40)}>`);
  for (const e of edits) {
    const forDomain = DOMAIN_EDITS.includes(e.flag);
    if (forDomain && root !== 'domain')
      throw new InputError(`--${e.flag} edits domain XML, but the input is a <${root}>`);
    if (NETWORK_EDITS.includes(e.flag) && root !== 'network')
      throw new InputError(`--${e.flag} edits network XML, but the input is a <${root}>`);
    text = await applyOne(text, e, ctx);
  }
  return text;
}

async function applyOne(text: string, e: Edit, ctx: ApplyContext): Promise<string> {
  const flag = `--${e.flag}`;
  switch (e.flag) {
    case 'add-hostdev': {
      const p = splitOptions(flag, e.value, HOSTDEV_KEYS);
      const opts = hostdevOptions(flag, p.options);
      if (isPciAddress(p.selector)) return addPciHostdevs(text, [parsePciAddress(p.selector)], opts);
      if (isPciFilter(p.selector)) {
        const taken = assignedAddresses(openDomain(text));
        const picked = await (await ctx.host()).pickByFilter(parsePciFilter(p.selector), taken, ctx.all);
        return addPciHostdevs(text, picked, opts);
      }
      const sel = slotSelector(flag, p.selector); // a slot: every function, kept together in the guest
      if (sel.kind === 'function') return addPciHostdevs(text, [sel.address], opts);
      const functions = await (await ctx.host()).slotFunctions(sel.domain, sel.bus, sel.slot);
      const taken = assignedAddresses(openDomain(text));
      const fresh = functions.filter((f) => !taken.some((a) => samePciAddress(a, f)));
      if (fresh.length === 0) return text;
      return addPciHostdevs(text, fresh, opts, functions.length > 1 ? guestSlotFor(text, functions, fresh) : undefined);
    }
    case 'add-mdev':
      return addMdev(text, mdevOptions(flag, splitOptions(flag, e.value, MDEV_KEYS)));
    case 'add-vf': {
      const p = splitOptions(flag, e.value, VF_KEYS);
      const opts = vfOptions(flag, p.options);
      let address: PciAddress;
      if (isPciAddress(p.selector)) address = parsePciAddress(p.selector);
      else address = await (await ctx.host()).freeVf(p.selector, assignedAddresses(openDomain(text)));
      return addVf(text, address, opts);
    }
    case 'remove-hostdev':
      return removeHostdevs(text, removeTarget(flag, e.value, true));
    case 'remove-vf':
      return removeVf(text, removeTarget(flag, e.value, false));
    case 'add-vgpu': {
      const p = splitOptions(flag, e.value, VGPU_KEYS);
      const type = vgpuType(flag, p.options);
      if (!isPciAddress(p.selector))
        throw new InputError(
          `${flag}: '${printable(p.selector)}' is not a PCI address (the GPU's PF, or one of its VFs)`,
        );
      const picked = await (await ctx.host()).vgpuTarget(
        parsePciAddress(p.selector),
        type,
        assignedAddresses(openDomain(text)),
      );
      return addVgpu(text, picked.vf, String(picked.type));
    }
    case 'remove-vgpu':
      if (!isPciAddress(e.value)) throw new InputError(`${flag}: '${printable(e.value)}' is not a PCI address`);
      return removeVgpu(text, parsePciAddress(e.value));
    case 'add-pf':
      return addPf(text, e.value);
    case 'add-vf-address':
      return addVfAddress(text, parsePciAddress(e.value));
    case 'remove-vf-address':
      return removeVfAddress(text, parsePciAddress(e.value));
  }
}

function slotSelector(flag: string, text: string): ReturnType<typeof parsePciSelector> {
  try {
    return parsePciSelector(text);
  } catch (err) {
    // The address parser's own words, plus the third form this flag takes.
    const why = (err as Error).message.replace(/\)$/, ', or a device filter like 10de::0300)');
    throw new InputError(`${flag}: ${why}`);
  }
}

function removeTarget(flag: string, value: string, hostdev: boolean): RemoveTarget {
  if (hostdev && value === 'all') return { kind: 'all' };
  if (isPciAddress(value)) return { kind: 'address', address: parsePciAddress(value) };
  if (hostdev && /^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}$/i.test(value)) {
    const sel = parsePciSelector(value); // a slot: every function of it (no host needed: the XML says which)
    if (sel.kind === 'slot') return { kind: 'slot', domain: sel.domain, bus: sel.bus, slot: sel.slot };
  }
  if (hostdev && /^[0-9a-f-]{36}$/i.test(value)) return { kind: 'uuid', uuid: parseUuid(value, `${flag} UUID`) };
  if (!hostdev && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(value))
    return { kind: 'mac', mac: parseMac(value, `${flag} MAC`) };
  throw new InputError(
    `${flag}: '${printable(value)}' is not ${hostdev ? 'a PCI address, a slot, an mdev UUID or all' : 'a PCI address or a MAC address'}`,
  );
}

/** Guest addresses that keep a slot's functions together as one multifunction device: next to the
 * function 0 the domain already has, or in a free slot when function 0 is among the new ones;
 * otherwise none (libvirt places them). */
function guestSlotFor(text: string, functions: PciAddress[], fresh: PciAddress[]): GuestAddress[] | undefined {
  const f0 = functions.find((f) => f.function === 0);
  if (!f0) return undefined;
  if (fresh.includes(f0)) {
    if (fresh.length === 1) return undefined; // nothing to keep together
    const slot = freeGuestSlot(text);
    return fresh.map((f) => ({ bus: 0, slot, function: f.function, multifunction: f.function === 0 }));
  }
  const g = guestAddressOf(text, f0);
  return g ? fresh.map((f) => ({ bus: g.bus, slot: g.slot, function: f.function })) : undefined;
}
