// The simulated host in memory: its state (src/sim/state.ts) with an index by PCI address, and the
// questions every rule of the simulator asks of it (which drivers are loaded, the IOMMU groups,
// where a device sits under sys/devices). The rules that change it live in pci.ts, sriov.ts and
// mdev.ts; the file tree that shows it in tree.ts.
import { VF_DEFAULTS } from '../host/netlink.js';
import { errnoError } from '../host/sysfs.js';
import type { SimDevice, SimFile, SimMdevType, SimVfLink } from './state.js';

const MODULE_DRIVERS: Record<string, string> = { vfio_pci: 'vfio-pci', pci_stub: 'pci-stub' };
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Thrown by a setter whose write blocks in the kernel: 'held' = the write itself waits (an unbind,
 * an mdev remove or an SR-IOV disable waiting for qemu) and returns once `done` says the kernel
 * finished it; 'retry' = it waits for the device lock and then runs as usual.
 */
export class WriteBlocks extends Error {
  constructor(
    readonly then: 'held' | 'retry',
    readonly done: () => boolean = () => true,
  ) {
    super('the write blocks in the kernel');
  }
}

/**
 * The kernel holds this device's lock for a write that waits for qemu: its own unbind from vfio-pci,
 * or (on a PF) an SR-IOV disable waiting for a VF; readers of driver_override, uevent, … wait too.
 */
export function lockedByKernel(d: SimDevice): boolean {
  return !!d.unbinding || d.sriov?.disablingAt !== undefined;
}

/** The routing id (bus << 8 | slot << 3 | function) of a sysfs address. */
export function rid(address: string): number {
  const [, bus, slotFn] = address.split(':') as [string, string, string];
  const [slot, fn] = slotFn.split('.') as [string, string];
  return (parseInt(bus, 16) << 8) | (parseInt(slot, 16) << 3) | parseInt(fn, 16);
}

/** The settings of a freshly created VF (a copy: the PF's list of VF settings is changed in place). */
export function defaultVfLink(): SimVfLink {
  return { ...VF_DEFAULTS };
}

export class SimModel {
  state!: SimFile;
  private byAddr = new Map<string, SimDevice>();

  constructor(state: SimFile) {
    this.setState(state);
  }

  setState(state: SimFile): void {
    this.state = state;
    state.devices ??= [];
    this.reindex();
  }

  /** Rebuilds the address index: after any change to the list of devices. */
  reindex(): void {
    this.byAddr = new Map(this.state.devices.map((d) => [d.address, d]));
  }

  device(address: string): SimDevice | undefined {
    return this.byAddr.get(address);
  }

  addresses(): string[] {
    return [...this.byAddr.keys()];
  }

  /** The device a write names ('0000:01:00.0', a trailing newline allowed), or ENODEV. */
  named(address: string): SimDevice {
    const d = this.byAddr.get(address.replace(/\n$/, ''));
    if (!d) throw errnoError('ENODEV', `no such device '${address.trim()}'`);
    return d;
  }

  /** A PF's VFs, by VF index. */
  vfsOf(pf: SimDevice): SimDevice[] {
    return this.state.devices.filter((d) => d.physfn === pf.address).sort((a, b) => a.vfIndex! - b.vfIndex!);
  }

  loadedDrivers(): Set<string> {
    const s = new Set<string>(this.state.drivers ?? []);
    for (const m of this.state.modules ?? []) if (MODULE_DRIVERS[m]) s.add(MODULE_DRIVERS[m]);
    for (const d of this.state.devices) {
      if (d.driver) s.add(d.driver);
      if (d.nativeDriver) s.add(d.nativeDriver);
      if (d.sriov?.vfDriver) s.add(d.sriov.vfDriver);
    }
    // vfio-pci and pci-stub exist only when their module is loaded, whatever devices claim
    for (const [m, drv] of Object.entries(MODULE_DRIVERS))
      if (
        !(this.state.modules ?? []).includes(m) &&
        !(this.state.drivers ?? []).includes(drv) &&
        !this.state.devices.some((d) => d.driver === drv)
      )
        s.delete(drv);
    return s;
  }

  /** IOMMU group number -> its members (PCI addresses and mdev UUIDs). */
  groups(): Map<number, string[]> {
    const g = new Map<number, string[]>();
    const add = (n: number, member: string) => (g.get(n) ?? g.set(n, []).get(n)!).push(member);
    for (const d of this.state.devices) if (d.iommuGroup !== undefined) add(d.iommuGroup, d.address);
    for (const m of this.state.mdevs ?? []) add(m.iommuGroup, m.uuid);
    return g;
  }

  freeGroup(): number {
    const used = this.groups();
    let n = 0;
    while (used.has(n)) n++; // the kernel's ida hands out the lowest free number
    return n;
  }

  /** A device's netdev exists while it is bound to its native (network) driver. */
  netdevOf(d: SimDevice): string | undefined {
    return d.netdev && d.driver !== undefined && d.driver === d.nativeDriver ? d.netdev : undefined;
  }

  /** Where a PCI device lives under sys/devices (ancestors first). */
  pciPath(d: SimDevice): string {
    const chain: string[] = [d.address];
    let p = d.parent;
    for (let i = 0; p && i < 16; i++) {
      chain.unshift(p);
      p = this.byAddr.get(p)?.parent;
    }
    const top = chain[0]!;
    return `devices/pci${top.slice(0, 7)}/${chain.join('/')}`;
  }

  /** mdev types of a parent while its driver offers them (parent bound to its native driver). */
  mdevParent(name: string): SimMdevType[] | undefined {
    const d = this.byAddr.get(name);
    if (d) return d.mdevTypes && d.driver !== undefined && d.driver === d.nativeDriver ? d.mdevTypes : undefined;
    return this.state.mdevParents?.find((p) => p.name === name)?.types;
  }

  mdevParentNames(): string[] {
    const out = this.state.devices.filter((d) => this.mdevParent(d.address)).map((d) => d.address);
    for (const p of this.state.mdevParents ?? []) out.push(p.name);
    return out;
  }

  /** /dev/vfio entries: the container, and each group with a vfio-pci device or an mdev. */
  vfioEntries(): string[] {
    const out = new Set<string>();
    if ((this.state.modules ?? []).includes('vfio')) out.add('vfio');
    for (const [g, members] of this.groups()) {
      if (members.some((m) => this.byAddr.get(m)?.driver === 'vfio-pci' || UUID.test(m))) out.add(String(g));
    }
    return [...out];
  }
}
