// Reads the host model (src/host/types.ts) through the Sysfs door, lazily and with a cache, so that
// planning one domain reads only its devices, their IOMMU group peers, the asked PFs' VFs, netdevs
// and mdevs: the cost does not grow with the size of the host. fullSnapshot() is for `passthru list`.
import { layout } from './layout.js';
import { isErrno, type Sysfs } from './sysfs.js';
import { idsFromUevent, type PciIds } from './uevent.js';
import type { HostSnapshot, MdevInfo, MdevTypeInfo, PciDeviceInfo } from './types.js';
import { readNvidiaVgpu } from './nvidia-vgpu.js';
import { withinOrUndefined } from './bounded.js';

const PCI = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BATCH = 64;
const NAME = /^[A-Za-z0-9_.:@+-]{1,64}$/;

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
   * Upper bound (ms) of each read that takes the device lock (uevent, driver_override,
   * sriov_numvfs: device-lock.ts). A read past it is given up, the device is still read from the
   * attributes that do not take the lock, and the attribute is named in its `unreadable`. Without
   * it such reads wait as long as the kernel does (the hook bounds its whole snapshot instead).
   */
  lockedReadMs?: number;
}

const base = (link: string): string => link.slice(link.lastIndexOf('/') + 1);
const hex = (v: string): string => v.trim().replace(/^0x/i, '').toLowerCase();

export class HostReader {
  private devices = new Map<string, Promise<PciDeviceInfo | undefined>>();
  private groupCache = new Map<number, Promise<string[]>>();
  private typesCache = new Map<string, Promise<MdevTypeInfo[] | undefined>>();

  constructor(
    readonly sysfs: Sysfs,
    private readonly opts: ReaderOptions = {},
  ) {}

  /**
   * `p`, device-lock reads, within the bound (lockedReadMs); undefined when it outlives it. Inside
   * fullSnapshot every device of a batch races one deadline of that batch: a bound per read (20,000
   * for 10,000 devices) made the simulated listing 1.7x slower in process, in the garbage collector.
   */
  private withinBound<T>(p: Promise<T>): Promise<T | undefined> {
    const deadline = this.batchDeadline;
    // what Promise.race does, without its iterator and `then` lookups (10,000 devices)
    if (deadline) return new Promise((resolve, reject) => (p.then(resolve, reject), deadline.then(resolve)));
    const ms = this.opts.lockedReadMs;
    return ms === undefined ? p : withinOrUndefined(ms, p);
  }

  /** Set by fullSnapshot while a batch is read with a bound: resolves to undefined at its deadline. */
  private batchDeadline: Promise<undefined> | undefined;

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
    let p = this.devices.get(address);
    if (!p) {
      p = this.readDevice(address);
      this.devices.set(address, p);
    }
    return p;
  }

  private async readDevice(a: string): Promise<PciDeviceInfo | undefined> {
    try {
      return await this.readDeviceNow(a);
    } catch (err) {
      // gone while it was being read (lab-measured: a VF whose PF's SR-IOV disable waited for qemu,
      // then removed it under a listing that was waiting on its lock): not a device any more
      if (isErrno(err, 'ENOENT') && !(await this.sysfs.exists(layout.pciDevice(a)))) return undefined;
      throw err;
    }
  }

  private async readDeviceNow(a: string): Promise<PciDeviceInfo | undefined> {
    const s = this.sysfs;
    const entries = await this.opt(s.list(layout.pciDevice(a)));
    if (!entries) return undefined;
    const has = (e: string): boolean => entries.includes(e); // a few dozen names: a scan beats building a set
    // one entry after another: both doors answer synchronously inside (NodeSysfs reads kernel
    // memory, the simulator its state), so side-by-side reads of one device would only add promises,
    // except the two attributes that take the device lock (uevent, driver_override): a real host
    // reads those in the thread pool where a bound can fire, so they go side by side, and past the
    // bound (lockedReadMs) they are noted in `unreadable`, not awaited
    const ue = has('uevent') ? s.read(layout.pciAttr(a, 'uevent')) : undefined;
    const ov = has('driver_override') ? s.read(layout.pciAttr(a, 'driver_override')) : undefined;
    const locked = await this.withinBound(Promise.all([ue, ov]));
    // both wait on the same lock: past the bound neither is taken (a late answer is dropped)
    const unread: string[] = [];
    if (!locked) {
      if (ov) unread.push('driver_override');
      if (ue) unread.push('uevent');
    }
    const ids = (locked?.[0] !== undefined ? idsFromUevent(locked[0]) : undefined) ?? (await this.readIds(a, has));
    const override = locked?.[1];
    const info: PciDeviceInfo = {
      address: a,
      vendor: ids.vendor,
      device: ids.device,
      class: ids.class,
      netdevs: [],
      isBridge: false,
    };
    info.isBridge = info.class.startsWith('0604') || info.class.startsWith('0609');
    if (ids.subsystemVendor !== undefined) info.subsystemVendor = ids.subsystemVendor;
    if (ids.subsystemDevice !== undefined) info.subsystemDevice = ids.subsystemDevice;
    const o = override?.trim();
    if (o && o !== '(null)') info.driverOverride = o;
    if (ids.driver !== undefined) info.driver = ids.driver;
    if (has('iommu_group')) info.iommuGroup = Number(base(await s.readlink(layout.pciAttr(a, 'iommu_group'))));
    if (has('boot_vga')) info.bootVga = (await s.read(layout.pciAttr(a, 'boot_vga'))).trim() === '1';
    if (has('net')) info.netdevs = await s.list(layout.pciAttr(a, 'net'));
    if (has('physfn')) await this.readVfPosition(a, info);
    if (has('sriov_totalvfs')) await this.readSriov(a, entries, info, unread);
    if (has('mdev_supported_types')) {
      const t = await this.mdevTypes(a);
      if (t) info.mdevTypes = t;
    }
    if (unread.length) info.unreadable = unread.sort();
    return info;
  }

  /**
   * Ids, class and driver attribute by attribute, none of which takes the device lock: for a tree
   * without `uevent` (every PCI device has one on a real kernel), with a malformed one, or whose
   * `uevent` did not answer within the bound. The driver then comes from the `driver` link, which
   * an unbind removes before it waits.
   */
  private async readIds(a: string, has: (e: string) => boolean): Promise<PciIds> {
    const s = this.sysfs;
    const rd = (attr: string) => s.read(layout.pciAttr(a, attr));
    const [vendor, device, cls, sv, sd, driver] = await Promise.all([
      rd('vendor'),
      rd('device'),
      rd('class'),
      has('subsystem_vendor') ? rd('subsystem_vendor') : undefined,
      has('subsystem_device') ? rd('subsystem_device') : undefined,
      has('driver') ? s.readlink(layout.pciAttr(a, 'driver')) : undefined,
    ]);
    const ids: PciIds = { vendor: hex(vendor), device: hex(device), class: hex(cls).padStart(6, '0') };
    if (sv !== undefined) ids.subsystemVendor = hex(sv);
    if (sd !== undefined) ids.subsystemDevice = hex(sd);
    if (driver !== undefined) ids.driver = base(driver);
    return ids;
  }

  private async readVfPosition(a: string, info: PciDeviceInfo): Promise<void> {
    const pf = base(await this.sysfs.readlink(layout.pciAttr(a, 'physfn')));
    info.physfn = pf;
    // K from the PF's offset/stride (2 reads) instead of scanning its virtfn links
    const [off, stride] = await Promise.all([
      this.sysfs.read(layout.pciAttr(pf, 'sriov_offset')),
      this.sysfs.read(layout.pciAttr(pf, 'sriov_stride')),
    ]);
    const st = Number(stride.trim()) || 1;
    info.vfIndex = (rid(a) - rid(pf) - Number(off.trim())) / st;
  }

  private async readSriov(a: string, entries: string[], info: PciDeviceInfo, unread: string[]): Promise<void> {
    const rd = (attr: string) => this.sysfs.read(layout.pciAttr(a, attr)).then((v) => v.trim());
    const [total, num, offset, stride, vfDevice] = await Promise.all([
      rd('sriov_totalvfs'),
      this.withinBound(this.sysfs.read(layout.pciAttr(a, 'sriov_numvfs'))),
      rd('sriov_offset'),
      rd('sriov_stride'),
      entries.includes('sriov_vf_device') ? rd('sriov_vf_device') : Promise.resolve(undefined),
    ]);
    const links = entries.filter((e) => /^virtfn\d+$/.test(e)).sort((x, y) => Number(x.slice(6)) - Number(y.slice(6)));
    const vfs = await Promise.all(links.map((l) => this.sysfs.readlink(layout.pciAttr(a, l)).then(base)));
    // past the bound (lock held): the kernel keeps one virtfnK link per enabled VF, so count those
    if (num === undefined) unread.push('sriov_numvfs');
    const n = num === undefined ? vfs.length : Number(num.trim());
    info.sriov = { totalVfs: Number(total), numVfs: n, offset: Number(offset), stride: Number(stride), vfs };
    if (vfDevice) info.sriov.vfDevice = hex(vfDevice).padStart(4, '0');
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
    let p = this.typesCache.get(parent);
    if (!p) {
      p = this.readMdevTypes(parent);
      this.typesCache.set(parent, p);
    }
    return p;
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

  /** The whole host (every PCI device, group, mdev parent and mdev): for `passthru list`. */
  async fullSnapshot(): Promise<HostSnapshot> {
    const snap: HostSnapshot = { devices: {}, groups: {}, mdevs: {}, netdevs: {} };
    const kernel = await this.kernel();
    if (kernel) snap.kernel = kernel;
    const addrs = (await this.opt(this.sysfs.list(layout.pciDevices))) ?? [];
    // in batches: all devices at once would hold thousands of open files (EMFILE) and a heap of promises
    const infos: (PciDeviceInfo | undefined)[] = [];
    const ms = this.opts.lockedReadMs;
    for (let i = 0; i < addrs.length; i += BATCH) {
      let timer: NodeJS.Timeout | undefined;
      if (ms !== undefined)
        this.batchDeadline = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
      try {
        infos.push(...(await Promise.all(addrs.slice(i, i + BATCH).map((a) => this.device(a)))));
      } finally {
        clearTimeout(timer);
        this.batchDeadline = undefined;
      }
    }
    for (const d of infos) {
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

function rid(a: string): number {
  const [, bus, sf] = a.split(':') as [string, string, string];
  const [slot, fn] = sf.split('.') as [string, string];
  return (parseInt(bus, 16) << 8) | (parseInt(slot, 16) << 3) | parseInt(fn, 16);
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
