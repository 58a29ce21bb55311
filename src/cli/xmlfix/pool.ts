// `xmlfix pool NAME (--pf DEV | --vf ADDR...) [--vlan ID]`. libvirt takes one <pf> per network; for
// several PFs we list their VFs instead (read from the host), which libvirt accepts. With a host to
// check against, a --pf must exist and have VFs and a --vf must be a VF.
import { InputError } from '../../errors.js';
import { parsePciAddress, type PciAddress } from '../../pci/address.js';
import { buildPoolNetwork } from '../../xml/network-edits.js';
import { parseNetdevName, parseVlan } from '../../xml/values.js';
import { checkVf, type Note } from './host-checks.js';
import type { HostLookup } from './host-lookup.js';

export async function buildPool(
  spec: { name: string; pfs: string[]; vfs: string[]; vlan?: string },
  host: () => Promise<HostLookup>,
  check: () => Promise<HostLookup | undefined>,
  note: Note,
): Promise<string> {
  const pfs = spec.pfs.map((p) => parseNetdevName(p, 'pool --pf'));
  let vfs: PciAddress[] = spec.vfs.map((v) => parsePciAddress(v));
  if (new Set(pfs).size !== pfs.length) throw new InputError('pool: the same --pf is given twice');
  for (const v of vfs) await checkVf(await check(), v, 'pool --vf');
  let pfList = pfs;
  if (pfs.length > 1) {
    if (vfs.length) throw new InputError('pool: give either --pf or --vf addresses, not both');
    const h = await host();
    vfs = [];
    for (const pf of pfs) vfs.push(...(await h.vfsOf(pf)));
    pfList = [];
  } else if (pfs.length === 1) {
    const h = await check();
    if (h) await h.vfsOf(pfs[0]!); // it exists and has VFs, or the error says how to make them
  }
  const vlan = spec.vlan === undefined ? undefined : parseVlan(spec.vlan, 'pool --vlan');
  return buildPoolNetwork(
    vlan === undefined ? { name: spec.name, pfs: pfList, vfs } : { name: spec.name, pfs: pfList, vfs, vlan },
  );
}
