// Where the functions of one host slot go in the guest, kept together as one multifunction device
// (function 0 with multifunction='on'), as the guest's drivers expect of a GPU and its audio:
// - q35: behind one pcie-root-port, never on pcie-root (bus 0), where qemu would make them
//   integrated endpoints (qemu docs/pcie.txt: no hot-plug, and guests treat them oddly). A root port
//   that no device uses is taken, else a new one is added (libvirt gives it its own address).
// - i440fx: a free slot of bus 0, which is a plain PCI bus there.
// A slot of one function, or a device picked alone, gets no guest address: libvirt places it
// (on q35 behind a root port it adds itself).
import { InputError } from '../errors.js';
import { fromLibvirtAttrs, samePciAddress, type PciAddress } from '../pci/address.js';
import { buildProps, readFields } from './element-props.js';
import { CONTROLLER_PCI_PROPS, GUEST_PCI_ADDRESS_PROPS } from './element-tables.js';
import { el } from './fragment.js';
import { readOs } from './start-facts.js';
import { applySplices } from './splice.js';
import { child, children } from './tree.js';
import {
  guestPciAddresses,
  insertDevices,
  openDomain,
  pciHostdevs,
  sourceAddress,
  type DomainDoc,
} from './domain-doc.js';

export interface GuestAddress {
  bus: number;
  slot: number;
  function: number;
  multifunction?: boolean;
}

/** q35 (PCI Express) rather than i440fx: the machine type says so, or the pcie-root controller. */
export function isQ35(d: DomainDoc): boolean {
  return (readOs(d.doc).machine ?? '').includes('q35') || pciControllers(d).some((c) => c.model === 'pcie-root');
}

// Guest slots on bus 0 that libvirt keeps for itself even when no element names them: host bridge
// (0), the PIIX3 (1, i440fx) or primary video (1, q35), primary video (2, i440fx), and the q35
// chipset functions (ICH9 USB 0x1a/0x1d, sound 0x1b, DMI bridge 0x1e, LPC/SATA/SMBus 0x1f).
const RESERVED_SLOTS = [0x00, 0x01, 0x02, 0x1a, 0x1b, 0x1d, 0x1e, 0x1f];

/** The lowest guest slot on bus 0 that no device of the domain uses and libvirt does not reserve. */
export function freeGuestSlot(d: DomainDoc): number {
  const used = new Set<number>(RESERVED_SLOTS);
  for (const g of guestPciAddresses(d)) if (g.address.bus === 0) used.add(g.address.slot);
  for (let s = 1; s <= 0x1f; s++) if (!used.has(s)) return s;
  throw new InputError('no free guest PCI slot left on bus 0x00 for a multifunction device');
}

function pciControllers(d: DomainDoc): { index?: number; model?: string }[] {
  return children(d.devices, 'controller')
    .filter((c) => c.attrs.type === 'pci')
    .map((c) => readFields(c, CONTROLLER_PCI_PROPS, "controller type='pci'"));
}

/** The index of a pcie-root-port no device sits behind, if there is one. */
export function freeRootPort(d: DomainDoc): number | undefined {
  const usedBuses = new Set(guestPciAddresses(d).map((g) => g.address.bus));
  for (const c of pciControllers(d))
    if (c.model === 'pcie-root-port' && c.index !== undefined && !usedBuses.has(c.index)) return c.index;
  return undefined;
}

/** A new pcie-root-port (libvirt gives it chassis, port and address); its index is the new guest bus. */
export function addRootPort(text: string): { text: string; bus: number } {
  const d = openDomain(text);
  // above every controller index and every bus a device names (libvirt adds the controllers of
  // buses that are named but missing, with those indexes)
  const indexes = pciControllers(d).flatMap((c) => (c.index === undefined ? [] : [c.index]));
  const bus = Math.max(0, ...indexes, ...guestPciAddresses(d).map((g) => g.address.bus)) + 1;
  if (bus > 0xff) throw new InputError('no PCI bus index left for another pcie-root-port');
  const port = buildProps(
    CONTROLLER_PCI_PROPS,
    new Map([
      ['index', String(bus)],
      ['model', 'pcie-root-port'],
    ]),
  );
  const node = el('controller', { type: 'pci', ...port.attrs });
  return { text: applySplices(text, [insertDevices(d, 'controller', [node])]), bus };
}

/** The guest address given to the hostdev of host function `a`, if it has one. */
export function guestAddressOf(d: DomainDoc, a: PciAddress): GuestAddress | undefined {
  for (const h of pciHostdevs(d)) {
    const src = sourceAddress(h);
    const g = child(h, 'address');
    if (!src || !samePciAddress(src, a) || !g || g.attrs.type !== 'pci') continue;
    const ga = fromLibvirtAttrs(g.attrs);
    const { multifunction } = readFields<{ multifunction?: boolean }>(g, GUEST_PCI_ADDRESS_PROPS, 'guest <address>');
    return { bus: ga.bus, slot: ga.slot, function: ga.function, multifunction: multifunction ?? false };
  }
  return undefined;
}

/**
 * Guest addresses for the new functions `fresh` of a host slot with `functions`: next to the
 * function 0 the domain already has, or a place of their own (see the top of this file) when
 * function 0 is among the new ones; otherwise none. May add a root port: returns the text too.
 */
export function placeSlot(
  text: string,
  functions: PciAddress[],
  fresh: PciAddress[],
): { text: string; guest?: GuestAddress[] } {
  const f0 = functions.find((f) => f.function === 0);
  if (!f0 || functions.length < 2) return { text };
  const d = openDomain(text);
  if (!fresh.some((f) => samePciAddress(f, f0))) {
    const g = guestAddressOf(d, f0);
    return g ? { text, guest: fresh.map((f) => ({ bus: g.bus, slot: g.slot, function: f.function })) } : { text };
  }
  if (fresh.length === 1) return { text }; // nothing to keep together
  const at = (bus: number, slot: number) =>
    fresh.map((f) => ({ bus, slot, function: f.function, multifunction: f.function === 0 }));
  if (!isQ35(d)) return { text, guest: at(0, freeGuestSlot(d)) };
  const port = freeRootPort(d);
  if (port !== undefined) return { text, guest: at(port, 0) };
  const added = addRootPort(text);
  return { text: added.text, guest: at(added.bus, 0) };
}
