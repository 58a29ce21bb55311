// PCI addresses in every notation administrators meet: sysfs/lspci `0000:01:00.0`, short `01:00.0`,
// libvirt node-device names `pci_0000_01_00_0`, and a bare slot `01:00` meaning all its functions.
import { InputError } from '../errors.js';

export interface PciAddress {
  domain: number; // 0..0xffff
  bus: number; // 0..0xff
  slot: number; // 0..0x1f
  function: number; // 0..7
}

/** A slot (all functions) or a single function. */
export type PciSelector =
  | { kind: 'function'; address: PciAddress }
  | { kind: 'slot'; domain: number; bus: number; slot: number };

const FULL = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;
const NODEDEV = /^pci_([0-9a-f]{4})_([0-9a-f]{2})_([0-9a-f]{2})_([0-7])$/i;
const SLOT = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})$/i;

function checkSlot(slot: number, text: string): void {
  if (slot > 0x1f)
    throw new InputError(`invalid PCI address '${printable(text)}': slot 0x${slot.toString(16)} is above 0x1f`);
}

/** Parses one function's address; throws InputError naming the value. */
export function parsePciAddress(text: string): PciAddress {
  const sel = parsePciSelector(text);
  if (sel.kind !== 'function')
    throw new InputError(`invalid PCI address '${printable(text)}': a function number is needed (e.g. ${text}.0)`);
  return sel.address;
}

/** Parses an address or a bare slot (`01:00` = every function of that slot). */
export function parsePciSelector(text: string): PciSelector {
  const m = FULL.exec(text) ?? NODEDEV.exec(text);
  if (m) {
    const address = { domain: hex(m[1] ?? '0000'), bus: hex(m[2]!), slot: hex(m[3]!), function: hex(m[4]!) };
    checkSlot(address.slot, text);
    return { kind: 'function', address };
  }
  const s = SLOT.exec(text);
  if (s) {
    const slot = hex(s[3]!);
    checkSlot(slot, text);
    return { kind: 'slot', domain: hex(s[1] ?? '0000'), bus: hex(s[2]!), slot };
  }
  throw new InputError(
    `invalid PCI address '${printable(text)}' (expected 0000:01:00.0, 01:00.0, pci_0000_01_00_0 or a slot 01:00)`,
  );
}

export function isPciAddress(text: string): boolean {
  return FULL.test(text) || NODEDEV.test(text);
}

/** Canonical sysfs name: `0000:01:00.0`. */
export function formatPciAddress(a: PciAddress): string {
  return `${h(a.domain, 4)}:${h(a.bus, 2)}:${h(a.slot, 2)}.${a.function.toString(16)}`;
}

/** The attributes libvirt writes on `<address type='pci' .../>` and `<source><address .../>`. */
export function toLibvirtAttrs(a: PciAddress): { domain: string; bus: string; slot: string; function: string } {
  return {
    domain: `0x${h(a.domain, 4)}`,
    bus: `0x${h(a.bus, 2)}`,
    slot: `0x${h(a.slot, 2)}`,
    function: `0x${a.function.toString(16)}`,
  };
}

/**
 * 0x and hex digits, or decimal digits (/^0x[0-9a-f]+$/i, /^[0-9]+$/), else NaN. A loop over a few
 * characters: the two patterns were compiled on every hook start (each twice, as they run four
 * times per address), which cost more than all their matches.
 */
function attrNumber(raw: string): number {
  const hex = raw.length > 2 && raw.charCodeAt(0) === 0x30 && (raw.charCodeAt(1) | 0x20) === 0x78;
  if (raw.length === 0) return NaN;
  for (let i = hex ? 2 : 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    const lower = c | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (hex && lower >= 0x61 && lower <= 0x66))) return NaN;
  }
  return hex ? parseInt(raw.slice(2), 16) : parseInt(raw, 10);
}

/** Reads libvirt's address attributes (hex with 0x, or decimal, as libvirt accepts both). */
export function fromLibvirtAttrs(attrs: Record<string, string | undefined>): PciAddress {
  const num = (name: string, max: number, dflt?: number): number => {
    const raw = attrs[name];
    if (raw === undefined) {
      if (dflt !== undefined) return dflt;
      throw new InputError(`PCI address in the XML lacks '${name}'`);
    }
    const v = attrNumber(raw);
    if (!Number.isInteger(v) || v < 0 || v > max)
      throw new InputError(`invalid PCI ${name} '${printable(raw)}' in the XML`);
    return v;
  };
  return {
    domain: num('domain', 0xffff, 0),
    bus: num('bus', 0xff),
    slot: num('slot', 0x1f),
    function: num('function', 7, 0),
  };
}

export function samePciAddress(a: PciAddress, b: PciAddress): boolean {
  return a.domain === b.domain && a.bus === b.bus && a.slot === b.slot && a.function === b.function;
}

export function comparePciAddress(a: PciAddress, b: PciAddress): number {
  return a.domain - b.domain || a.bus - b.bus || a.slot - b.slot || a.function - b.function;
}

function hex(s: string): number {
  return parseInt(s, 16);
}
function h(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Makes hostile text safe to echo in a one-line error: no control characters, bounded length. */
export function printable(text: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
