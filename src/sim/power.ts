// Reset and power attributes of a simulated PCI device, with the kernel's store semantics
// (drivers/pci/pci-sysfs.c, drivers/pci/pci.c reset_method_store, 5.15+):
//  - reset_method lists the enabled reset methods, space-separated, in the order they are tried;
//    it exists only for a device with at least one reset method. A write of names sets the list:
//    an unknown name and a method the device does not support are refused (EINVAL); `default`
//    restores the list probed at enumeration; an empty write disables every method (the kernel
//    logs "All device reset methods disabled by user").
//  - d3cold_allowed reads 0/1; a write is parsed as a number (kstrtoul, base 0) and stored as 0/1.
// The state keeps only what differs from the default, so a host put back reads byte-identical.
import { errnoError } from '../host/sysfs.js';
import type { SimDevice } from './state.js';

/** The kernel's reset methods, in its priority order (pci_reset_fn_methods). */
export const RESET_METHODS = ['device_specific', 'acpi', 'flr', 'af_flr', 'pm', 'bus', 'cxl_bus'] as const;

export const POWER_ATTRS = ['d3cold_allowed', 'reset_method'] as const;

type FileNode = { t: 'file'; get: () => string; set: (data: string) => void };

/** The methods enabled at enumeration (a vendor module may make more supported later). */
function defaultMethods(d: SimDevice): string[] {
  return d.resetDefault ?? d.resetSupported ?? [];
}

/** The attributes this device shows. */
export function powerEntries(d: SimDevice): string[] {
  return d.resetSupported?.length ? ['d3cold_allowed', 'reset_method'] : ['d3cold_allowed'];
}

export function powerNode(d: SimDevice, attr: string): FileNode | undefined {
  if (attr === 'd3cold_allowed')
    return {
      t: 'file',
      get: () => (d.d3coldAllowed === false ? '0\n' : '1\n'),
      set: (v) => {
        const t = v.replace(/\n$/, '');
        if (!/^(?:0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.test(t)) throw errnoError('EINVAL', `invalid value '${t}'`);
        if (Number(t) === 0) d.d3coldAllowed = false;
        else delete d.d3coldAllowed;
      },
    };
  if (attr === 'reset_method' && d.resetSupported?.length)
    return {
      t: 'file',
      get: () => {
        const now = d.resetMethod ?? defaultMethods(d);
        return now.length ? `${now.join(' ')}\n` : '';
      },
      set: (v) => writeResetMethod(d, v),
    };
  return undefined;
}

function writeResetMethod(d: SimDevice, v: string): void {
  const t = v.replace(/\n$/, '');
  if (t === '') {
    d.resetMethod = [];
    return;
  }
  if (t === 'default') {
    delete d.resetMethod;
    return;
  }
  const names = t.split(' ').filter((n) => n !== '');
  const list: string[] = [];
  for (const n of names) {
    if (!(RESET_METHODS as readonly string[]).includes(n)) throw errnoError('EINVAL', `invalid reset method '${n}'`);
    if (!d.resetSupported!.includes(n)) throw errnoError('EINVAL', `unsupported reset method '${n}'`);
    if (!list.includes(n)) list.push(n);
  }
  const dflt = defaultMethods(d);
  if (list.length === dflt.length && list.every((n, i) => dflt[i] === n)) delete d.resetMethod;
  else d.resetMethod = list;
}
