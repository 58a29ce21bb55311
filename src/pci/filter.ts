// Device filters in lspci's `-d [vendor]:[device][:class[:prog-if]]` form, as OpenNebula's PCI
// filter uses them: `10de:1b80`, `10de::0300`, `::0300`, and comma-separated lists (any may match).
import { InputError } from '../errors.js';
import { printable } from './address.js';

export interface PciIdentity {
  vendor: string; // 4 hex digits, lower case
  device: string; // 4 hex digits
  class: string; // 6 hex digits: class, subclass, prog-if
}

export interface PciFilterTerm {
  vendor?: string;
  device?: string;
  classPrefix?: string; // 2 (class), 4 (class+subclass) or 6 hex digits
}

const TERM = /^([0-9a-f]{4})?:([0-9a-f]{4})?(?::([0-9a-f]{2}|[0-9a-f]{4})(?::([0-9a-f]{2}))?)?$/i;

export function parsePciFilter(spec: string): PciFilterTerm[] {
  const parts = spec.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === ''))
    throw new InputError(
      `invalid device filter '${printable(spec)}' (expected vendor:device[:class], e.g. 10de::0300)`,
    );
  return parts.map((part) => {
    const m = TERM.exec(part);
    if (!m)
      throw new InputError(
        `invalid device filter '${printable(part)}' (expected vendor:device[:class], e.g. 10de:1b80, 10de::0300, ::0300)`,
      );
    const term: PciFilterTerm = {};
    if (m[1]) term.vendor = m[1].toLowerCase();
    if (m[2]) term.device = m[2].toLowerCase();
    if (m[3]) term.classPrefix = (m[3] + (m[4] ?? '')).toLowerCase();
    return term;
  });
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
  return terms.some(
    (t) =>
      (t.vendor === undefined || t.vendor === dev.vendor.toLowerCase()) &&
      (t.device === undefined || t.device === dev.device.toLowerCase()) &&
      (t.classPrefix === undefined || dev.class.toLowerCase().startsWith(t.classPrefix)),
  );
}
