// Device filters in lspci's `-d [vendor]:[device][:class[:prog-if]]` form, read as lspci reads them:
// each field is hex (1-4 digits; vendor and device may carry lspci's tolerated `0x`), empty or `*`
// means any, the class (class and subclass, 16 bits) may hold `x` digits that match anything
// (`::03xx` = every display controller), prog-if is exact. Comma-separated lists match when any
// term does (`10de::0300,1002::0300`). One departure, on purpose: lspci reads a class of fewer than
// four digits as a number (`::3` = 0x0003), which silently matches almost nothing, so such a class
// is refused with the spelling that was meant (`03xx`).
import { InputError } from '../errors.js';
import { printable } from './address.js';

export interface PciIdentity {
  vendor: string; // 4 hex digits
  device: string; // 4 hex digits
  class: string; // 6 hex digits: class, subclass, prog-if
}

export interface PciFilterTerm {
  vendor?: number;
  device?: number;
  /** Class and subclass (16 bits), compared under `classMask` (an `x` digit clears its nibble). */
  classValue?: number;
  classMask?: number;
  progIf?: number;
  /** The term as written, for messages. */
  text: string;
}

const SYNTAX = 'vendor:device[:class[:prog-if]], e.g. 10de:1b80, 10de::0300, 10de:*:03xx, ::0300';

const anyField = (f: string | undefined): boolean => f === undefined || f === '' || f === '*';

/** One hex field of at most `max`, or undefined for "any"; throws naming the field. */
function hexField(spec: string, field: string | undefined, what: string, max: number): number | undefined {
  if (anyField(field)) return undefined;
  const digits = /^0x/i.test(field!) ? field!.slice(2) : field!;
  if (!/^[0-9a-f]{1,4}$/i.test(digits) || parseInt(digits, 16) > max)
    throw new InputError(
      `invalid device filter '${printable(spec)}': ${what} '${printable(field!)}' is not hex up to ${max.toString(16)} (${SYNTAX})`,
    );
  return parseInt(digits, 16);
}

function classField(spec: string, field: string | undefined): { value: number; mask: number } | undefined {
  if (anyField(field)) return undefined;
  if (!/^[0-9a-fx]{1,4}$/i.test(field!))
    throw new InputError(
      `invalid device filter '${printable(spec)}': class '${printable(field!)}' is not 4 hex or x digits (${SYNTAX})`,
    );
  if (field!.length < 4)
    throw new InputError(
      `invalid device filter '${printable(spec)}': class '${printable(field!)}' has fewer than 4 digits (class and subclass, as lspci -d reads it: 0300, or ${field!.padEnd(4, 'x')} for any subclass)`,
    );
  let value = 0;
  let mask = 0;
  for (const c of field!.toLowerCase()) {
    value = (value << 4) | (c === 'x' ? 0 : parseInt(c, 16));
    mask = (mask << 4) | (c === 'x' ? 0 : 0xf);
  }
  return { value, mask };
}

function parseTerm(spec: string, text: string): PciFilterTerm {
  const f = text.split(':');
  if (f.length < 2 || f.length > 4) throw new InputError(`invalid device filter '${printable(text)}' (${SYNTAX})`);
  const term: PciFilterTerm = { text };
  const vendor = hexField(spec, f[0], 'vendor', 0xffff);
  const device = hexField(spec, f[1], 'device', 0xffff);
  const cls = classField(spec, f[2]);
  const progIf = hexField(spec, f[3], 'prog-if', 0xff);
  if (vendor !== undefined) term.vendor = vendor;
  if (device !== undefined) term.device = device;
  if (cls) {
    term.classValue = cls.value;
    term.classMask = cls.mask;
  }
  if (progIf !== undefined) term.progIf = progIf;
  return term;
}

export function parsePciFilter(spec: string): PciFilterTerm[] {
  const parts = spec.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new InputError(`invalid device filter '${printable(spec)}' (${SYNTAX})`);
  return parts.map((p) => parseTerm(spec, p));
}

export function isPciFilter(spec: string): boolean {
  try {
    parsePciFilter(spec);
    return true;
  } catch {
    return false;
  }
}

export function matchesPciFilter(dev: PciIdentity, terms: PciFilterTerm[]): boolean {
  const vendor = parseInt(dev.vendor, 16);
  const device = parseInt(dev.device, 16);
  const cls = parseInt(dev.class.slice(0, 4), 16);
  const progIf = parseInt(dev.class.slice(4, 6) || '0', 16);
  return terms.some(
    (t) =>
      (t.vendor === undefined || t.vendor === vendor) &&
      (t.device === undefined || t.device === device) &&
      (t.classValue === undefined || (cls & t.classMask!) === t.classValue) &&
      (t.progIf === undefined || t.progIf === progIf),
  );
}

/** The terms as given, for messages: `10de::0300,1002::0300`. */
export function formatPciFilter(terms: PciFilterTerm[]): string {
  return terms.map((t) => t.text).join(',');
}
