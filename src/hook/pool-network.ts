// A libvirt network used as a VF pool: `<forward mode='hostdev'>` with `<pf dev='…'/>` or a list of
// VF `<address type='pci' …/>`. libvirt's files are real files under the host root (PASSTHRU_ROOT),
// also when the devices are simulated: the live status (run/libvirt/network/NAME.xml) is read first,
// then the definition (etc/libvirt/qemu/networks/NAME.xml).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { layout } from '../host/layout.js';
import { formatPciAddress } from '../pci/address.js';
import { readFields } from '../xml/element-props.js';
import { checkXmlInput } from '../xml/guard.js';
import { parseNetworkName, pfDevs, vfAddresses } from '../xml/network-edits.js';
import { FORWARD_PROPS } from '../xml/network-tables.js';
import { child, parseTree } from '../xml/tree.js';

export interface PoolNetwork {
  name: string;
  /** forward mode='hostdev' */
  hostdev: boolean;
  pfDevs: string[];
  vfAddresses: string[];
}

export function parsePoolNetwork(name: string, xml: string): PoolNetwork {
  const what = `network XML of '${name}'`;
  const doc = parseTree(checkXmlInput(xml, what, { structure: false }), what);
  // <networkstatus><network>… in run/, <network>… in etc/
  const network = doc.root.name === 'networkstatus' ? child(doc.root, 'network') : doc.root;
  if (network?.name !== 'network') throw new InputError(`${what} has no <network>`);
  const forward = child(network, 'forward');
  const mode = forward && readFields<{ mode?: string }>(forward, FORWARD_PROPS, 'network <forward>').mode;
  const pfs = pfDevs(forward);
  const vfs = vfAddresses(forward).map((v) => formatPciAddress(v.address));
  return { name, hostdev: mode === 'hostdev', pfDevs: pfs.sort(), vfAddresses: vfs.sort() };
}

/** The pool network NAME, or undefined when libvirt has no such network file. */
export async function readPoolNetwork(root: string, name: string): Promise<PoolNetwork | undefined> {
  // libvirt's file names: the rule xmlfix writes by, and no '..' (a name becomes a file name here)
  parseNetworkName(name);
  if (name.includes('..')) throw new InputError(`invalid network name '${name.slice(0, 80)}'`);
  for (const rel of [layout.libvirtNetworkStatus(name), layout.libvirtNetworkConfig(name)]) {
    let xml: string;
    try {
      xml = readFileSync(join(root, rel), 'utf8'); // a small local file (fs/promises costs ~2 ms to load)
    } catch {
      continue;
    }
    return parsePoolNetwork(name, xml);
  }
  return undefined;
}
