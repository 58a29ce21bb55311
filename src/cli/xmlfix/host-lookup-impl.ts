// HostLookup over the host's sysfs (real or simulated): reads only the slot, the PF or, for a
// filter, each device's three identity files.
import { InputError } from '../../errors.js';
import {
  comparePciAddress,
  formatPciAddress,
  parsePciAddress,
  samePciAddress,
  type PciAddress,
} from '../../pci/address.js';
import { matchesPciFilter, type PciFilterTerm } from '../../pci/filter.js';
import { layout } from '../../host/layout.js';
import type { Sysfs } from '../../host/sysfs.js';
import { parseNetdevName } from '../../xml/values.js';
import type { HostDevice, HostLookup } from './host-lookup.js';
import { vgpuTarget } from './vgpu-lookup.js';

/** The host of this call: PASSTHRU_SIM's simulated one, else the real one under PASSTHRU_ROOT. */
export async function openHostLookup(env: NodeJS.ProcessEnv = process.env): Promise<HostLookup> {
  const { openHost } = await import('../../host/open.js');
  return sysfsHostLookup((await openHost(env)).sysfs);
}

/** Whether the host has PCI devices to check against (a container or a build machine may not). */
export async function hostWithPci(env: NodeJS.ProcessEnv = process.env): Promise<HostLookup | undefined> {
  const { openHost } = await import('../../host/open.js');
  const { sysfs } = await openHost(env);
  return (await sysfs.exists(layout.pciDevices)) ? sysfsHostLookup(sysfs) : undefined;
}

const PCI_NAME = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

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
    return names.filter((d) => PCI_NAME.test(d)).sort();
  };
  const identity = async (name: string) => ({
    vendor: await read(name, 'vendor'),
    device: await read(name, 'device'),
    class: await read(name, 'class'),
  });
  async function facts(name: string, id: { vendor: string; device: string; class: string }): Promise<HostDevice> {
    const has = (attr: string) => sysfs.exists(layout.pciAttr(name, attr));
    return {
      address: parsePciAddress(name),
      name,
      ...id,
      bridge: id.class.startsWith('06'),
      pf: await has('sriov_totalvfs'),
      vf: await has('physfn'),
      bootVga: (await has('boot_vga')) && (await read(name, 'boot_vga')) === '1',
      netdevs: (await has('net')) ? await sysfs.list(layout.pciAttr(name, 'net')) : [],
    };
  }

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
    if (vfs.length === 0) {
      const total = await read(pfAddr, 'sriov_totalvfs').catch(() => '');
      throw new InputError(
        total && total !== '0'
          ? `'${dev}' (${pfAddr}) has no VFs: create them with \`echo N > /sys/class/net/${dev}/device/sriov_numvfs\` (N up to ${total}), or <passthru:pf dev='${dev}' vfs='N'/> in a domain for the hook`
          : `'${dev}' (${pfAddr}) has no VFs and cannot make any (no SR-IOV; SR-IOV PFs: ${(await sriovPfs()).join(', ') || 'none'})`,
      );
    }
    return vfs;
  }

  async function mdevTypes(parent: string): Promise<string[] | undefined> {
    if (!/^[\w.:-]+$/.test(parent) || parent.startsWith('.')) return undefined;
    if (!(await sysfs.exists(layout.mdevTypes(parent)))) return undefined;
    return (await sysfs.list(layout.mdevTypes(parent))).sort();
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
    async matching(terms: PciFilterTerm[]) {
      const out: HostDevice[] = [];
      for (const name of await allDevices()) {
        const id = await identity(name);
        if (matchesPciFilter(id, terms)) out.push(await facts(name, id));
      }
      return out;
    },
    async device(address) {
      const name = formatPciAddress(address);
      if (!(await sysfs.exists(layout.pciDevice(name)))) return undefined;
      return facts(name, await identity(name));
    },
    async behind(bridge) {
      // the kernel's device path nests a device under its bridge: …/0000:00:01.0/0000:01:00.0
      const name = formatPciAddress(bridge);
      const out: string[] = [];
      for (const d of await allDevices()) {
        const path = await sysfs.readlink(layout.pciDevice(d)).catch(() => '');
        if (path.endsWith(`/${name}/${d}`)) out.push(d);
      }
      return out;
    },
    mdevTypes,
    async mdevParents() {
      const names = (await sysfs.list(layout.mdevBus).catch(() => [] as string[])).sort();
      const out: { name: string; types: string[] }[] = [];
      for (const name of names) out.push({ name, types: (await mdevTypes(name)) ?? [] });
      return out;
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
