// The passthrough device elements of a domain as libvirt's attach-device/detach-device take them: the
// exact bytes of each <hostdev> (PCI, mdev) and <interface type='hostdev'>, keyed by what names the
// device on the host (canonical PCI address, mdev UUID) and, for an interface, its MAC.
import { formatPciAddress } from '../pci/address.js';
import { child } from './tree.js';
import { hostdevInterfaces, mdevHostdevs, openDomain, pciHostdevs, sourceAddress } from './domain-doc.js';

export interface DeviceFragment {
  kind: 'pci' | 'mdev' | 'interface';
  /** Host side: PCI address (0000:01:00.0) or mdev UUID, lower case. */
  key: string;
  mac?: string;
  xml: string;
}

export function deviceFragments(text: string): DeviceFragment[] {
  const d = openDomain(text);
  const out: DeviceFragment[] = [];
  const slice = (e: { start: number; end: number }) => `${text.slice(e.start, e.end)}\n`;
  for (const e of pciHostdevs(d)) {
    const a = sourceAddress(e);
    if (a) out.push({ kind: 'pci', key: formatPciAddress(a), xml: slice(e) });
  }
  for (const e of mdevHostdevs(d)) {
    const uuid = child(child(e, 'source'), 'address')?.attrs.uuid?.toLowerCase();
    if (uuid) out.push({ kind: 'mdev', key: uuid, xml: slice(e) });
  }
  for (const e of hostdevInterfaces(d)) {
    const a = sourceAddress(e);
    const mac = child(e, 'mac')?.attrs.address?.toLowerCase();
    if (a) out.push({ kind: 'interface', key: formatPciAddress(a), ...(mac ? { mac } : {}), xml: slice(e) });
  }
  return out;
}

/** Whether a fragment is named by a detach selector: PCI address, slot (all its functions), mdev UUID or MAC. */
export function fragmentMatches(f: DeviceFragment, selector: string): boolean {
  const s = selector.toLowerCase();
  if (f.key === s || f.mac === s) return true;
  if (f.kind === 'mdev') return false;
  // a slot '0000:01:00' or '01:00', a short address '01:00.0'
  const short = f.key.slice(5);
  return short === s || f.key.slice(0, -2) === s || short.slice(0, -2) === s;
}
