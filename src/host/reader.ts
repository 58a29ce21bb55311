// Reads the host model (src/host/types.ts) through the Sysfs door, lazily and with a cache, so that
// planning one domain reads only its devices, their IOMMU group peers, the asked PFs' VFs, netdevs
// and mdevs: the cost does not grow with the size of the host. fullSnapshot() is for `passthru list`.
//
// A device is read from attributes that never take the device lock (ids and class from their files,
// the driver from its link, the VF count from the virtfn links): the kernel serves them from memory,
// also while an unbind waits for qemu. The two lock-taking attributes the planner needs
// (driver_override, sriov_numvfs: device-lock.ts) are read by snapshotFor, under the hook's bound;
// fullSnapshot reads driver_override only where it decides the driver (below), each read bounded.
import { layout } from './layout.js';
import { isErrno, type Sysfs } from './sysfs.js';
import type { HostSnapshot, MdevInfo, MdevTypeInfo, PciDeviceInfo } from './types.js';
import { readNvidiaVgpu } from './nvidia-vgpu.js';
import { withinOrUndefined } from './bounded.js';
import { readPciDevice } from './pci-device.js';

const PCI = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NAME = /^[A-Za-z0-9_.:@+-]{1,64}$/;
/** Drivers that hold a device for passthrough: the ones an override is there to pick. */
const STUB_DRIVERS: ReadonlySet<string> = new Set(['vfio-pci', 'pci-stub']);

export interface SnapshotRequest {
  addresses?: string[];
  netdevs?: string[];
  mdevParents?: string[];
  mdevUuids?: string[];
  /** VFs whose NVIDIA vGPU state (nvidia/current_vgpu_type, creatable_vgpu_types) is wanted. */
  vgpus?: string[];
}

export interface ReaderOptions {
  /**
   * Upper bound (ms) of each driver_override read of fullSnapshot (`passthru list`, `doctor`). A
   * read past it is given up and the device marked `unreadable`. Without it the read waits as long
   * as the kernel does (the hook bounds its whole snapshot instead).
   */
  lockedReadMs?: number;
}

const base = (link: string): string => link.slice(link.lastIndexOf('/') + 1);

/**
 * Whether `passthru list` reads a device's driver_override: with no driver (the override picks the
 * next one; an unbind waiting for qemu looks like this too, its driver link gone) or on a stub
 * driver (the override is how it got there). On a host driver an override would only matter at the
 * next probe, and 10,000 such reads (each in the thread pool, bounded) would cost more than the
 * whole rest of the listing.
 */
export function overrideShown(d: PciDeviceInfo): boolean {
  return d.driver === undefined || STUB_DRIVERS.has(d.driver);
}

export class HostReader {
  private devices = new Map<string, Promise<PciDeviceInfo | undefined>>();
  private groupCache = new Map<number, Promise<string[]>>();
  private typesCache = new Map<string, Promise<MdevTypeInfo[] | undefined>>();

  constructor(
    readonly sysfs: Sysfs,
    private readonly opts: ReaderOptions = {},
  ) {}

  private async opt<T>(p: Promise<T>): Promise<T | undefined> {
    try {
      return await p;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'ENODEV')) return undefined;
      throw err;
    }
  }

  async kernel(): Promise<string | undefined> {
    return (await this.opt(this.sysfs.read(layout.kernelRelease)))?.trim();
  }

  /** One PCI device, or undefined when it does not exist. Cached. */
  device(address: string): Promise<PciDeviceInfo | undefined> {
    if (!PCI.test(address)) return Promise.resolve(undefined);
    return cached(this.devices, address, () => this.readDevice(address));
  }

  private async readDevice(a: string): Promise<PciDeviceInfo | undefined> {
    try {
      return await readPciDevice(this.sysfs, a, (p) => this.mdevTypes(p));
    } catch (err) {
      // gone while it was being read (lab-measured: a VF whose PF's SR-IOV disable waited for qemu,
      // then removed it under a listing that was waiting on its lock): not a device any more
      if (isErrno(err, 'ENOENT') && !(await this.sysfs.exists(layout.pciDevice(a)))) return undefined;
      throw err;
    }
  }

  /**
   * What the planner needs beyond the lock-free reads: driver_override (its undo restores it) and a
   * PF's sriov_numvfs as the kernel counts it. Both wait while the device lock is held; the hook
   * bounds its whole snapshot. Once per device.
   */
  private async readLocked(d: PciDeviceInfo): Promise<void> {
    if (this.lockedRead.has(d.address)) return;
    this.lockedRead.add(d.address);
    const o = await this.opt(this.sysfs.read(layout.pciAttr(d.address, 'driver_override')));
    setOverride(d, o);
    if (d.sriov) d.sriov.numVfs = Number((await this.sysfs.read(layout.pciAttr(d.address, 'sriov_numvfs'))).trim());
  }

  private lockedRead = new Set<string>();

  /**
   * driver_override for the listing, within lockedReadMs: past it the device is marked `unreadable`.
   * False when the device went away while the read waited (an SR-IOV disable that waited for qemu
   * removes the VF it held once qemu lets go).
   */
  private async readOverrideForListing(d: PciDeviceInfo): Promise<boolean> {
    const read = this.sysfs.read(layout.pciAttr(d.address, 'driver_override'));
    const ms = this.opts.lockedReadMs;
    try {
      const o = ms === undefined ? await read : await withinOrUndefined(ms, read);
      if (o === undefined) d.unreadable = ['driver_override'];
      else setOverride(d, o);
      return true;
    } catch (err) {
      // ENODEV: kernfs says so for an attribute removed between open and read
      if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENODEV')) throw err;
      return this.sysfs.exists(layout.pciDevice(d.address)); // a tree without the attribute: no override
    }
  }

  async groupOf(address: string): Promise<number | undefined> {
    return (await this.device(address))?.iommuGroup;
  }

  /** Every member of IOMMU group N (PCI addresses, and mdev UUIDs for mdev groups). */
  groupMembers(group: number): Promise<string[]> {
    let p = this.groupCache.get(group);
    if (!p) {
      p = this.opt(this.sysfs.list(layout.iommuGroupDevices(group))).then((m) => m ?? []);
      this.groupCache.set(group, p);
    }
    return p;
  }

  async vfsOf(pf: string): Promise<string[]> {
    return (await this.device(pf))?.sriov?.vfs ?? [];
  }

  /** The PCI device behind a netdev name, or undefined. */
  async pfOfNetdev(name: string): Promise<string | undefined> {
    if (!NAME.test(name) || name.includes(':')) return undefined;
    const link = await this.opt(this.sysfs.readlink(`${layout.netClass}/${name}/device`));
    const a = link ? base(link) : undefined;
    return a && PCI.test(a) ? a : undefined;
  }

  async netdevsOf(address: string): Promise<string[]> {
    return (await this.device(address))?.netdevs ?? [];
  }

  /** mdev types a parent offers now, or undefined when it is not an mdev parent. */
  mdevTypes(parent: string): Promise<MdevTypeInfo[] | undefined> {
    if (!NAME.test(parent)) return Promise.resolve(undefined);
    return cached(this.typesCache, parent, () => this.readMdevTypes(parent));
  }

  private async readMdevTypes(parent: string): Promise<MdevTypeInfo[] | undefined> {
    const ids = await this.opt(this.sysfs.list(layout.mdevTypes(parent)));
    if (!ids) return undefined;
    return Promise.all(
      ids.map(async (id) => {
        const dir = layout.mdevType(parent, id);
        const entries = new Set(await this.sysfs.list(dir));
        const rd = (f: string) =>
          entries.has(f) ? this.sysfs.read(`${dir}/${f}`).then((v) => v.trim()) : Promise.resolve(undefined);
        const [avail, name, description, deviceApi] = await Promise.all([
          rd('available_instances'),
          rd('name'),
          rd('description'),
          rd('device_api'),
        ]);
        const t: MdevTypeInfo = { id, availableInstances: Number(avail ?? 0) };
        if (name !== undefined) t.name = name;
        if (description !== undefined) t.description = description;
        if (deviceApi !== undefined) t.deviceApi = deviceApi;
        return t;
      }),
    );
  }

  /** Attaches the NVIDIA vGPU state of each of `vfs` that is in the snapshot and has an nvidia/ dir. */
  private async addVgpus(snap: HostSnapshot, vfs: string[]): Promise<void> {
    await Promise.all(
      vfs.map(async (a) => {
        const d = snap.devices[a];
        // only a VF held by the nvidia driver has the directory: nothing read for any other device
        if (!d || d.nvidiaVgpu || !d.physfn || d.driver !== 'nvidia') return;
        const v = await readNvidiaVgpu(this.sysfs, a);
        if (v) d.nvidiaVgpu = v;
      }),
    );
  }

  /** An existing mdev, or undefined. */
  async mdev(uuid: string): Promise<MdevInfo | undefined> {
    const u = uuid.toLowerCase();
    if (!UUID.test(u)) return undefined;
    const [where, type] = await Promise.all([
      this.opt(this.sysfs.readlink(layout.mdevDevice(u))),
      this.opt(this.sysfs.readlink(`${layout.mdevDevice(u)}/mdev_type`)),
    ]);
    if (!where || !type) return undefined;
    const parts = where.split('/');
    return { uuid: u, parent: parts[parts.length - 2] ?? '', type: base(type) };
  }

  /** What one domain needs: the asked devices, their group peers, asked PFs' VFs, netdevs and mdevs. */
  async snapshotFor(req: SnapshotRequest): Promise<HostSnapshot> {
    const snap: HostSnapshot = { devices: {}, groups: {}, mdevs: {}, netdevs: {} };
    const kernel = await this.kernel();
    if (kernel) snap.kernel = kernel;
    const wanted = new Set(req.addresses ?? []);
    await Promise.all(
      (req.netdevs ?? []).map(async (n) => {
        const a = await this.pfOfNetdev(n);
        if (a) {
          snap.netdevs[n] = a;
          wanted.add(a);
        }
      }),
    );
    const add = async (a: string, withVfs: boolean): Promise<void> => {
      if (snap.devices[a]) return;
      const d = await this.device(a);
      if (!d) return;
      snap.devices[a] = d;
      await this.readLocked(d);
      for (const n of d.netdevs) snap.netdevs[n] ??= a;
      const work: Promise<void>[] = [];
      if (d.iommuGroup !== undefined && !snap.groups[d.iommuGroup]) {
        const g = d.iommuGroup;
        work.push(
          this.groupMembers(g).then(async (members) => {
            snap.groups[g] = members;
            await Promise.all(members.filter((m) => PCI.test(m)).map((m) => add(m, false)));
          }),
        );
      }
      if (withVfs && d.sriov) work.push(...d.sriov.vfs.map((v) => add(v, false)));
      if (d.physfn) work.push(add(d.physfn, false));
      await Promise.all(work);
    };
    await Promise.all([...wanted].map((a) => add(a, true)));
    await Promise.all(
      (req.mdevParents ?? []).map(async (p) => {
        const types = await this.mdevTypes(p);
        if (!types) return;
        if (PCI.test(p)) await add(p, false);
        else (snap.mdevParents ??= {})[p] = types;
      }),
    );
    await this.addVgpus(snap, req.vgpus ?? []);
    await Promise.all(
      (req.mdevUuids ?? []).map(async (u) => {
        const m = await this.mdev(u);
        if (m) snap.mdevs[m.uuid] = m;
      }),
    );
    return sortSnapshot(snap);
  }

  /**
   * The whole host (every PCI device, group, mdev parent and mdev): for `passthru list` and `doctor`.
   * driver_override only where overrideShown() says, each read within lockedReadMs.
   */
  async fullSnapshot(): Promise<HostSnapshot> {
    return this.addOverrides(await this.lockFreeSnapshot());
  }

  /**
   * driver_override where overrideShown() says, side by side (a held device's read waits in its
   * thread-pool thread, the others go on), each within lockedReadMs. A device that went away while
   * its read waited leaves the snapshot.
   */
  async addOverrides(snap: HostSnapshot): Promise<HostSnapshot> {
    const asked = Object.values(snap.devices).filter(overrideShown);
    const kept = await Promise.all(asked.map((d) => this.readOverrideForListing(d)));
    const gone = new Set(asked.filter((_, i) => !kept[i]).map((d) => d.address));
    if (gone.size === 0) return snap;
    for (const a of gone) delete snap.devices[a];
    for (const [g, m] of Object.entries(snap.groups)) snap.groups[Number(g)] = m.filter((x) => !gone.has(x));
    for (const [n, a] of Object.entries(snap.netdevs)) if (gone.has(a)) delete snap.netdevs[n];
    return snap;
  }

  /** fullSnapshot without driver_override: no read in it waits on a device lock. */
  async lockFreeSnapshot(): Promise<HostSnapshot> {
    const snap: HostSnapshot = { devices: {}, groups: {}, mdevs: {}, netdevs: {} };
    const kernel = await this.kernel();
    if (kernel) snap.kernel = kernel;
    for (const a of (await this.opt(this.sysfs.list(layout.pciDevices))) ?? []) {
      const d = await this.device(a);
      if (!d) continue;
      snap.devices[d.address] = d;
      if (d.iommuGroup !== undefined) (snap.groups[d.iommuGroup] ??= []).push(d.address);
      for (const n of d.netdevs) snap.netdevs[n] = d.address;
    }
    // the vGPU files of VFs held by the nvidia driver (the only ones that have them)
    await this.addVgpus(snap, Object.keys(snap.devices));
    const parents = (await this.opt(this.sysfs.list(layout.mdevBus))) ?? [];
    for (const p of parents) {
      if (PCI.test(p)) continue;
      const t = await this.mdevTypes(p);
      if (t) (snap.mdevParents ??= {})[p] = t;
    }
    const uuids = (await this.opt(this.sysfs.list(layout.mdevDevices))) ?? [];
    for (const m of await Promise.all(uuids.map((u) => this.mdev(u)))) {
      if (!m) continue;
      snap.mdevs[m.uuid] = m;
      // an mdev is alone in its own group; list it there too
      const g = await this.opt(this.sysfs.readlink(`${layout.mdevDevice(m.uuid)}/iommu_group`));
      if (g) (snap.groups[Number(base(g))] ??= []).push(m.uuid);
    }
    return sortSnapshot(snap);
  }
}

function setOverride(d: PciDeviceInfo, text: string | undefined): void {
  const o = text?.trim();
  if (o && o !== '(null)') d.driverOverride = o;
}

function inOrder(l: string[]): boolean {
  for (let i = 1; i < l.length; i++) if (!(l[i - 1]! < l[i]!)) return false;
  return true;
}

/** Sorted keys and member lists: the same host gives the same snapshot whatever the read order. */
function sortSnapshot(s: HostSnapshot): HostSnapshot {
  const byKey = <T>(r: Record<string, T>): Record<string, T> => {
    const keys = Object.keys(r);
    // usually already in order (sysfs lists sorted): then the object is kept as it is
    if (inOrder(keys)) return r;
    return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  };
  s.devices = byKey(s.devices);
  // integer keys enumerate in ascending order already; member lists are copied only when out of order
  const groups: Record<number, string[]> = {};
  for (const [g, m] of Object.entries(s.groups)) groups[Number(g)] = inOrder(m) ? m : [...m].sort();
  s.groups = groups;
  s.mdevs = byKey(s.mdevs);
  s.netdevs = byKey(s.netdevs);
  if (s.mdevParents) s.mdevParents = byKey(s.mdevParents);
  return s;
}

/** One read per key: later callers share the first call's promise. */
function cached<T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = read();
    cache.set(key, p);
  }
  return p;
}
