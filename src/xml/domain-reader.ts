// Reads what a domain asks of the host (src/xml/model.ts) from libvirt domain XML. A plain object
// view is enough here, so fast-xml-parser does it; values are validated before they can become
// host paths or `ip` arguments.
import { XMLParser } from 'fast-xml-parser';
import { InputError } from '../errors.js';
import { fromLibvirtAttrs, parsePciAddress, printable, type PciAddress } from '../pci/address.js';
import type { VfLinkState } from '../host/netlink.js';
import { checkXmlInput } from './guard.js';
import { PASSTHRU_META_ROOT, PASSTHRU_NS, type DomainPassthrough, type MdevRequest, type PassthruMetadata, type PfRequest, type VfRequest } from './model.js';
import { parseMac, parseUuid, parseVlan, parseRate, parseOnOff, parseVfState, parseMdevTypeName, parseNetdevName, parseVfCount } from './values.js';

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseAttributeValue: false,
  parseTagValue: false,
  processEntities: true,
  htmlEntities: false,
  trimValues: true,
  // Every element may repeat; attributes never do.
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
});

/** Quick test used to skip work: could this XML ask anything of us? */
export function mentionsPassthrough(xml: string): boolean {
  return /<hostdev\b/.test(xml) || /<interface\b[^>]*\btype\s*=\s*["'](?:hostdev|network)["']/.test(xml) || xml.includes(PASSTHRU_NS);
}

export function readDomainPassthrough(input: string | Buffer): DomainPassthrough {
  const xml = checkXmlInput(input, 'domain XML');
  const doc = parser.parse(xml) as Node;
  const domain = one(doc, 'domain');
  if (!domain) throw new InputError(`not a libvirt domain XML: the root element is <${rootName(doc)}>, expected <domain>`);
  const name = childText(domain, 'name');
  if (!name) throw new InputError('domain XML has no <name>');
  const uuidText = childText(domain, 'uuid');
  const result: DomainPassthrough = {
    name,
    pciHostdevs: [],
    hostdevInterfaces: [],
    mdevHostdevs: [],
    networkInterfaces: [],
    metadata: { mdevs: [], vfs: [], pfs: [] },
  };
  if (uuidText) result.uuid = parseUuid(uuidText, 'domain <uuid>');
  const devices = one(domain, 'devices');
  for (const hd of many(devices, 'hostdev')) {
    if (attr(hd, 'mode') !== 'subsystem') continue;
    const type = attr(hd, 'type');
    const source = one(hd, 'source');
    if (type === 'pci') {
      const addr = one(source, 'address');
      if (!addr) throw new InputError('a PCI <hostdev> has no <source><address>');
      result.pciHostdevs.push({ address: addressOf(addr), managed: attr(hd, 'managed') === 'yes' });
    } else if (type === 'mdev') {
      const uuid = attr(one(source, 'address'), 'uuid');
      if (!uuid) throw new InputError('an mdev <hostdev> has no <source><address uuid=…>');
      result.mdevHostdevs.push({ uuid: parseUuid(uuid, 'mdev hostdev uuid'), model: attr(hd, 'model') ?? 'vfio-pci' });
    }
  }
  for (const iface of many(devices, 'interface')) {
    const type = attr(iface, 'type');
    const macText = attr(one(iface, 'mac'), 'address');
    const mac = macText === undefined ? undefined : parseMac(macText, 'interface <mac address>');
    if (type === 'hostdev') {
      const addr = one(one(iface, 'source'), 'address');
      if (!addr || (attr(addr, 'type') ?? 'pci') !== 'pci') throw new InputError("an <interface type='hostdev'> has no PCI <source><address>");
      const entry: DomainPassthrough['hostdevInterfaces'][number] = { address: addressOf(addr), managed: attr(iface, 'managed') === 'yes' };
      if (mac) entry.mac = mac;
      const tag = attr(one(one(iface, 'vlan'), 'tag'), 'id');
      if (tag !== undefined) entry.vlan = parseVlan(tag, 'interface <vlan><tag id>');
      result.hostdevInterfaces.push(entry);
    } else if (type === 'network') {
      const network = attr(one(iface, 'source'), 'network');
      if (network) result.networkInterfaces.push(mac ? { network, mac } : { network });
    }
  }
  result.metadata = readMetadata(one(domain, 'metadata'));
  return result;
}

function readMetadata(metadata: Node | undefined): PassthruMetadata {
  const out: PassthruMetadata = { mdevs: [], vfs: [], pfs: [] };
  if (!metadata) return out;
  for (const [key, value] of Object.entries(metadata)) {
    if (key.startsWith('@') || !Array.isArray(value)) continue;
    for (const el of value as Node[]) {
      const prefix = prefixFor(el, key);
      if (prefix === undefined) continue;
      const local = key.includes(':') ? key.slice(key.indexOf(':') + 1) : key;
      if (local !== PASSTHRU_META_ROOT) continue;
      const p = prefix === '' ? '' : `${prefix}:`;
      for (const m of many(el, `${p}mdev`)) out.mdevs.push(readMdev(m));
      for (const v of many(el, `${p}vf`)) out.vfs.push(readVf(v));
      for (const f of many(el, `${p}pf`)) out.pfs.push(readPf(f));
    }
  }
  return out;
}

/** The prefix bound to our namespace on this element ('' for a default namespace), or undefined. */
function prefixFor(el: Node, key: string): string | undefined {
  const prefix = key.includes(':') ? key.slice(0, key.indexOf(':')) : '';
  const decl = prefix ? attr(el, `xmlns:${prefix}`) : attr(el, 'xmlns');
  return decl === PASSTHRU_NS ? prefix : undefined;
}

function readMdev(el: Node): MdevRequest {
  const uuid = attr(el, 'uuid');
  const type = attr(el, 'type');
  if (!uuid || !type) throw new InputError('passthru:mdev in <metadata> needs uuid and type');
  const m: MdevRequest = { uuid: parseUuid(uuid, 'passthru:mdev uuid'), type: parseMdevTypeName(type, 'passthru:mdev type') };
  const parent = attr(el, 'parent');
  if (parent !== undefined) m.parent = parseMdevParent(parent);
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

function readVf(el: Node): VfRequest {
  const v: VfRequest = {};
  const address = attr(el, 'address');
  if (address !== undefined) v.address = parsePciAddress(address);
  const mac = attr(el, 'mac');
  if (mac !== undefined) v.mac = parseMac(mac, 'passthru:vf mac');
  if (!v.address && !v.mac) throw new InputError('passthru:vf in <metadata> needs an address or a mac');
  const vlan = attr(el, 'vlan');
  if (vlan !== undefined) v.vlan = parseVlan(vlan, 'passthru:vf vlan');
  const trust = attr(el, 'trust');
  if (trust !== undefined) v.trust = parseOnOff(trust, 'passthru:vf trust');
  const spoofchk = attr(el, 'spoofchk');
  if (spoofchk !== undefined) v.spoofchk = parseOnOff(spoofchk, 'passthru:vf spoofchk');
  const state = attr(el, 'state');
  if (state !== undefined) v.state = parseVfState(state, 'passthru:vf state') as VfLinkState;
  const minRate = attr(el, 'min-rate');
  if (minRate !== undefined) v.minRate = parseRate(minRate, 'passthru:vf min-rate');
  const maxRate = attr(el, 'max-rate');
  if (maxRate !== undefined) v.maxRate = parseRate(maxRate, 'passthru:vf max-rate');
  return v;
}

function readPf(el: Node): PfRequest {
  const vfs = attr(el, 'vfs');
  if (vfs === undefined) throw new InputError('passthru:pf in <metadata> needs vfs');
  const p: PfRequest = { vfs: parseVfCount(vfs, 'passthru:pf vfs') };
  const dev = attr(el, 'dev');
  const address = attr(el, 'address');
  if (dev !== undefined) p.dev = parseNetdevName(dev, 'passthru:pf dev');
  if (address !== undefined) p.address = parsePciAddress(address);
  if (!p.dev && !p.address) throw new InputError('passthru:pf in <metadata> needs dev or address');
  return p;
}

function addressOf(el: Node): PciAddress {
  return fromLibvirtAttrs({ domain: attr(el, 'domain'), bus: attr(el, 'bus'), slot: attr(el, 'slot'), function: attr(el, 'function') });
}

function many(node: Node | undefined, name: string): Node[] {
  const v = node?.[name];
  return Array.isArray(v) ? (v as unknown[]).map((x) => (typeof x === 'object' && x !== null ? (x as Node) : {})) : [];
}
function one(node: Node | undefined, name: string): Node | undefined {
  return many(node, name)[0];
}
function attr(node: Node | undefined, name: string): string | undefined {
  const v = node?.[`@${name}`];
  return typeof v === 'string' ? v : undefined;
}
/** Text of the first `name` child: fast-xml-parser gives a bare string for text-only elements. */
function childText(node: Node | undefined, name: string): string | undefined {
  const v = node?.[name];
  const first = Array.isArray(v) ? (v as unknown[])[0] : undefined;
  const raw = typeof first === 'string' ? first : typeof first === 'object' && first !== null ? (first as Node)['#text'] : undefined;
  const t = Array.isArray(raw) ? raw[0] : raw;
  return typeof t === 'string' || typeof t === 'number' ? String(t).trim() || undefined : undefined;
}
function rootName(doc: Node): string {
  return printable(Object.keys(doc).find((k) => !k.startsWith('?') && !k.startsWith('#')) ?? '', 40);
}
