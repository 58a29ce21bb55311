// VF pool networks (`<forward mode='hostdev' managed='yes'>`) for `virsh net-define`: created
// whole, or edited byte-exactly. libvirt accepts one <pf> per <forward>, or a list of VF addresses,
// never both (network_conf.c), so we refuse what `virsh net-define` would.
import { InputError } from '../errors.js';
import { formatPciAddress, fromLibvirtAttrs, samePciAddress, toLibvirtAttrs, type PciAddress } from '../pci/address.js';
import { buildProps, readFields } from './element-props.js';
import { el, serialize, type XmlNode } from './fragment.js';
import { FORWARD_PF_PROPS, FORWARD_PROPS, NETWORK_PROPS } from './network-tables.js';
import { applySplices, insertChildren, removeElement, type Splice } from './splice.js';
import { detectStyle, type XmlStyle } from './style.js';
import { child, children, parseTree, type XmlDoc, type XmlElement } from './tree.js';
import { parseNetdevName } from './values.js';

const LIBVIRT_STYLE: XmlStyle = { quote: "'", newline: '\n', unit: '  ' };
const NETWORK_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

export interface PoolSpec {
  name: string;
  pfs: string[];
  vfs: PciAddress[];
  vlan?: number;
}

export function parseNetworkName(name: string): string {
  if (!NETWORK_NAME.test(name))
    throw new InputError(`invalid network name '${name.slice(0, 80)}' (letters, digits and _.+- only)`);
  return name;
}

/** A new pool network document in libvirt's own style. */
export function buildPoolNetwork(spec: PoolSpec): string {
  if (spec.pfs.length === 0 && spec.vfs.length === 0) throw new InputError('pool: give --pf DEV or --vf ADDR');
  if (spec.pfs.length > 1)
    throw new InputError(
      `pool: libvirt allows one <pf> per network, got ${spec.pfs.length} (${spec.pfs.join(', ')}); list their VFs with --vf instead`,
    );
  if (spec.pfs.length && spec.vfs.length)
    throw new InputError('pool: give either --pf or --vf addresses, not both (libvirt refuses the mix)');
  const forward = hostdevForward(
    ...spec.pfs.map((dev) => pfElement(parseNetdevName(dev, 'pool --pf'))),
    ...spec.vfs.map((a) => el('address', { type: 'pci', ...toLibvirtAttrs(a) })),
  );
  const vlan = buildProps(NETWORK_PROPS, new Map([['vlan', spec.vlan === undefined ? undefined : String(spec.vlan)]]));
  const network = el('network', {}, { name: 'name', text: parseNetworkName(spec.name) }, forward, ...vlan.children);
  return `${serialize(network, LIBVIRT_STYLE, '')}\n`;
}

interface NetworkDoc {
  doc: XmlDoc;
  style: XmlStyle;
  forward?: XmlElement;
}

export function openNetwork(text: string): NetworkDoc {
  const doc = parseTree(text);
  if (doc.root.name !== 'network')
    throw new InputError(`expected a libvirt <network> document, found <${doc.root.name}>`);
  const forward = child(doc.root, 'forward');
  return forward ? { doc, style: detectStyle(doc), forward } : { doc, style: detectStyle(doc) };
}

export function addPf(text: string, dev: string): string {
  parseNetdevName(dev, '--add-pf');
  const n = openNetwork(text);
  const pfs = pfDevs(n.forward);
  if (pfs.includes(dev)) return text;
  if (pfs.length)
    throw new InputError(`--add-pf ${dev}: the network already has <pf dev='${pfs[0]}'/> and libvirt allows only one`);
  if (vfAddresses(n.forward).length)
    throw new InputError(`--add-pf ${dev}: the network lists VF addresses; libvirt refuses <pf> together with them`);
  return applySplices(text, [intoForward(n, pfElement(dev))]);
}

export function addVfAddress(text: string, address: PciAddress): string {
  const n = openNetwork(text);
  if (children(n.forward, 'pf').length)
    throw new InputError(
      `--add-vf-address ${formatPciAddress(address)}: the network uses <pf>; libvirt refuses VF addresses together with it`,
    );
  const existing = vfAddresses(n.forward);
  if (existing.some((e) => samePciAddress(e.address, address))) return text;
  return applySplices(text, [
    intoForward(n, el('address', { type: 'pci', ...toLibvirtAttrs(address) }), existing[existing.length - 1]?.element),
  ]);
}

export function removeVfAddress(text: string, address: PciAddress): string {
  const n = openNetwork(text);
  const all = vfAddresses(n.forward);
  const gone = all.filter((e) => samePciAddress(e.address, address));
  if (gone.length === 0) return text;
  // a hostdev <forward> with neither <pf> nor addresses defines a pool libvirt cannot start a guest
  // from; emptying it is almost certainly a mistake, and the way to drop the pool is net-undefine
  if (gone.length === all.length && children(n.forward, 'pf').length === 0) {
    throw new InputError(
      `--remove-vf-address ${formatPciAddress(address)}: it is the pool's last device, and an empty hostdev pool cannot start; undefine the network instead (virsh net-undefine)`,
    );
  }
  return applySplices(
    text,
    gone.map((g) => removeElement(n.doc, g.element)),
  );
}

/** The PFs of a pool's <forward> (libvirt takes one); also the hook's reader (src/hook/pool-network.ts). */
export function pfDevs(forward: XmlElement | undefined): string[] {
  return children(forward, 'pf').map((p) => readFields<{ dev: string }>(p, FORWARD_PF_PROPS, 'network <pf>').dev);
}

/** The VF addresses a pool's <forward> lists; also the hook's reader. */
export function vfAddresses(forward: XmlElement | undefined): { element: XmlElement; address: PciAddress }[] {
  return children(forward, 'address')
    .filter((a) => (a.attrs.type ?? 'pci') === 'pci')
    .map((element) => ({ element, address: fromLibvirtAttrs(element.attrs) }));
}

function intoForward(n: NetworkDoc, node: XmlNode, after?: XmlElement): Splice {
  if (n.forward) return insertChildren(n.doc, n.style, n.forward, [node], after);
  // No <forward> yet: a hostdev pool, after <name>/<uuid> like libvirt writes it.
  const anchor = [...n.doc.root.children].reverse().find((c) => c.name === 'name' || c.name === 'uuid');
  return insertChildren(n.doc, n.style, n.doc.root, [hostdevForward(node)], anchor);
}

/** `<forward mode='hostdev' managed='yes'>` around the pool's PF or VF addresses. */
function hostdevForward(...kids: XmlNode[]): XmlNode {
  const props = buildProps(
    FORWARD_PROPS,
    new Map([
      ['mode', 'hostdev'],
      ['managed', 'yes'],
    ]),
  );
  return el('forward', props.attrs, ...kids);
}

function pfElement(dev: string): XmlNode {
  return el('pf', buildProps(FORWARD_PF_PROPS, new Map([['dev', dev]])).attrs);
}
