// Names that become parts of host paths or `ip` arguments (mdev UUIDs and type ids, netdev names)
// are checked here before the planner uses them: hostile XML must not reach '../' or a NUL into a path.
import { InputError } from '../errors.js';
import { printable } from '../pci/address.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// mdev type ids in the wild: 'i915-GVTg_V5_4', 'nvidia-63', 'mtty-2'
const TYPE_ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$/;
// IFNAMSIZ is 16 including the NUL; the kernel refuses '/', ':' and white space in names
const NETDEV = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,14}$/;

export function checkUuid(text: string, what = 'mdev UUID'): string {
  const u = text.toLowerCase();
  if (!UUID.test(u)) throw new InputError(`invalid ${what} '${printable(text)}' (expected 8-4-4-4-12 hex digits)`);
  return u;
}

export function checkMdevType(text: string): string {
  if (!TYPE_ID.test(text) || text.includes('..')) throw new InputError(`invalid mdev type '${printable(text)}'`);
  return text;
}

// an mdev parent: a PCI address, or a device name under mdev_bus such as 'mtty'
const PARENT = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function checkMdevParent(text: string): string {
  if (!PARENT.test(text) || text.includes('..')) throw new InputError(`invalid mdev parent '${printable(text)}'`);
  return text;
}

export function checkNetdev(text: string): string {
  if (!NETDEV.test(text) || text === '.' || text === '..')
    throw new InputError(`invalid network interface name '${printable(text)}'`);
  return text;
}
