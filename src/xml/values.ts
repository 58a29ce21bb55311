// Validators for values that come from XML or the command line and later become sysfs paths or
// `ip` arguments. Each throws an InputError naming what and the offending value.
import { InputError } from '../errors.js';
import { formatPciAddress, isPciAddress, parsePciAddress, printable, type PciAddress } from '../pci/address.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
// Kernel netdev names: up to 15 bytes, no '/', whitespace, ':' is allowed only for aliases (refused here).
const NETDEV = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
// mdev type ids and parent names are sysfs directory names: no separators, no dot-dot.
const SYSFS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:+-]{0,127}$/;

export function parseUuid(text: string, what = 'UUID'): string {
  if (!UUID.test(text)) throw new InputError(`invalid ${what} '${printable(text)}' (expected 8-4-4-4-12 hex digits)`);
  return text.toLowerCase();
}

export function parseMac(text: string, what = 'MAC address'): string {
  if (!MAC.test(text)) throw new InputError(`invalid ${what} '${printable(text)}' (expected aa:bb:cc:dd:ee:ff)`);
  const mac = text.toLowerCase();
  if (parseInt(mac.slice(0, 2), 16) & 1)
    throw new InputError(`invalid ${what} '${mac}': a multicast address cannot be a NIC's address`);
  return mac;
}

export function parseVlan(text: string, what = 'VLAN id'): number {
  if (!/^[0-9]{1,4}$/.test(text) || Number(text) > 4095)
    throw new InputError(`invalid ${what} '${printable(text)}' (expected 0-4095)`);
  return Number(text);
}

export function parseRate(text: string, what = 'rate'): number {
  if (!/^[0-9]{1,7}$/.test(text))
    throw new InputError(`invalid ${what} '${printable(text)}' (expected Mbps, 0-9999999)`);
  return Number(text);
}

export function parseVfCount(text: string, what = 'VF count'): number {
  if (!/^[0-9]{1,4}$/.test(text) || Number(text) < 1)
    throw new InputError(`invalid ${what} '${printable(text)}' (expected 1-9999)`);
  return Number(text);
}

export function parseOnOff(text: string, what: string): boolean {
  if (text === 'on' || text === 'yes') return true;
  if (text === 'off' || text === 'no') return false;
  throw new InputError(`invalid ${what} '${printable(text)}' (expected on or off)`);
}

export function parseVfState(text: string, what = 'VF link state'): 'auto' | 'enable' | 'disable' {
  if (text === 'auto' || text === 'enable' || text === 'disable') return text;
  throw new InputError(`invalid ${what} '${printable(text)}' (expected auto, enable or disable)`);
}

export function parseNetdevName(text: string, what = 'interface name'): string {
  if (!NETDEV.test(text))
    throw new InputError(
      `invalid ${what} '${printable(text)}' (a kernel interface name: up to 15 letters, digits, '_', '.', '-')`,
    );
  return text;
}

export function parseMdevTypeName(text: string, what = 'mdev type'): string {
  if (!SYSFS_NAME.test(text) || text.includes('..'))
    throw new InputError(`invalid ${what} '${printable(text)}' (letters, digits and _.:+- only)`);
  return text;
}

// An NVIDIA vGPU type: the numeric ID of creatable_vgpu_types / current_vgpu_type, or a profile name
// as listed there ('NVIDIA L40S-12Q'). Only the ID is ever written to the host.
const VGPU_TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}$/;

export function parseVgpuType(text: string, what = 'vGPU type'): string {
  if (/^[0-9]{1,10}$/.test(text) && Number(text) > 0 && Number(text) <= 0xffffffff) return String(Number(text));
  if (VGPU_TYPE_NAME.test(text) && !/^[0-9]+$/.test(text) && !text.endsWith(' ')) return text;
  throw new InputError(
    `invalid ${what} '${printable(text)}' (a type ID like 1157, or a profile name like 'NVIDIA L40S-12Q')`,
  );
}

/** A PCI address in any notation, errors naming `what`. */
export function parsePciAddressAs(text: string, what: string): PciAddress {
  try {
    return parsePciAddress(text);
  } catch (err) {
    throw new InputError(`${what}: ${(err as Error).message}`);
  }
}

/** An mdev parent: a PCI parent in any notation becomes its sysfs name; others (e.g. mtty) are checked names. */
export function parseMdevParent(text: string, what = 'mdev parent'): string {
  return isPciAddress(text) ? formatPciAddress(parsePciAddressAs(text, what)) : parseMdevTypeName(text, what);
}
