// Reads what a domain asks of the host (src/xml/model.ts) from libvirt domain XML, on the same
// positional tree xmlfix edits (one saxes pass that also enforces the guard's limits). A second
// parser (fast-xml-parser) cost the hook ~9 ms and a second pass over the same text; values are
// validated before they can become host paths or `ip` arguments.
import { InputError } from '../errors.js';
import { fromLibvirtAttrs, printable, type PciAddress } from '../pci/address.js';
import { checkXmlInput } from './guard.js';
import { type Prop, readFields } from './element-props.js';
import {
  HOSTDEV_MDEV_PROPS,
  HOSTDEV_PCI_PROPS,
  INTERFACE_HOSTDEV_PROPS,
  INTERFACE_NETWORK_PROPS,
} from './element-tables.js';
import {
  PASSTHRU_CONSOLE_PROPS,
  PASSTHRU_MDEV_PROPS,
  PASSTHRU_PF_PROPS,
  PASSTHRU_VF_PROPS,
  PASSTHRU_VGPU_PROPS,
} from './metadata-tables.js';
import { entries, ourPrefix } from './metadata-edit.js';
import {
  PASSTHRU_NS,
  type DomainPassthrough,
  type HostdevInterface,
  type MdevHostdev,
  type MdevRequest,
  type NetworkInterface,
  type PassthruMetadata,
  type PfRequest,
  type VfRequest,
  type VgpuRequest,
} from './model.js';
import { DOMAIN_PROPS } from './domain-tables.js';
import { child, children, parseTree, type XmlElement } from './tree.js';

/** Quick test used to skip work: could this XML ask anything of us? */
export function mentionsPassthrough(xml: string): boolean {
  return (
    /<hostdev\b/.test(xml) ||
    /<interface\b[^>]*\btype\s*=\s*["'](?:hostdev|network)["']/.test(xml) ||
    xml.includes(PASSTHRU_NS)
  );
}

export function readDomainPassthrough(input: string | Buffer): DomainPassthrough {
  const xml = checkXmlInput(input, 'domain XML', { structure: false });
  const doc = parseTree(xml, 'domain XML');
  const domain = doc.root;
  if (domain.name !== 'domain')
    throw new InputError(
      `not a libvirt domain XML: the root element is <${printable(domain.name, 40)}>, expected <domain>`,
    );
  const { name, uuid } = readFields<{ name: string; uuid?: string }>(domain, DOMAIN_PROPS, 'domain');
  const result: DomainPassthrough = {
    name,
    pciHostdevs: [],
    hostdevInterfaces: [],
    mdevHostdevs: [],
    networkInterfaces: [],
    metadata: { mdevs: [], vfs: [], pfs: [], vgpus: [] },
  };
  if (uuid) result.uuid = uuid;
  const devices = child(domain, 'devices');
  for (const hd of children(devices, 'hostdev')) {
    if (hd.attrs.mode !== 'subsystem') continue;
    if (hd.attrs.type === 'pci') {
      const fields = readFields<{ managed?: boolean }>(hd, HOSTDEV_PCI_PROPS, 'hostdev');
      const address = sourceAddress(hd, 'a PCI <hostdev> has no <source><address>');
      result.pciHostdevs.push({ address, managed: fields.managed ?? false });
    } else if (hd.attrs.type === 'mdev') {
      const fields = readFields<Omit<MdevHostdev, 'model'> & { model?: string }>(
        hd,
        HOSTDEV_MDEV_PROPS,
        'mdev hostdev',
      );
      result.mdevHostdevs.push({ ...fields, model: fields.model ?? 'vfio-pci' });
    }
  }
  for (const iface of children(devices, 'interface')) {
    if (iface.attrs.type === 'hostdev') {
      const fields = readFields<Omit<HostdevInterface, 'address'>>(iface, INTERFACE_HOSTDEV_PROPS, 'interface');
      const address = sourceAddress(iface, "an <interface type='hostdev'> has no PCI <source><address>");
      result.hostdevInterfaces.push({ address, ...fields, managed: fields.managed ?? false });
    } else if (iface.attrs.type === 'network') {
      const fields = readFields<Partial<NetworkInterface>>(iface, INTERFACE_NETWORK_PROPS, 'interface');
      if (fields.network) result.networkInterfaces.push(fields as NetworkInterface);
    }
  }
  result.metadata = readMetadata(child(domain, 'metadata'));
  return result;
}

/** The host PCI address in `<source><address>` (libvirt's attributes), which selects the device. */
function sourceAddress(e: XmlElement, missing: string): PciAddress {
  const addr = child(child(e, 'source'), 'address');
  if (!addr || (addr.attrs.type ?? 'pci') !== 'pci') throw new InputError(missing);
  return fromLibvirtAttrs(addr.attrs);
}

function readMetadata(metadata: XmlElement | undefined): PassthruMetadata {
  const out: PassthruMetadata = { mdevs: [], vfs: [], pfs: [], vgpus: [] };
  for (const el of metadata?.children ?? []) {
    const prefix = ourPrefix(el);
    if (prefix === undefined) continue;
    const read = <T>(name: string, props: readonly Prop[]): T[] =>
      entries({ element: el, prefix }, name).map((e) => readFields<T>(e, props, `passthru:${name}`));
    out.mdevs.push(...read<MdevRequest>('mdev', PASSTHRU_MDEV_PROPS));
    for (const v of read<VfRequest>('vf', PASSTHRU_VF_PROPS)) {
      if (!v.address && !v.mac) throw new InputError('passthru:vf needs an address or a mac');
      out.vfs.push(v);
    }
    for (const f of read<PfRequest>('pf', PASSTHRU_PF_PROPS)) {
      if (!f.dev && !f.address) throw new InputError('passthru:pf needs dev or address');
      out.pfs.push(f);
    }
    out.vgpus.push(...read<VgpuRequest>('vgpu', PASSTHRU_VGPU_PROPS));
    for (const c of read<{ handover: boolean }>('console', PASSTHRU_CONSOLE_PROPS)) out.consoleHandover = c.handover;
  }
  return out;
}
