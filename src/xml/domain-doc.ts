// A domain document opened for edits: its tree, style and <devices>, and the readers every edit
// shares (which host devices it assigns, where a new device element goes). Values an edit reads
// from existing elements are checked: an invalid one is an error naming it, never skipped, since
// an edit that misreads the domain would add a second copy of a device or remove the wrong one.
import { InputError } from '../errors.js';
import { fromLibvirtAttrs, printable, samePciAddress, type PciAddress } from '../pci/address.js';
import type { XmlNode } from './fragment.js';
import { insertChildren, type Splice } from './splice.js';
import { detectStyle, type XmlStyle } from './style.js';
import { child, children, parseTree, type XmlDoc, type XmlElement } from './tree.js';
import { propOf, readValue } from './element-props.js';
import { HOSTDEV_MDEV_PROPS } from './element-tables.js';

// libvirt's order of device kinds: a new element goes after the last of its kind, else after the
// last kind that libvirt writes before it.
const DEVICE_ORDER = [
  'emulator',
  'disk',
  'controller',
  'lease',
  'filesystem',
  'interface',
  'smartcard',
  'serial',
  'parallel',
  'console',
  'channel',
  'input',
  'tpm',
  'graphics',
  'sound',
  'audio',
  'video',
  'hostdev',
];

export interface DomainDoc {
  doc: XmlDoc;
  style: XmlStyle;
  devices: XmlElement;
}

export function openDomain(text: string): DomainDoc {
  const doc = parseTree(text);
  if (doc.root.name !== 'domain')
    throw new InputError(`expected a libvirt <domain> document, found <${doc.root.name}>`);
  const devices = child(doc.root, 'devices');
  if (!devices) throw new InputError('the domain has no <devices> element');
  return { doc, style: detectStyle(doc), devices };
}

/** `<hostdev type='pci'>` or `<interface type='hostdev'>`, for errors about an existing element. */
function describe(e: XmlElement): string {
  return `<${e.name}${e.attrs.type ? ` type='${printable(e.attrs.type, 20)}'` : ''}>`;
}

/** PCI source address of a hostdev or hostdev interface element, if it has one; invalid: an error naming it. */
export function sourceAddress(e: XmlElement): PciAddress | undefined {
  const addr = child(child(e, 'source'), 'address');
  if (!addr || (addr.attrs.type !== undefined && addr.attrs.type !== 'pci')) return undefined;
  try {
    return fromLibvirtAttrs(addr.attrs);
  } catch (err) {
    throw new InputError(
      `an existing ${describe(e)} in the domain has a bad source address: ${(err as Error).message}`,
    );
  }
}

/** The UUID of an mdev hostdev (lower case), checked. */
export function mdevUuid(h: XmlElement): string | undefined {
  const what = "mdev UUID of an existing <hostdev type='mdev'>";
  return readValue(h, propOf(HOSTDEV_MDEV_PROPS, 'uuid'), what) as string | undefined;
}

export function pciHostdevs(d: DomainDoc): XmlElement[] {
  return children(d.devices, 'hostdev').filter((h) => h.attrs.mode === 'subsystem' && h.attrs.type === 'pci');
}
export function mdevHostdevs(d: DomainDoc): XmlElement[] {
  return children(d.devices, 'hostdev').filter((h) => h.attrs.mode === 'subsystem' && h.attrs.type === 'mdev');
}
export function hostdevInterfaces(d: DomainDoc): XmlElement[] {
  return children(d.devices, 'interface').filter((i) => i.attrs.type === 'hostdev');
}

/** Every host PCI address the domain already assigns (hostdevs and hostdev interfaces). */
export function assignedAddresses(d: DomainDoc): PciAddress[] {
  return [...pciHostdevs(d), ...hostdevInterfaces(d)].map(sourceAddress).filter((a): a is PciAddress => !!a);
}

export function isAssigned(d: DomainDoc, a: PciAddress): boolean {
  return assignedAddresses(d).some((b) => samePciAddress(a, b));
}

export function insertDevices(d: DomainDoc, kind: string, nodes: XmlNode[]): Splice {
  const rank = DEVICE_ORDER.indexOf(kind);
  let anchor: XmlElement | undefined;
  for (const c of d.devices.children) {
    const r = DEVICE_ORDER.indexOf(c.name);
    if (c.name === kind || (r >= 0 && r <= rank)) anchor = c;
  }
  return insertChildren(d.doc, d.style, d.devices, nodes, anchor ?? d.devices.children[d.devices.children.length - 1]);
}

/** Guest-side `<address type='pci'>` elements of the devices (not the host `<source>` ones). */
export function guestPciAddresses(d: DomainDoc): { element: XmlElement; address: PciAddress }[] {
  const out: { element: XmlElement; address: PciAddress }[] = [];
  const walk = (e: XmlElement): void => {
    for (const c of e.children) {
      if (c.name === 'source') continue;
      if (c.name === 'address' && c.attrs.type === 'pci') {
        try {
          out.push({ element: c, address: fromLibvirtAttrs(c.attrs) });
        } catch (err) {
          throw new InputError(
            `an existing guest address in the domain's ${describe(e)} is bad: ${(err as Error).message}`,
          );
        }
      }
      walk(c);
    }
  };
  walk(d.devices);
  return out;
}
