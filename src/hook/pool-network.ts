// A libvirt network used as a VF pool: `<forward mode='hostdev'>` with `<pf dev='…'/>` or a list of
// VF `<address type='pci' …/>`. libvirt's files are real files under the host root (PASSTHRU_ROOT),
// also when the devices are simulated: the live status (run/libvirt/network/NAME.xml) is read first,
// then the definition (etc/libvirt/qemu/networks/NAME.xml).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { layout } from '../host/layout.js';
import { fromLibvirtAttrs, formatPciAddress } from '../pci/address.js';
import { InputError } from '../errors.js';
import { checkNetdev } from '../plan/names.js';

export interface PoolNetwork {
  name: string;
  /** forward mode='hostdev' */
  hostdev: boolean;
  pfDevs: string[];
  vfAddresses: string[];
}

const NETWORK_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

export function parsePoolNetwork(name: string, xml: string): PoolNetwork {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    throw new InputError(`network XML of '${name}' has a DOCTYPE/ENTITY; refusing it`);
  const pool: PoolNetwork = { name, hostdev: false, pfDevs: [], vfAddresses: [] };
  const stack: string[] = [];
  const parser = new SaxesParser();
  parser.on('opentag', (tag) => {
    const attrs = tag.attributes as Record<string, string>;
    const parent = stack[stack.length - 1];
    // <networkstatus><network>… in run/, <network>… in etc/
    const inForward = parent === 'forward' && stack[stack.length - 2] === 'network';
    if (tag.name === 'forward' && parent === 'network') pool.hostdev = attrs.mode === 'hostdev';
    else if (inForward && tag.name === 'pf' && attrs.dev) pool.pfDevs.push(checkNetdev(attrs.dev));
    else if (inForward && tag.name === 'address' && (attrs.type ?? 'pci') === 'pci')
      pool.vfAddresses.push(formatPciAddress(fromLibvirtAttrs(attrs)));
    if (!tag.isSelfClosing) stack.push(tag.name);
  });
  parser.on('closetag', (tag) => {
    if (!tag.isSelfClosing) stack.pop();
  });
  try {
    parser.write(xml).close();
  } catch (err) {
    throw new InputError(`network XML of '${name}' is not well-formed: ${(err as Error).message.split('\n')[0]}`);
  }
  pool.pfDevs.sort();
  pool.vfAddresses.sort();
  return pool;
}

/** The pool network NAME, or undefined when libvirt has no such network file. */
export async function readPoolNetwork(root: string, name: string): Promise<PoolNetwork | undefined> {
  if (!NETWORK_NAME.test(name) || name.includes('..'))
    throw new InputError(`invalid network name '${name.slice(0, 80)}'`);
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
