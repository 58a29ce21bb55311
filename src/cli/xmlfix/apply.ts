// Applies xmlfix's edits, in order, to one document. Plain addresses never touch the host; slots,
// filters and PF names are resolved against the host (real or PASSTHRU_SIM) only when given, and so
// is --add-vgpu (which VF, and which type ID it can take, only the host knows).
import { InputError } from '../../errors.js';
import {
  formatPciAddress,
  isPciAddress,
  parsePciAddress,
  parsePciSelector,
  printable,
  samePciAddress,
  type PciAddress,
} from '../../pci/address.js';
import { isPciFilter, parsePciFilter } from '../../pci/filter.js';
import { assignedAddresses, openDomain } from '../../xml/domain-doc.js';
import {
  addMdev,
  addPciHostdevs,
  addVf,
  addVgpu,
  removeHostdevs,
  removeVf,
  removeVgpu,
  sameMdev,
  vfWithMac,
  type NewHostdev,
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
  type HostdevOptions,
} from '../../xml/edit-options.js';
import { placeSlot } from '../../xml/guest-placement.js';
import { addPf, addVfAddress, removeVfAddress } from '../../xml/network-edits.js';
import { removeEmulatedVideo } from '../../xml/primary-gpu.js';
import { bootsUefi } from '../../xml/start-facts.js';
import { memoryBackingOptions, setMemoryBacking } from '../../xml/memory-backing-edit.js';
import { setHostdevDriverModel } from '../../xml/hostdev-driver-edit.js';
import { parseTree } from '../../xml/tree.js';
import { parseMac, parseUuid } from '../../xml/values.js';
import { DOMAIN_EDITS, NETWORK_EDITS, type Edit } from './args.js';
import { checkHostdev, checkMdev, checkPrimary, checkSlot, checkVf, pickByFilter, type Note } from './host-checks.js';
import type { HostLookup } from './host-lookup.js';

export interface ApplyContext {
  all: boolean;
  /** How errors name the document ('input', a file name). */
  what?: string;
  /** The host, for what only it can answer (slots, filters, PF names); loaded on first need. */
  host: () => Promise<HostLookup>;
  /** The host to check edits against, or undefined when they go unchecked (said once, by the caller); none when absent. */
  check?: () => Promise<HostLookup | undefined>;
  /** A line for stderr that does not stop the edit (dropped when absent). */
  note?: Note;
}

type Context = Required<ApplyContext>;

export function rootName(text: string): string {
  const m = /<([A-Za-z_][\w.:-]*)[\s/>]/.exec(text.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, ''));
  return m?.[1] ?? '';
}

export async function applyEdits(text: string, edits: Edit[], ctx: ApplyContext): Promise<string> {
  if (edits.length) parseTree(text, ctx.what ?? 'input'); // refuses bad structure before any edit
  const root = rootName(text);
  if (root !== 'domain' && root !== 'network')
    throw new InputError(`not libvirt domain or network XML: the root element is <${printable(root, 40)}>`);
  const full: Context = { what: 'input', check: async () => undefined, note: () => {}, ...ctx };
  for (const e of edits) {
    const forDomain = DOMAIN_EDITS.includes(e.flag);
    if (forDomain && root !== 'domain')
      throw new InputError(`--${e.flag} edits domain XML, but the input is a <${root}>`);
    if (NETWORK_EDITS.includes(e.flag) && root !== 'network')
      throw new InputError(`--${e.flag} edits network XML, but the input is a <${root}>`);
    text = await applyOne(text, e, full);
  }
  return text;
}

async function applyOne(text: string, e: Edit, ctx: Context): Promise<string> {
  const flag = `--${e.flag}`;
  switch (e.flag) {
    case 'add-hostdev':
      return addHostdev(text, flag, e.value, ctx);
    case 'add-mdev': {
      const opts = mdevOptions(flag, splitOptions(flag, e.value, MDEV_KEYS));
      await checkMdev(await ctx.check(), opts.type, opts.parent, flag);
      const same = opts.uuid ? undefined : sameMdev(text, opts);
      if (same) {
        ctx.note(
          `${flag}: the domain has an mdev of type ${opts.type}${opts.parent ? ` on ${opts.parent}` : ''} already (${same}): nothing added (give uuid= for another one)`,
        );
        return text;
      }
      return addMdev(text, opts, flag);
    }
    case 'add-vf': {
      const p = splitOptions(flag, e.value, VF_KEYS);
      const opts = vfOptions(flag, p.options);
      if (isPciAddress(p.selector)) {
        const address = parsePciAddress(p.selector);
        await checkVf(await ctx.check(), address, flag);
        return addVf(text, address, opts);
      }
      // A PF's name picks a free VF; run again with the same MAC, it finds the VF it picked.
      const again = opts.mac === undefined ? undefined : vfWithMac(text, opts.mac);
      const address = again ?? (await (await ctx.host()).freeVf(p.selector, assignedAddresses(openDomain(text))));
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
    case 'variant-driver': {
      const [addr, model] = e.value.split('=', 2) as [string, string | undefined];
      if (!isPciAddress(addr)) throw new InputError(`${flag}: '${printable(addr)}' is not a PCI address`);
      const { checkLibvirtKnowsDriverModel, variantFromHost } = await import('./variant.js');
      await checkLibvirtKnowsDriverModel(process.env, flag);
      const address = parsePciAddress(addr);
      return setHostdevDriverModel(text, address, model ?? (await variantFromHost(process.env, address)));
    }
    case 'memory-backing':
      return setMemoryBacking(text, memoryBackingOptions(flag, e.value));
    case 'add-pf': {
      const h = await ctx.check();
      if (h) await h.vfsOf(e.value); // the PF exists and has VFs, or the error says how to get them
      return addPf(text, e.value);
    }
    case 'add-vf-address': {
      const address = parsePciAddress(e.value);
      await checkVf(await ctx.check(), address, flag);
      return addVfAddress(text, address);
    }
    case 'remove-vf-address':
      return removeVfAddress(text, parsePciAddress(e.value));
  }
}

/** `--add-hostdev ADDR|SLOT|FILTER[,options]`. */
async function addHostdev(text: string, flag: string, value: string, ctx: Context): Promise<string> {
  const p = splitOptions(flag, value, HOSTDEV_KEYS);
  const opts = hostdevOptions(flag, p.options);
  if (opts.props.has('driver.model')) {
    const { checkLibvirtKnowsDriverModel } = await import('./variant.js');
    await checkLibvirtKnowsDriverModel(process.env, `${flag} driver.model`);
  }
  const one = (address: PciAddress) => [{ address, deviceOptions: true }];
  let out: string;
  let first: PciAddress | undefined; // the device primary=on makes the guest's display
  if (isPciAddress(p.selector)) {
    first = parsePciAddress(p.selector);
    await checkHostdev(await ctx.check(), first, flag);
    out = addPciHostdevs(text, one(first), opts, flag);
  } else if (isSlot(p.selector)) {
    const sel = slotSelector(flag, p.selector);
    if (sel.kind === 'function') throw new Error('unreachable: a slot selector');
    const host = await ctx.host();
    const functions = await host.slotFunctions(sel.domain, sel.bus, sel.slot);
    await checkSlot(host, functions, flag);
    if (functions.length > 1 && opts.props.has('driver.model'))
      throw new InputError(
        `${flag}: driver.model names one function's driver, and the slot ${printable(p.selector)} has ${functions.length}: give the function's address (${formatPciAddress(functions[0]!)})`,
      );
    const taken = assignedAddresses(openDomain(text));
    const fresh = functions.filter((f) => !taken.some((a) => samePciAddress(a, f)));
    first = functions[0];
    if (fresh.length === 0) out = text;
    else {
      const placed = placeSlot(text, functions, fresh);
      out = addPciHostdevs(
        placed.text,
        fresh.map((address, i): NewHostdev => {
          // boot order and ROM belong to the device, which is function 0 of the slot
          const h: NewHostdev = { address, deviceOptions: address.function === 0 || functions.length === 1 };
          if (placed.guest) h.guest = placed.guest[i]!;
          return h;
        }),
        opts,
        flag,
      );
    }
  } else if (isPciFilter(p.selector)) {
    const terms = parsePciFilter(p.selector);
    const taken = assignedAddresses(openDomain(text));
    const picked = await pickByFilter(await ctx.host(), terms, taken, ctx.all, flag, ctx.note);
    const single = ['boot.order', 'rom.file', 'driver.model'].some((k) => opts.props.has(k)) || opts.primary;
    if (picked.length > 1 && single)
      throw new InputError(
        `${flag}: boot.order, rom.file, driver.model and primary name one device, and '${printable(p.selector)}' adds ${picked.length} (${picked.map(formatPciAddress).join(', ')}): give one address`,
      );
    first = picked[0];
    out = addPciHostdevs(
      text,
      picked.map((a) => ({ address: a, deviceOptions: true })),
      opts,
      flag,
    );
  } else {
    // the words of the parser the value was meant for: a filter's when it has a filter's shape
    if (/^[^:]*:[^:]*:|^:|\*/.test(p.selector)) parsePciFilter(p.selector);
    slotSelector(flag, p.selector);
    throw new Error('unreachable: not an address, slot or filter');
  }
  return opts.primary && first ? makePrimary(out, first, opts, flag, ctx) : out;
}

/** primary=on (Proxmox's x-vga): the GPU is the guest's display; see src/xml/primary-gpu.ts. */
async function makePrimary(text: string, gpu: PciAddress, opts: HostdevOptions, flag: string, ctx: Context) {
  if (opts.props.get('rom.bar') === 'off')
    throw new InputError(
      `${flag}: primary=on with rom.bar=off: the guest firmware runs the GPU's ROM to make it the boot display (drop rom.bar=off; rom.file= gives another ROM)`,
    );
  await checkPrimary(await ctx.check(), gpu, flag);
  const out = removeEmulatedVideo(text);
  if (out !== text && !bootsUefi(openDomain(out).doc))
    ctx.note(
      `${flag}: primary=on: the domain boots by BIOS (SeaBIOS), where a primary GPU needs qemu's x-vga=on, which libvirt does not write; boot it by UEFI (<os firmware='efi'>)`,
    );
  return out;
}

const isSlot = (text: string): boolean => /^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}$/i.test(text);

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
