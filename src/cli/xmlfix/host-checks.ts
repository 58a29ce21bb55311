// Edits checked against the host before they are written: what libvirt or the kernel would refuse
// later (a bridge as a hostdev, a PF where a VF belongs, an mdev type its parent does not offer), and
// which devices a filter means. `host` is undefined when there is none to ask (--no-host-check, or
// no PCI devices under the root): the checks are skipped, which xmlfix says once on stderr.
import { InputError } from '../../errors.js';
import { printable, samePciAddress, type PciAddress } from '../../pci/address.js';
import { formatPciFilter, type PciFilterTerm } from '../../pci/filter.js';
import type { HostDevice, HostLookup } from './host-lookup.js';

export type Note = (line: string) => void;

const describe = (d: HostDevice): string =>
  `${d.name} [${d.vendor}:${d.device}, class ${d.class.slice(0, 4)}]${d.bootVga ? ' (boot VGA)' : ''}`;

// A device the host does not have passes unchecked: the XML may be for another host, or name a VF
// the hook creates at start (<passthru:pf vfs='N'>).

/** `--add-hostdev ADDR`: never a bridge. */
export async function checkHostdev(host: HostLookup | undefined, a: PciAddress, flag: string): Promise<void> {
  const d = await host?.device(a);
  if (host && d?.bridge) await refuseBridge(host, d, flag);
}

async function refuseBridge(host: HostLookup, d: HostDevice, flag: string): Promise<never> {
  const behind = await host.behind(d.address);
  throw new InputError(
    `${flag}: ${d.name} is a bridge (class ${d.class.slice(0, 4)}): vfio-pci cannot take a bridge and libvirt cannot assign one; ${behind.length ? `give a device behind it: ${behind.join(', ')}` : 'nothing sits behind it'}`,
  );
}

/** Every function of a slot: none may be a bridge (a root port's slot is no device to pass). */
export async function checkSlot(host: HostLookup, functions: PciAddress[], flag: string): Promise<void> {
  for (const f of functions) {
    const d = await host.device(f);
    if (d?.bridge) await refuseBridge(host, d, flag);
  }
}

/** primary=on: function 0 is a display controller (class 03xx). */
export async function checkPrimary(host: HostLookup | undefined, a: PciAddress, flag: string): Promise<void> {
  const d = host ? await host.device(a) : undefined;
  if (d && !d.class.startsWith('03'))
    throw new InputError(`${flag}: primary=on: ${describe(d)} is not a display controller (class 03xx)`);
}

/** `--add-vf ADDR`, pool `--vf ADDR`, `--add-vf-address ADDR`: an SR-IOV VF, never its PF. */
export async function checkVf(host: HostLookup | undefined, a: PciAddress, flag: string): Promise<void> {
  const d = await host?.device(a);
  if (!d || d.vf) return;
  if (d.pf)
    throw new InputError(
      `${flag}: ${d.name}${d.netdevs.length ? ` (${d.netdevs.join(', ')})` : ''} is an SR-IOV PF, not a VF: give one of its VFs${d.netdevs.length ? `, or the PF's name (${d.netdevs[0]}) to take a free one` : ''}`,
    );
  throw new InputError(`${flag}: ${describe(d)} is not an SR-IOV VF (no physfn): a VF's address is needed`);
}

/** `--add-mdev TYPE[,parent=P]`: the parent is an mdev parent that offers the type (any parent, without one). */
export async function checkMdev(
  host: HostLookup | undefined,
  type: string,
  parent: string | undefined,
  flag: string,
): Promise<void> {
  if (!host) return;
  const parents = await host.mdevParents();
  const names = parents.map((p) => p.name).join(', ') || 'none';
  if (parent !== undefined) {
    const types = await host.mdevTypes(parent);
    if (types === undefined)
      throw new InputError(
        `${flag}: '${printable(parent)}' is not an mdev parent on this host (mdev parents: ${names})`,
      );
    if (!types.includes(type))
      throw new InputError(
        `${flag}: mdev type '${printable(type)}' is not offered by ${parent} (offered: ${types.join(', ') || 'none'})`,
      );
    return;
  }
  if (!parents.some((p) => p.types.includes(type))) {
    const offered = [...new Set(parents.flatMap((p) => p.types))].sort();
    throw new InputError(
      `${flag}: no mdev parent on this host offers type '${printable(type)}' (offered: ${offered.join(', ') || 'none'}; parents: ${names})`,
    );
  }
}

/**
 * The devices a filter adds. Bridges never match. Without `all`: nothing when a match is in the
 * domain already (the edit is done), the one free match, or a refusal listing them when there are
 * several (never a silent preference, the boot VGA included). With `all`: every free match.
 */
export async function pickByFilter(
  host: HostLookup,
  terms: PciFilterTerm[],
  taken: PciAddress[],
  all: boolean,
  flag: string,
  note: Note,
): Promise<PciAddress[]> {
  const spec = formatPciFilter(terms);
  const matches = (await host.matching(terms)).filter((d) => !d.bridge);
  if (matches.length === 0) throw new InputError(`${flag}: no device on this host matches '${printable(spec)}'`);
  const isTaken = (d: HostDevice) => taken.some((t) => samePciAddress(t, d.address));
  const free = matches.filter((d) => !isTaken(d));
  if (!all) {
    const there = matches.find(isTaken);
    if (there) {
      note(
        `${flag}: ${there.name} matches '${printable(spec)}' and is in the domain already: nothing added (--all adds every free match)`,
      );
      return [];
    }
    if (free.length > 1)
      throw new InputError(
        `${flag}: ${free.length} devices match '${printable(spec)}': ${free.map(describe).join(', ')}; give one address, or --all for every one`,
      );
  }
  for (const d of free)
    if (d.bootVga)
      note(
        `${flag}: ${d.name} is the host's boot VGA: the hook refuses it while it is the host's console (autoProtect.bootVga)`,
      );
  return free.map((d) => d.address);
}
