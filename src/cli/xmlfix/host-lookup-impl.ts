// HostLookup over the host's sysfs (real or simulated): reads only the slot, the PF or, for a
// filter, each device's three identity files.
import { InputError } from '../../errors.js';
import {
  comparePciAddress,
  formatPciAddress,
  parsePciAddress,
  printable,
  samePciAddress,
  type PciAddress,
} from '../../pci/address.js';
import { matchesPciFilter, type PciFilterTerm } from '../../pci/filter.js';
import { layout } from '../../host/layout.js';
import type { Sysfs } from '../../host/sysfs.js';
import { parseNetdevName } from '../../xml/values.js';
import type { HostLookup } from './host-lookup.js';
import { vgpuTarget } from './vgpu-lookup.js';

/** The host of this call: PASSTHRU_SIM's simulated one, else the real one under PASSTHRU_ROOT. */
export async function openHostLookup(env: NodeJS.ProcessEnv = process.env): Promise<HostLookup> {
  const { openHost } = await import('../../host/open.js');
  return sysfsHostLookup((await openHost(env)).sysfs);
}

export function sysfsHostLookup(sysfs: Sysfs): HostLookup {
  const read = async (addr: string, attr: string) =>
    (await sysfs.read(layout.pciAttr(addr, attr))).trim().replace(/^0x/, '').toLowerCase();
  const allDevices = async () => {
    let names: string[];
    try {
      names = await sysfs.list(layout.pciDevices);
    } catch (err) {
      throw new InputError(
        `cannot list the host's PCI devices (${layout.pciDevices}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    return names.filter((d) => /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(d)).sort();
  };

  /** Netdevs whose PCI device can have VFs, for error messages that name what exists. */
  async function sriovPfs(): Promise<string[]> {
    const found: string[] = [];
    for (const name of await sysfs.list(layout.netClass).catch(() => [] as string[])) {
      if (await sysfs.exists(`${layout.netClass}/${name}/device/sriov_totalvfs`).catch(() => false)) found.push(name);
    }
    return found.sort();
  }

  async function vfsOf(pf: string): Promise<PciAddress[]> {
    const dev = parseNetdevName(pf, 'PF');
    let link: string;
    try {
      link = await sysfs.readlink(`${layout.netClass}/${dev}/device`);
    } catch {
      throw new InputError(
        `no PCI network interface '${dev}' on this host (SR-IOV PFs: ${(await sriovPfs()).join(', ') || 'none'})`,
      );
    }
    const pfAddr = link.split('/').pop()!;
    const entries = (await sysfs.list(layout.pciDevice(pfAddr))).filter((e) => /^virtfn\d+$/.test(e));
    entries.sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
    const vfs: PciAddress[] = [];
    for (const e of entries)
      vfs.push(parsePciAddress((await sysfs.readlink(`${layout.pciDevice(pfAddr)}/${e}`)).split('/').pop()!));
    if (vfs.length === 0)
      throw new InputError(
        `'${dev}' (${pfAddr}) has no VFs: create them first (echo N > sriov_numvfs, or <passthru:pf vfs='N'/> for the hook)`,
      );
    return vfs;
  }

  return {
    async slotFunctions(domain, bus, slot) {
      const prefix = formatPciAddress({ domain, bus, slot, function: 0 }).slice(0, -1);
      const all = await allDevices();
      const found = all
        .filter((d) => d.startsWith(prefix))
        .map(parsePciAddress)
        .sort(comparePciAddress);
      if (found.length === 0)
        throw new InputError(
          `no PCI device in slot ${prefix.slice(0, -1)} on this host (slots present: ${[...new Set(all.map((d) => d.slice(5, -2)))].slice(0, 12).join(', ')})`,
        );
      return found;
    },
    async pickByFilter(terms: PciFilterTerm[], taken, all) {
      const picked: PciAddress[] = [];
      let matched = 0;
      for (const addr of await allDevices()) {
        const id = {
          vendor: await read(addr, 'vendor'),
          device: await read(addr, 'device'),
          class: await read(addr, 'class'),
        };
        // Bridges (class 06: host, ISA, PCI bridges) are never passed through.
        if (!matchesPciFilter(id, terms) || id.class.startsWith('06')) continue;
        matched++;
        const a = parsePciAddress(addr);
        if (taken.some((t) => samePciAddress(t, a))) continue;
        picked.push(a);
        if (!all) break;
      }
      if (picked.length === 0) {
        const spec = terms
          .map((t) => `${t.vendor ?? ''}:${t.device ?? ''}${t.classPrefix ? `:${t.classPrefix}` : ''}`)
          .join(',');
        throw new InputError(
          matched
            ? `every device matching '${printable(spec)}' is already in the domain`
            : `no device on this host matches '${printable(spec)}'`,
        );
      }
      return picked;
    },
    async freeVf(pf, taken) {
      const free = (await vfsOf(pf)).find((v) => !taken.some((t) => samePciAddress(t, v)));
      if (!free) throw new InputError(`every VF of '${pf}' is already in the domain`);
      return free;
    },
    vfsOf,
    vgpuTarget: (address, type, taken) => vgpuTarget(sysfs, address, type, taken),
  };
}
