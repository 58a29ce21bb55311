// Reads what a domain asks of the host (src/xml/model.ts) from libvirt domain XML, on the same
// positional tree xmlfix edits (one saxes pass that also enforces the guard's limits). A second
// parser (fast-xml-parser) cost the hook ~9 ms and a second pass over the same text; values are
// validated before they can become host paths or `ip` arguments.
import { InputError } from '../errors.js';
import { fromLibvirtAttrs, parsePciAddress, printable, type PciAddress } from '../pci/address.js';
import type { VfLinkState } from '../host/netlink.js';
import { checkXmlInput } from './guard.js';
import {
  PASSTHRU_META_ROOT,
  PASSTHRU_NS,
  type DomainPassthrough,
  type MdevRequest,
  type PassthruMetadata,
  type PfRequest,
  type VfRequest,
  type VgpuRequest,
} from './model.js';
import { child, children, parseTree, rawText, type XmlDoc, type XmlElement } from './tree.js';
import {
  parseMac,
  parseUuid,
  parseVlan,
  parseRate,
  parseOnOff,
  parseVfState,
  parseMdevTypeName,
  parseNetdevName,
  parseVfCount,
  parseVgpuType,
} from './values.js';

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
  const name = textOf(doc, child(domain, 'name'));
  if (!name) throw new InputError('domain XML has no <name>');
  const uuidText = textOf(doc, child(domain, 'uuid'));
  const result: DomainPassthrough = {
    name,
    pciHostdevs: [],
    hostdevInterfaces: [],
    mdevHostdevs: [],
    networkInterfaces: [],
    metadata: { mdevs: [], vfs: [], pfs: [], vgpus: [] },
  };
  if (uuidText) result.uuid = parseUuid(uuidText, 'domain <uuid>');
  const devices = child(domain, 'devices');
  for (const hd of children(devices, 'hostdev')) {
    if (hd.attrs.mode !== 'subsystem') continue;
    const source = child(hd, 'source');
    if (hd.attrs.type === 'pci') {
      const addr = child(source, 'address');
      if (!addr) throw new InputError('a PCI <hostdev> has no <source><address>');
      result.pciHostdevs.push({ address: addressOf(addr), managed: hd.attrs.managed === 'yes' });
    } else if (hd.attrs.type === 'mdev') {
      const uuid = child(source, 'address')?.attrs.uuid;
      if (uuid === undefined) throw new InputError('an mdev <hostdev> has no <source><address uuid=…>');
      result.mdevHostdevs.push({ uuid: parseUuid(uuid, 'mdev hostdev uuid'), model: hd.attrs.model ?? 'vfio-pci' });
    }
  }
  for (const iface of children(devices, 'interface')) {
    const macText = child(iface, 'mac')?.attrs.address;
    const mac = macText === undefined ? undefined : parseMac(macText, 'interface <mac address>');
    if (iface.attrs.type === 'hostdev') {
      const addr = child(child(iface, 'source'), 'address');
      if (!addr || (addr.attrs.type ?? 'pci') !== 'pci')
        throw new InputError("an <interface type='hostdev'> has no PCI <source><address>");
      const entry: DomainPassthrough['hostdevInterfaces'][number] = {
        address: addressOf(addr),
        managed: iface.attrs.managed === 'yes',
      };
      if (mac) entry.mac = mac;
      const tag = child(child(iface, 'vlan'), 'tag')?.attrs.id;
      if (tag !== undefined) entry.vlan = parseVlan(tag, 'interface <vlan><tag id>');
      result.hostdevInterfaces.push(entry);
    } else if (iface.attrs.type === 'network') {
      const network = child(iface, 'source')?.attrs.network;
      if (network) result.networkInterfaces.push(mac ? { network, mac } : { network });
    }
  }
  result.metadata = readMetadata(child(domain, 'metadata'));
  return result;
}

function readMetadata(metadata: XmlElement | undefined): PassthruMetadata {
  const out: PassthruMetadata = { mdevs: [], vfs: [], pfs: [], vgpus: [] };
  for (const el of metadata?.children ?? []) {
    const colon = el.name.indexOf(':');
    const prefix = colon < 0 ? '' : el.name.slice(0, colon);
    const local = colon < 0 ? el.name : el.name.slice(colon + 1);
    // Ours by namespace URI, whatever the prefix.
    const ns = prefix ? el.attrs[`xmlns:${prefix}`] : el.attrs.xmlns;
    if (local !== PASSTHRU_META_ROOT || ns !== PASSTHRU_NS) continue;
    const p = prefix ? `${prefix}:` : '';
    for (const m of children(el, `${p}mdev`)) out.mdevs.push(readMdev(m.attrs));
    for (const v of children(el, `${p}vf`)) out.vfs.push(readVf(v.attrs));
    for (const f of children(el, `${p}pf`)) out.pfs.push(readPf(f.attrs));
    for (const g of children(el, `${p}vgpu`)) out.vgpus.push(readVgpu(g.attrs));
    for (const c of children(el, `${p}console`)) {
      const h = c.attrs.handover;
      if (h !== 'on' && h !== 'off')
        throw new InputError(`passthru:console handover must be on or off, not '${printable(h ?? '', 20)}'`);
      out.consoleHandover = h === 'on';
    }
  }
  return out;
}

type Attrs = Record<string, string | undefined>;

function readMdev(el: Attrs): MdevRequest {
  const uuid = el.uuid;
  const type = el.type;
  if (uuid === undefined || type === undefined) throw new InputError('passthru:mdev in <metadata> needs uuid and type');
  const m: MdevRequest = {
    uuid: parseUuid(uuid, 'passthru:mdev uuid'),
    type: parseMdevTypeName(type, 'passthru:mdev type'),
  };
  if (el.parent !== undefined) m.parent = parseMdevParent(el.parent);
  return m;
}

function parseMdevParent(text: string): string {
  // A PCI parent in any notation becomes its sysfs name; other parents (e.g. 'mtty') are checked names.
  if (/^[0-9a-f]{2,4}[:_]/i.test(text) || text.startsWith('pci_')) {
    try {
      const a = parsePciAddress(text);
      return `${a.domain.toString(16).padStart(4, '0')}:${a.bus.toString(16).padStart(2, '0')}:${a.slot.toString(16).padStart(2, '0')}.${a.function}`;
    } catch {
      /* fall through to the name check */
    }
  }
  return parseMdevTypeName(text, 'passthru:mdev parent');
}

function readVf(el: Attrs): VfRequest {
  const v: VfRequest = {};
  const address = el.address;
  if (address !== undefined) v.address = parsePciAddress(address);
  const mac = el.mac;
  if (mac !== undefined) v.mac = parseMac(mac, 'passthru:vf mac');
  if (!v.address && !v.mac) throw new InputError('passthru:vf in <metadata> needs an address or a mac');
  const vlan = el.vlan;
  if (vlan !== undefined) v.vlan = parseVlan(vlan, 'passthru:vf vlan');
  const trust = el.trust;
  if (trust !== undefined) v.trust = parseOnOff(trust, 'passthru:vf trust');
  const spoofchk = el.spoofchk;
  if (spoofchk !== undefined) v.spoofchk = parseOnOff(spoofchk, 'passthru:vf spoofchk');
  const state = el.state;
  if (state !== undefined) v.state = parseVfState(state, 'passthru:vf state') as VfLinkState;
  const minRate = el['min-rate'];
  if (minRate !== undefined) v.minRate = parseRate(minRate, 'passthru:vf min-rate');
  const maxRate = el['max-rate'];
  if (maxRate !== undefined) v.maxRate = parseRate(maxRate, 'passthru:vf max-rate');
  return v;
}

function readVgpu(el: Attrs): VgpuRequest {
  const address = el.address;
  const type = el.type;
  if (address === undefined || type === undefined)
    throw new InputError('passthru:vgpu in <metadata> needs address and type');
  return { address: parsePciAddress(address), type: parseVgpuType(type, 'passthru:vgpu type') };
}

function readPf(el: Attrs): PfRequest {
  const vfs = el.vfs;
  if (vfs === undefined) throw new InputError('passthru:pf in <metadata> needs vfs');
  const p: PfRequest = { vfs: parseVfCount(vfs, 'passthru:pf vfs') };
  const dev = el.dev;
  const address = el.address;
  if (dev !== undefined) p.dev = parseNetdevName(dev, 'passthru:pf dev');
  if (address !== undefined) p.address = parsePciAddress(address);
  if (!p.dev && !p.address) throw new InputError('passthru:pf in <metadata> needs dev or address');
  return p;
}

function addressOf(el: XmlElement): PciAddress {
  return fromLibvirtAttrs(el.attrs);
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

/** Text of a leaf element with XML's predefined and numeric character references decoded. */
function textOf(doc: XmlDoc, el: XmlElement | undefined): string | undefined {
  if (!el || el.selfClosing) return undefined;
  // a name or UUID as libvirt writes it has neither CDATA nor references: skip the two patterns
  // (each compiled on first use, twice when used twice: ~0.1M instructions a compilation)
  let raw = rawText(doc, el);
  if (raw.includes('<![CDATA[')) raw = raw.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1');
  const text = !raw.includes('&')
    ? raw
    : raw.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) =>
        e[0] === '#'
          ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10))
          : (ENTITIES[e] ?? m),
      );
  return text.trim() || undefined;
}
