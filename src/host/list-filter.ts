// `passthru list --filter SPEC`: a comma list of lspci `-d` terms (each has a ':', src/pci/filter.ts)
// and PF network interface names (none has a ':'), any of which may match. A name matches the
// device that has that interface and, for an SR-IOV PF, its VFs.
import { InputError } from '../errors.js';
import { printable } from '../pci/address.js';
import { matchesPciFilter, parsePciFilter, type PciFilterTerm } from '../pci/filter.js';
import type { HostSnapshot, PciDeviceInfo } from './types.js';

export interface ListFilter {
  pci: PciFilterTerm[];
  /** Network interface names of PCI devices (PFs): the device and its VFs match. */
  netdevs: string[];
}

const IFNAME = /^[A-Za-z0-9_.@+-]{1,15}$/;

export function parseListFilter(spec: string): ListFilter {
  const parts = spec.split(',').map((p) => p.trim());
  const netdevs = parts.filter((p) => p !== '' && !p.includes(':'));
  for (const n of netdevs)
    if (!IFNAME.test(n))
      throw new InputError(
        `invalid filter '${printable(n)}' (expected vendor:device[:class] such as 10de::0300, or a network interface name such as ens1f0)`,
      );
  const pci = parts.filter((p) => !netdevs.includes(p));
  return { pci: pci.length ? parsePciFilter(pci.join(',')) : [], netdevs };
}

/** The names of `f` that no PCI device of the host has (a typo, or a virtual interface). */
export function unknownNetdevs(f: ListFilter, snap: HostSnapshot): string[] {
  return f.netdevs.filter((n) => snap.netdevs[n] === undefined);
}

export function matchesListFilter(d: PciDeviceInfo, f: ListFilter, snap: HostSnapshot): boolean {
  if (f.pci.length && matchesPciFilter(d, f.pci)) return true;
  return f.netdevs.some((n) => {
    const a = snap.netdevs[n];
    return a !== undefined && (d.address === a || d.physfn === a);
  });
}
