// SimKernel: a host in memory (optionally backed by a JSON file shared by processes) that answers
// the Sysfs and NetLink interfaces with the kernel's semantics, as measured on a real kernel
// (test/lab/FINDINGS.md) and read in drivers/base/bus.c, drivers/pci/{pci-driver,pci-sysfs,iov}.c and
// drivers/vfio/mdev. Where it deliberately differs from the kernel, the comment says so.
import { readFileSync, statSync } from 'node:fs';
import { saveSimFile } from './persist.js';
import { errnoError, type Sysfs } from '../host/sysfs.js';
import type { NetLink, VfInfo, VfSettings } from '../host/netlink.js';
import { pciUevent } from './uevent.js';
import { decide, killAfter, loadFaults, type SimFaults } from './faults.js';
import { creatableTypes, formatCreatable, hasVgpuDir, NVIDIA_VGPU_FILES, writeCurrentType } from './nvidia-vgpu.js';
import { readTakesDeviceLock } from '../host/device-lock.js';
import {
  canonicalState,
  normalizeOrder,
  type SimDevice,
  type SimFile,
  type SimMdev,
  type SimMdevType,
  type SimVfLink,
} from './state.js';

type Node =
  | { t: 'file'; get?: () => string; set?: (data: string) => void }
  | { t: 'dir'; entries: () => string[] }
  | { t: 'link'; target: string; to?: string };

const MODULE_DRIVERS: Record<string, string> = { vfio_pci: 'vfio-pci', pci_stub: 'pci-stub' };
const DIRECT =
  /^sys\/(?:bus\/pci\/devices\/[^/]+(?:$|\/(?!driver\/|physfn\/|virtfn|iommu_group\/|mdev_supported_types)[^/]+)|class\/mdev_bus\/[^/]+\/mdev_supported_types\/[^/]+\/(?!devices\/)[^/]+)$/;
/** Prefix of sys/bus/pci/devices/D and sys/bus/pci/devices/D/ATTR, the paths lookup answers first. */
const PCI_DEVICES = 'sys/bus/pci/devices/';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const hex0x = (v: string): string => `0x${v.toLowerCase()}\n`;
/** Bumped by every save in this process, so other instances re-check the file. */
let localGeneration = 0;
/**
 * The turn, as far as the simulator cares: it ends once the promise jobs queued when a check was
 * recorded have all run (a nextTick queued from them runs only then), so an instance's check holds
 * until then, never past a wait on the event loop. One nextTick a turn, not a setImmediate per save
 * and per check: a prepare recorded ~30, and a process's first immediate alone costs ~0.5M
 * instructions (node compiling its timer code).
 */
let turn = 0;
let turnEnding = false;
function currentTurn(): number {
  if (!turnEnding) {
    turnEnding = true;
    process.nextTick(() => {
      turn++;
      turnEnding = false;
    });
  }
  return turn;
}
/** A stamp no file has (fileStamp gives ino:size:mtime or undefined). */
const UNKNOWN_STAMP = 'unknown';
const enoent = (path: string) => errnoError('ENOENT', 'no such file or directory', path);

/**
 * Thrown by a setter whose write blocks in the kernel: 'held' = the write itself waits (an unbind,
 * an mdev remove or an SR-IOV disable waiting for qemu) and returns once `done` says the kernel
 * finished it; 'retry' = it waits for the device lock and then runs as usual.
 */
class WriteBlocks extends Error {
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
function lockedByKernel(d: SimDevice): boolean {
  return !!d.unbinding || d.sriov?.disablingAt !== undefined;
}

/** The sysfs address of routing id `rid` in PCI domain `domain`. */
function ridAddress(domain: string, rid: number): string {
  const bus = (rid >> 8) & 0xff;
  const slot = (rid >> 3) & 0x1f;
  const fn = rid & 7;
  return `${domain}:${bus.toString(16).padStart(2, '0')}:${slot.toString(16).padStart(2, '0')}.${fn}`;
}
function rid(address: string): number {
  const [, bus, slotFn] = address.split(':') as [string, string, string];
  const [slot, fn] = slotFn.split('.') as [string, string];
  return (parseInt(bus, 16) << 8) | (parseInt(slot, 16) << 3) | parseInt(fn, 16);
}

/** Default VF settings of a freshly created VF, as igb/ixgbe report them. */
export function defaultVfLink(): SimVfLink {
  return {
    mac: '00:00:00:00:00:00',
    vlan: 0,
    qos: 0,
    spoofchk: true,
    trust: false,
    state: 'auto',
    minRate: 0,
    maxRate: 0,
  };
}

export interface SimKernelOptions {
  /** Where the state is persisted (each write saves it). */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

export class SimKernel implements Sysfs, NetLink {
  state!: SimFile;
  readonly file?: string;
  /** Reads (read, list, readlink, exists) served by this instance: the cost of a plan. */
  reads = 0;
  /** Writes attempted by this instance (failed ones included): fault numbers count these. */
  writesAttempted = 0;
  private faults: SimFaults[];
  private byAddr = new Map<string, SimDevice>();
  private groupsCache?: Map<number, string[]>;
  private stamp?: string;
  private checkedGen = -1;
  /** The turn in which checkedGen was recorded: the check holds only within it. */
  private checkedTurn = -1;
  private vfIndex = new Map<string, SimDevice[]>();
  /** Some device's lock is held by a write waiting for qemu (kept so reads stay cheap otherwise). */
  private anyLocked = false;
  /** Reads and writes of this instance waiting for a device lock, resumed when the device is released. */
  private lockWaiters: (() => void)[] = [];
  /**
   * JSON of `state` exactly as this instance last saved it, while nothing has changed the state since
   * (cleared by setState and initialize): the copy a write rolls back to, without serializing the
   * host once more before every write.
   */
  private savedText?: string;
  /**
   * The file holds this instance's last save (savedText) unless another process replaced it since:
   * the next refresh compares the two instead of a stat after every save (13 per prepare).
   */
  private stampPending = false;

  constructor(state: SimFile, opts: SimKernelOptions = {}) {
    this.file = opts.file;
    this.setState(state);
    this.faults = loadFaults(state.faults, opts.env ?? {});
    if (this.file) this.stamp = this.fileStamp();
  }

  /** The host in FILE (a sim file written by `passthru sim init` or save()). */
  static load(file: string, env: NodeJS.ProcessEnv = process.env): SimKernel {
    return new SimKernel(readSimFile(file), { file, env });
  }

  private setState(state: SimFile): void {
    this.state = state;
    this.savedText = undefined;
    state.devices ??= [];
    this.reindex();
  }

  private reindex(): void {
    this.byAddr = new Map(this.state.devices.map((d) => [d.address, d]));
    this.vfIndex = new Map();
    for (const d of this.state.devices)
      if (d.physfn) (this.vfIndex.get(d.physfn) ?? this.vfIndex.set(d.physfn, []).get(d.physfn)!).push(d);
    this.groupsCache = undefined;
    this.anyLocked = this.state.devices.some(lockedByKernel);
  }

  private fileStamp(): string | undefined {
    try {
      const st = statSync(this.file!);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return undefined;
    }
  }

  /** Another process may have changed the file since we read it: pick its version up. */
  private refresh(): void {
    if (!this.file) return;
    // one stat per turn (see currentTurn): the reads of one turn see one version of the host (a write in
    // this process, by any instance, forces the next check)
    const t = currentTurn();
    if (this.checkedGen === localGeneration && this.checkedTurn === t) return;
    this.checkedGen = localGeneration;
    this.checkedTurn = t;
    const now = this.fileStamp();
    if (this.stampPending) {
      this.stampPending = false;
      // the stamp of this instance's last save is taken here, once, not by a stat after every save: if
      // the file still holds exactly the text that save wrote, the state in memory is the file's
      if (this.savedText !== undefined && now !== undefined && this.fileText() === this.savedText) {
        this.stamp = now;
        return;
      }
    }
    if (now !== this.stamp) {
      this.setState(readSimFile(this.file));
      this.stamp = now;
    }
  }

  private fileText(): string | undefined {
    try {
      return readFileSync(this.file!, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** Writes the file atomically (temp + rename), so a reader never sees half a host. */
  save(): void {
    if (!this.file) return;
    this.savedText = saveSimFile(this.file, this.state);
    localGeneration++;
    this.stamp = UNKNOWN_STAMP; // never a file's: the next refresh re-reads unless the file is still this save
    this.stampPending = true;
    // this instance holds what it just wrote: no need to stat the file again before its next read in
    // this turn (other instances still re-check: the generation moved)
    this.checkedGen = localGeneration;
    this.checkedTurn = currentTurn();
  }

  /** The host state as canonical JSON (no write log, counters, faults). */
  canonical(): string {
    this.refresh();
    return canonicalState(this.state);
  }

  get writeLog(): { path: string; data: string }[] {
    this.refresh();
    return this.state.writeLog ?? [];
  }

  /**
   * Marks a device (PCI address) or mdev (UUID) as held open by qemu, or not. Releasing a device
   * whose unbind was waiting for qemu completes that unbind, as qemu's exit does.
   */
  setInUse(id: string, inUse: boolean): void {
    this.refresh();
    const target = this.byAddr.get(id) ?? this.state.mdevs?.find((m) => m.uuid === id);
    if (!target) throw new Error(`no device or mdev '${id}' in the simulated host`);
    if (inUse) target.inUse = true;
    else delete target.inUse;
    const d = this.byAddr.get(id);
    const pf = d?.physfn ? this.byAddr.get(d.physfn) : undefined;
    if (!inUse && d && pf?.sriov?.disablingAt !== undefined && pf.sriov.disablingAt === d.vfIndex) {
      // the SR-IOV disable goes on past this VF (and may stop at the next one qemu holds)
      this.continueDisable(pf);
    } else if (!inUse && d?.unbinding) {
      delete d.unbinding;
      this.detach(d);
      this.reindex();
    }
    const m = d ? undefined : (target as SimMdev);
    if (!inUse && m?.removing) this.dropMdev(m);
    this.save();
    const waiting = this.lockWaiters;
    this.lockWaiters = [];
    for (const resume of waiting) resume();
  }

  device(address: string): SimDevice | undefined {
    this.refresh();
    return this.byAddr.get(address);
  }

  /** Completes a fixture into a host: native drivers, the VFs its PFs already have, mdev groups. */
  initialize(): void {
    this.savedText = undefined;
    for (const d of this.state.devices)
      if (d.nativeDriver === undefined && d.driver !== undefined) d.nativeDriver = d.driver;
    this.reindex();
    for (const pf of [...this.state.devices]) {
      const s = pf.sriov;
      if (!s || s.numVfs === 0 || this.state.devices.some((d) => d.physfn === pf.address)) continue;
      const want = s.numVfs;
      s.numVfs = 0;
      this.setNumVfs(pf, want);
    }
    for (const m of this.state.mdevs ?? []) {
      if (m.iommuGroup === undefined) {
        m.iommuGroup = this.freeGroup();
        this.groupsCache = undefined;
      }
    }
    if (this.state.mdevs?.length === 0) delete this.state.mdevs; // as after the last remove: equal hosts stay byte-identical
    for (const d of this.state.devices) if (d.mdevTypes) this.syncPool(d.address);
    for (const p of this.state.mdevParents ?? []) this.syncPool(p.name);
    normalizeOrder(this.state);
    this.reindex();
  }

  // ---- Sysfs ----

  async read(path: string): Promise<string> {
    this.refresh();
    this.reads++;
    if (this.lockHeld(path)) return this.waitForLock(() => this.read(path));
    const n = this.follow(path);
    if (n.t === 'dir') throw errnoError('EISDIR', 'is a directory', path);
    if (n.t !== 'file' || !n.get) throw errnoError('EACCES', 'permission denied', path);
    return n.get();
  }

  async list(path: string): Promise<string[]> {
    this.refresh();
    this.reads++;
    const n = this.follow(path);
    if (n.t !== 'dir') throw errnoError('ENOTDIR', 'not a directory', path);
    const e = n.entries();
    // most listings (a device's attributes, a group's members) come sorted and unique already: no set, no sort
    for (let i = 1; i < e.length; i++) if (!(e[i - 1]! < e[i]!)) return [...new Set(e)].sort();
    return e.slice();
  }

  async readlink(path: string): Promise<string> {
    this.refresh();
    this.reads++;
    const n = this.lookup(this.resolveLinks(checkPath(path)), path);
    if (n.t !== 'link') throw errnoError('EINVAL', 'not a symbolic link', path);
    return n.target;
  }

  async exists(path: string): Promise<boolean> {
    this.refresh();
    this.reads++;
    try {
      return this.tryFollow(path) !== undefined;
    } catch {
      return false;
    }
  }

  async write(path: string, data: string): Promise<void> {
    this.refresh();
    if (this.lockHeld(path)) return this.waitForLock(() => this.write(path, data));
    await this.faultGate(path, data, () => {
      const n = this.follow(path);
      if (n.t === 'dir') throw errnoError('EISDIR', 'is a directory', path);
      if (n.t !== 'file' || !n.set) throw errnoError('EACCES', 'permission denied', path);
      n.set(data);
    });
  }

  // ---- NetLink ----

  async listVfs(pfNetdev: string): Promise<VfInfo[]> {
    this.refresh();
    this.reads++;
    const pf = this.pfByNetdev(pfNetdev);
    if (!pf.sriov) return [];
    return this.vfLinks(pf).map((l, index) => ({ index, ...l }));
  }

  async setVf(pfNetdev: string, index: number, settings: VfSettings): Promise<void> {
    this.refresh();
    const parts = Object.entries(settings)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${String(v)}`);
    await this.faultGate(`ip link set dev ${pfNetdev} vf ${index}`, parts.join(' '), () => {
      const pf = this.pfByNetdev(pfNetdev);
      const links = pf.sriov ? this.vfLinks(pf, true) : [];
      const link = links[index];
      if (!Number.isInteger(index) || !link) throw errnoError('EINVAL', `${pfNetdev} has no VF ${index}`);
      const next: SimVfLink = { ...link };
      if (settings.mac !== undefined) {
        const mac = settings.mac.toLowerCase();
        // the kernel refuses multicast MACs for VFs; all-zero clears
        if (!MAC.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1)
          throw errnoError('EINVAL', `invalid VF MAC '${settings.mac}'`);
        next.mac = mac;
      }
      if (settings.vlan !== undefined) {
        if (!Number.isInteger(settings.vlan) || settings.vlan < 0 || settings.vlan > 4095)
          throw errnoError('EINVAL', `invalid VLAN ${settings.vlan}`);
        next.vlan = settings.vlan;
      }
      if (settings.qos !== undefined) {
        if (!Number.isInteger(settings.qos) || settings.qos < 0 || settings.qos > 7)
          throw errnoError('EINVAL', `invalid qos ${settings.qos}`);
        next.qos = settings.qos;
      }
      if (settings.spoofchk !== undefined) next.spoofchk = settings.spoofchk;
      if (settings.trust !== undefined) next.trust = settings.trust;
      if (settings.state !== undefined) {
        if (!['auto', 'enable', 'disable'].includes(settings.state))
          throw errnoError('EINVAL', `invalid link state '${settings.state}'`);
        next.state = settings.state;
      }
      for (const k of ['minRate', 'maxRate'] as const) {
        const v = settings[k];
        if (v !== undefined) {
          if (!Number.isInteger(v) || v < 0) throw errnoError('EINVAL', `invalid ${k} ${v}`);
          next[k] = v;
        }
      }
      if (next.maxRate !== 0 && next.minRate > next.maxRate)
        throw errnoError('EINVAL', `min_tx_rate ${next.minRate} above max_tx_rate ${next.maxRate}`);
      links[index] = next;
    });
  }

  // ---- writes: faults, log, persistence ----

  private async faultGate(path: string, data: string, apply: () => void): Promise<void> {
    const n = ++this.writesAttempted;
    const d = decide(this.faults, n, path, data);
    if (d.kind === 'hang') return new Promise<void>(() => {}); // a stuck kernel write: never settles
    if (d.kind === 'fail') throw d.error;
    // apply on a copy, so a refused write leaves the host exactly as it was
    const before = this.savedText ?? JSON.stringify(this.state);
    try {
      apply();
    } catch (err) {
      if (err instanceof WriteBlocks && err.then === 'held') {
        // the write stays in the kernel; what it did so far (a device now unbinding) every reader sees
        this.reindex();
        this.save();
        return this.waitUntil(err.done);
      }
      this.setState(JSON.parse(before) as SimFile);
      if (this.file) this.savedText = before; // the state is that text again
      if (err instanceof WriteBlocks) return this.waitForLock(() => this.write(path, data));
      throw err;
    }
    (this.state.writeLog ??= []).push({ path, data });
    this.state.counters = { writes: (this.state.counters?.writes ?? 0) + 1 };
    this.groupsCache = undefined;
    this.save();
    if (killAfter(this.faults, n)) process.kill(process.pid, 'SIGKILL');
  }

  /**
   * Whether a read or write of `path` waits for a device lock an unbind holds: the attributes whose
   * show/store take device_lock (src/host/device-lock.ts) of a device whose unbind waits for qemu.
   */
  private lockHeld(path: string): boolean {
    if (!this.anyLocked || !readTakesDeviceLock(path)) return false;
    const m = /^sys\/bus\/pci\/devices\/([^/]+)\/[^/]+$/.exec(this.resolveLinks(checkPath(path)));
    const d = m ? this.byAddr.get(m[1]!) : undefined;
    return !!d && lockedByKernel(d);
  }

  /**
   * A blocked kernel call: settles only when a device is released in this instance (setInUse), then
   * runs `then`. Another process's release does not wake it: a bounded caller times out, as it must
   * on a real kernel.
   */
  private waitForLock<T>(then: () => Promise<T>): Promise<T> {
    return new Promise<void>((resume) => this.lockWaiters.push(resume)).then(then);
  }

  /** A write that waits in the kernel until `done` (re-checked at every release in this instance). */
  private async waitUntil(done: () => boolean): Promise<void> {
    while (!done()) await this.waitForLock(async () => {});
  }

  // ---- model helpers ----

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

  groups(): Map<number, string[]> {
    if (this.groupsCache) return this.groupsCache;
    const g = new Map<number, string[]>();
    for (const d of this.state.devices)
      if (d.iommuGroup !== undefined)
        (g.get(d.iommuGroup) ?? g.set(d.iommuGroup, []).get(d.iommuGroup)!).push(d.address);
    for (const m of this.state.mdevs ?? [])
      (g.get(m.iommuGroup) ?? g.set(m.iommuGroup, []).get(m.iommuGroup)!).push(m.uuid);
    this.groupsCache = g;
    return g;
  }

  private freeGroup(): number {
    const used = this.groups();
    let n = 0;
    while (used.has(n)) n++; // the kernel's ida hands out the lowest free number
    return n;
  }

  /** A device's netdev exists while it is bound to its native (network) driver. */
  netdevOf(d: SimDevice): string | undefined {
    return d.netdev && d.driver !== undefined && d.driver === d.nativeDriver ? d.netdev : undefined;
  }

  private pfByNetdev(name: string): SimDevice {
    const pf = this.state.devices.find((d) => this.netdevOf(d) === name);
    if (!pf) throw errnoError('ENODEV', `Cannot find device "${name}"`);
    return pf;
  }

  /** The PF's VF settings, one per existing VF (stored only once a VF exists, so reads never change state). */
  private vfLinks(pf: SimDevice, forWrite = false): SimVfLink[] {
    const s = pf.sriov!;
    const links = Array.from({ length: s.numVfs }, (_, i) => s.vfLinks?.[i] ?? defaultVfLink());
    if (forWrite && s.numVfs > 0) s.vfLinks = links;
    return links;
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

  private idMatches(d: SimDevice, drv: string): boolean {
    return (this.state.dynamicIds?.[drv] ?? []).includes(`${d.vendor} ${d.device}`);
  }

  /** pci_bus_match: an override names the only driver that may bind; else id tables and dynamic ids. */
  private matches(d: SimDevice, drv: string): boolean {
    if (d.driverOverride !== undefined) return d.driverOverride === drv;
    return d.nativeDriver === drv || this.idMatches(d, drv);
  }

  /** device_attach on an unbound device. */
  private probe(d: SimDevice): void {
    if (d.driver) return;
    const loaded = this.loadedDrivers();
    if (d.driverOverride !== undefined) {
      // override to a driver that is not loaded, or whose probe fails: the write succeeds, the device stays unbound
      if (loaded.has(d.driverOverride)) this.bind(d, d.driverOverride);
      return;
    }
    if (d.nativeDriver && loaded.has(d.nativeDriver)) {
      this.bind(d, d.nativeDriver);
      return;
    }
    for (const drv of [...loaded].sort()) if (this.idMatches(d, drv)) return void this.bind(d, drv);
  }

  /** really_probe: binds unless the driver's probe fails; false when it failed (the device stays unbound). */
  private bind(d: SimDevice, drv: string): boolean {
    // vfio_pci_core_register_device: "Cannot bind to PF with SR-IOV enabled" (-EBUSY)
    if (drv === 'vfio-pci' && (d.sriov?.numVfs ?? 0) > 0) return false;
    d.driver = drv;
    return true;
  }

  private unbind(d: SimDevice): void {
    const address = d.address;
    const unbound = () => !this.byAddr.get(address)?.unbinding;
    // a second unbind waits for the device lock the first one holds, then finds nothing to do
    if (d.unbinding) throw new WriteBlocks('held', unbound);
    // device_release_driver takes the device lock an SR-IOV disable holds, then runs as usual
    if (d.sriov?.disablingAt !== undefined) throw new WriteBlocks('retry');
    // vfio-pci's remove waits until qemu closes the device (vfio_unregister_group_dev) and the write
    // blocks until then; sysfs already shows no driver (driver_sysfs_remove runs first)
    if (d.driver === 'vfio-pci' && d.inUse) {
      d.unbinding = true;
      throw new WriteBlocks('held', unbound);
    }
    this.detach(d);
  }

  /** The driver's remove has run: whether a PF's VFs go with it is its driver's choice. */
  private detach(d: SimDevice): void {
    // the PCI core leaves SR-IOV enabled ("driver left SR-IOV enabled after remove", nvme); igb, i40e,
    // mlx5_core disable it in their remove. vfio-pci never has VFs to drop: it refuses a PF with VFs.
    if (d.sriov && d.sriov.numVfs > 0 && d.sriov.disableOnUnbind && d.driver === d.nativeDriver) {
      // the remove runs with the driver link gone already; a VF qemu holds stops it there (unbinding)
      d.unbinding = true;
      this.disableSriov(d);
      delete d.unbinding;
    }
    delete d.driver;
  }

  private dev(address: string): SimDevice {
    const d = this.byAddr.get(address.replace(/\n$/, ''));
    if (!d) throw errnoError('ENODEV', `no such device '${address.trim()}'`);
    return d;
  }

  private setNumVfs(pf: SimDevice, n: number): void {
    const s = pf.sriov!;
    if (n === s.numVfs) return;
    if (n !== 0 && s.numVfs !== 0)
      throw errnoError('EBUSY', `${s.numVfs} VFs already enabled; disable before enabling ${n}`);
    if (n === 0) return this.disableSriov(pf);
    const domain = pf.address.slice(0, 4);
    const base = rid(pf.address);
    const created: SimDevice[] = [];
    for (let k = 0; k < n; k++) {
      const address = ridAddress(domain, base + s.offset + s.stride * k);
      if (this.byAddr.has(address)) throw errnoError('EIO', `VF address ${address} is taken`);
      const vf: SimDevice = {
        address,
        vendor: pf.vendor,
        device: s.vfDevice ?? pf.device,
        class: pf.class,
        physfn: pf.address,
        vfIndex: k,
      };
      if (pf.subsystemVendor) vf.subsystemVendor = pf.subsystemVendor;
      if (pf.subsystemDevice) vf.subsystemDevice = pf.subsystemDevice;
      if (pf.parent) vf.parent = pf.parent;
      if (s.vfDriver) vf.nativeDriver = s.vfDriver;
      if (pf.netdev && s.vfDriver) vf.netdev = `${pf.netdev}v${k}`;
      if (pf.iommuGroup !== undefined) {
        if (s.vfGroups === 'pf') vf.iommuGroup = pf.iommuGroup;
        else {
          vf.iommuGroup = this.freeGroup();
          this.groupsCache?.set(vf.iommuGroup, [address]);
        }
      }
      this.byAddr.set(address, vf);
      created.push(vf);
    }
    this.state.devices.push(...created);
    s.numVfs = n;
    s.vfLinks = Array.from({ length: n }, defaultVfLink);
    this.reindex();
    for (const vf of created) this.probe(vf); // sriov_drivers_autoprobe=1
  }

  /**
   * sriov_disable: removes the VFs from the lowest index up. A VF qemu holds through vfio-pci stops
   * it there until qemu closes the device (lab-measured: the write blocks, VFs below are gone, the
   * VF has lost its driver, physfn and virtfn links, and the PF's and the VF's device locks are held).
   */
  private disableSriov(pf: SimDevice): void {
    const s = pf.sriov!;
    const vfs = [...(this.vfIndex.get(pf.address) ?? [])].sort((a, b) => a.vfIndex! - b.vfIndex!);
    const held = vfs.find((v) => v.unbinding || (v.inUse && v.driver === 'vfio-pci'));
    if (held) {
      const gone = new Set(vfs.filter((v) => v.vfIndex! < held.vfIndex!).map((v) => v.address));
      this.state.devices = this.state.devices.filter((d) => !gone.has(d.address));
      held.unbinding = true;
      s.disablingAt = held.vfIndex!;
      this.reindex();
      const address = pf.address;
      throw new WriteBlocks('held', () => this.byAddr.get(address)?.sriov?.disablingAt === undefined);
    }
    this.state.devices = this.state.devices.filter((d) => d.physfn !== pf.address);
    s.numVfs = 0;
    delete s.vfLinks;
    delete s.disablingAt;
    this.reindex();
  }

  /** qemu let go of the VF an SR-IOV disable waited for: the disable goes on (a PF unbind then ends). */
  private continueDisable(pf: SimDevice): void {
    const s = pf.sriov!;
    const vf = this.vfIndex.get(pf.address)?.find((v) => v.vfIndex === s.disablingAt);
    if (vf) this.state.devices = this.state.devices.filter((d) => d !== vf);
    delete s.disablingAt;
    this.reindex();
    try {
      this.disableSriov(pf);
    } catch (err) {
      if (err instanceof WriteBlocks) return; // the next VF qemu holds: still waiting
      throw err;
    }
    if (pf.unbinding) {
      delete pf.unbinding;
      delete pf.driver;
      this.reindex();
    }
  }

  /** A VF the SR-IOV disable of its PF is removing right now: its physfn and virtfnK links are gone. */
  private leavingPf(vf: SimDevice): boolean {
    const at = vf.physfn ? this.byAddr.get(vf.physfn)?.sriov?.disablingAt : undefined;
    return at !== undefined && at === vf.vfIndex;
  }

  // ---- the file tree ----

  /** Rewrites symlinks met inside a path (D/driver/unbind -> drivers/X/unbind); the last component stays. */
  private resolveLinks(path: string): string {
    // the common case, an attribute of a device or of an mdev type, crosses no link
    if (DIRECT.test(path)) return path;
    let p = path;
    for (let hop = 0; hop < 16; hop++) {
      const s = p.split('/');
      let changed = false;
      for (let i = 3; i < s.length && !changed; i++) {
        let n: Node | undefined;
        try {
          n = this.find(s.slice(0, i).join('/'));
        } catch {
          return p;
        }
        if (n === undefined) return p;
        if (n.t === 'link' && n.to) {
          const np = [...n.to.split('/').filter((x) => x !== '.'), ...s.slice(i)].join('/');
          if (np !== p) {
            p = np;
            changed = true;
          }
        }
      }
      if (!changed) return p;
    }
    throw errnoError('ELOOP', 'too many levels of symbolic links', path);
  }

  private follow(path: string): Node {
    const n = this.tryFollow(path);
    if (n === undefined) throw enoent(path);
    return n;
  }

  /** follow without an Error for a path that does not exist (exists() asks about optional entries). */
  private tryFollow(path: string): Node | undefined {
    const n = this.find(this.resolveLinks(checkPath(path)));
    if (n?.t !== 'link') return n;
    return n.to ? this.find(this.resolveLinks(n.to)) : undefined;
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

  private upToSys(d: SimDevice): string {
    return '../'.repeat(this.pciPath(d).split('/').length);
  }

  private mdevParentPath(name: string): string {
    const d = this.byAddr.get(name);
    return d ? this.pciPath(d) : `devices/virtual/${name}/${name}`;
  }

  lookup(p: string, original: string): Node {
    const n = this.find(p);
    if (n === undefined) throw enoent(original);
    return n;
  }

  /**
   * The node at root-relative path p (links not followed), or undefined when there is none: resolveLinks
   * probes every prefix of a path with it, and a miss there costs no Error (a stack capture) per probe.
   */
  private find(p: string): Node | undefined {
    const file = this.state.files?.[p];
    if (file !== undefined)
      return {
        t: 'file',
        get: () => file,
        set: p.startsWith('etc/') ? (v) => void (this.state.files![p] = v) : undefined,
      };
    // most lookups of a plan and of `passthru list`: a PCI device or one of its attributes, without the generic split
    if (p.startsWith(PCI_DEVICES)) {
      const slash = p.indexOf('/', PCI_DEVICES.length);
      const rest =
        slash < 0
          ? [p.slice(PCI_DEVICES.length)]
          : p.indexOf('/', slash + 1) < 0
            ? [p.slice(PCI_DEVICES.length, slash), p.slice(slash + 1)]
            : undefined;
      // what sysNode does for bus/pci/devices/D[/ATTR], without its generic walk
      if (rest && rest[0] !== '' && rest[1] !== '') return this.pciDeviceNode(rest) ?? this.missing(p);
    }
    const s = p.split('/');
    // the extra files under p are listed only where they are needed (a miss, or dev and var listings)
    const filesHere = (): string[] => (this.state.files ? this.filesUnder(p) : []);
    switch (s[0]) {
      case 'sys':
        return this.sysNode(s.slice(1), p) ?? this.missing(p);
      case 'proc':
        return this.procNode(p) ?? this.missing(p);
      case 'dev':
        if (p === 'dev') {
          const dirOfFiles = filesHere();
          return { t: 'dir', entries: () => ['vfio', ...dirOfFiles] };
        }
        if (p === 'dev/vfio') return { t: 'dir', entries: () => this.vfioEntries() };
        if (s[1] === 'vfio' && s.length === 3 && this.vfioEntries().includes(s[2]!))
          return { t: 'file', get: () => '' };
        return this.missing(p);
      case 'var':
        if (p === 'var/log/dmesg' && this.state.dmesg)
          return { t: 'file', get: () => this.state.dmesg!.map((l) => `${l}\n`).join('') };
        if ((p === 'var' || p === 'var/log') && this.state.dmesg) {
          const dirOfFiles = filesHere();
          return { t: 'dir', entries: () => [p === 'var' ? 'log' : 'dmesg', ...dirOfFiles] };
        }
        return this.missing(p);
      default:
        return this.missing(p);
    }
  }

  /** A directory that only extra files make (etc, etc/modprobe.d, …), or nothing. */
  private missing(p: string): Node | undefined {
    const entries = this.state.files ? this.filesUnder(p) : [];
    return entries.length ? { t: 'dir', entries: () => entries } : undefined;
  }

  /** Names directly under directory p among the extra files. */
  private filesUnder(p: string): string[] {
    const out = new Set<string>();
    const prefix = p === '' ? '' : `${p}/`;
    for (const f of Object.keys(this.state.files ?? {}))
      if (f.startsWith(prefix)) out.add(f.slice(prefix.length).split('/')[0]!);
    return [...out];
  }

  vfioEntries(): string[] {
    const out = new Set<string>();
    if ((this.state.modules ?? []).includes('vfio')) out.add('vfio');
    for (const [g, members] of this.groups()) {
      if (members.some((m) => this.byAddr.get(m)?.driver === 'vfio-pci' || UUID.test(m))) out.add(String(g));
    }
    return [...out];
  }

  private procNode(p: string): Node | undefined {
    const st = this.state;
    switch (p) {
      case 'proc':
        return { t: 'dir', entries: () => ['cmdline', 'modules', 'mounts', 'net', 'sys'] };
      case 'proc/cmdline':
        return { t: 'file', get: () => `${st.cmdline}\n` };
      case 'proc/modules':
        return {
          t: 'file',
          get: () => (st.modules ?? []).map((m) => `${m} 16384 0 - Live 0x0000000000000000\n`).join(''),
        };
      case 'proc/sys/kernel/osrelease':
        return { t: 'file', get: () => `${st.kernel}\n` };
      case 'proc/mounts': {
        const root = this.rootDiskNames();
        return {
          t: 'file',
          get: () =>
            `sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n${root ? `/dev/${root.partition} / ext4 rw,relatime,errors=remount-ro 0 0\n` : ''}`,
        };
      }
      case 'proc/net/route': {
        const i = st.defaultRouteNetdev;
        const head = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';
        return {
          t: 'file',
          get: () =>
            head +
            (i
              ? `${i}\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n${i}\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n`
              : ''),
        };
      }
      default:
        return undefined;
    }
  }

  private rootDiskNames(): { device: string; disk: string; partition: string } | undefined {
    const r = this.state.rootDisk;
    if (!r) return undefined;
    const device = typeof r === 'string' ? r : r.device;
    const disk = (typeof r === 'object' && r.disk) || 'nvme0n1';
    const partition = (typeof r === 'object' && r.partition) || `${disk}${/\d$/.test(disk) ? 'p' : ''}2`;
    return { device, disk, partition };
  }

  private sysNode(s: string[], p: string): Node | undefined {
    const [a, b, c, d] = s;
    if (s.length === 0) return { t: 'dir', entries: () => ['bus', 'class', 'kernel'] };
    if (a === 'bus') {
      if (s.length === 1) return { t: 'dir', entries: () => ['mdev', 'pci'] };
      if (b === 'pci') {
        if (s.length === 2) return { t: 'dir', entries: () => ['devices', 'drivers', 'drivers_probe'] };
        if (c === 'drivers_probe' && s.length === 3) return { t: 'file', set: (v) => this.probe(this.dev(v)) };
        if (c === 'devices')
          return s.length === 3 ? { t: 'dir', entries: () => [...this.byAddr.keys()] } : this.pciDeviceNode(s.slice(3));
        if (c === 'drivers')
          return s.length === 3 ? { t: 'dir', entries: () => [...this.loadedDrivers()] } : this.driverNode(s.slice(3));
        return undefined;
      }
      if (b === 'mdev') {
        if (s.length === 2) return { t: 'dir', entries: () => ['devices'] };
        if (c === 'devices')
          return s.length === 3
            ? { t: 'dir', entries: () => (this.state.mdevs ?? []).filter((m) => !m.removing).map((m) => m.uuid) }
            : this.mdevNode(s.slice(3));
      }
      return undefined;
    }
    if (a === 'kernel') {
      if (s.length === 1) return { t: 'dir', entries: () => ['iommu_groups'] };
      if (b !== 'iommu_groups') return undefined;
      if (s.length === 2) return { t: 'dir', entries: () => [...this.groups().keys()].map(String) };
      const members = /^\d+$/.test(c!) ? this.groups().get(Number(c)) : undefined;
      if (!members) return undefined;
      if (s.length === 3) return { t: 'dir', entries: () => ['devices', 'type'] };
      if (d === 'type' && s.length === 4) return { t: 'file', get: () => 'identity\n' };
      if (d !== 'devices') return undefined;
      if (s.length === 4) return { t: 'dir', entries: () => members };
      const m = s[4]!;
      if (s.length === 5 && members.includes(m)) {
        const dev = this.byAddr.get(m);
        return dev
          ? { t: 'link', target: `../../../../${this.pciPath(dev)}`, to: `sys/bus/pci/devices/${m}` }
          : { t: 'link', target: `../../../../${this.mdevDevicePath(m)}`, to: `sys/bus/mdev/devices/${m}` };
      }
      return undefined;
    }
    if (a === 'class') {
      if (s.length === 1) return { t: 'dir', entries: () => ['block', 'mdev_bus', 'net'] };
      if (b === 'net') return this.netNode(s.slice(2));
      if (b === 'block') return this.blockNode(s.slice(2));
      if (b === 'mdev_bus') {
        if (s.length === 2) return { t: 'dir', entries: () => this.mdevParentNames() };
        const types = this.mdevParent(c!);
        if (!types) return undefined;
        if (s.length === 3)
          return { t: 'link', target: `../../${this.mdevParentPath(c!)}`, to: `sys/class/mdev_bus/${c}/.` };
        if (d === '.' && s.length === 4) return { t: 'dir', entries: () => ['mdev_supported_types'] };
        if (d === 'mdev_supported_types') return this.mdevTypesNode(c!, types, s.slice(4));
      }
      return undefined;
    }
    void p;
    return undefined;
  }

  private pciDeviceNode(s: string[]): Node | undefined {
    const dv = this.byAddr.get(s[0]!);
    if (!dv) return undefined;
    if (s.length === 1)
      return { t: 'link', target: `../../../${this.pciPath(dv)}`, to: `sys/bus/pci/devices/${dv.address}/.` };
    const attr = s[1]!;
    const rest = s.slice(2);
    if (attr === '.' && rest.length === 0) return { t: 'dir', entries: () => this.pciEntries(dv) };
    if (attr === 'nvidia') return this.nvidiaVgpuNode(dv, rest);
    if (rest.length > 0) {
      if (attr === 'net' && rest.length === 1 && this.netdevOf(dv) === rest[0])
        return { t: 'dir', entries: () => ['address', 'device', 'operstate'] };
      if (attr === 'net' && rest.length === 2 && this.netdevOf(dv) === rest[0]) return this.netAttr(dv, rest[1]!);
      return undefined;
    }
    const ro = (v: string): Node => ({ t: 'file', get: () => v });
    switch (attr) {
      case 'vendor':
        return ro(hex0x(dv.vendor.padStart(4, '0')));
      case 'device':
        return ro(hex0x(dv.device.padStart(4, '0')));
      case 'class':
        return ro(hex0x(dv.class.padStart(6, '0')));
      case 'subsystem_vendor':
        return ro(hex0x((dv.subsystemVendor ?? dv.vendor).padStart(4, '0')));
      case 'subsystem_device':
        return ro(hex0x((dv.subsystemDevice ?? '0000').padStart(4, '0')));
      case 'uevent':
        return ro(pciUevent(dv));
      case 'driver_override':
        return {
          t: 'file',
          get: () => `${dv.driverOverride ?? '(null)'}\n`,
          set: (v) => {
            // driver_set_override: an empty write changes nothing; the text up to the first newline is kept
            if (v.length === 0) return;
            if (v.length >= 4096) throw errnoError('EINVAL', 'override too long');
            const name = v.split('\n')[0]!;
            if (name === '') delete dv.driverOverride;
            else dv.driverOverride = name;
          },
        };
      case 'driver':
        return dv.driver && !dv.unbinding
          ? {
              t: 'link',
              target: `${this.upToSys(dv)}bus/pci/drivers/${dv.driver}`,
              to: `sys/bus/pci/drivers/${dv.driver}`,
            }
          : undefined;
      case 'iommu_group':
        return dv.iommuGroup !== undefined
          ? {
              t: 'link',
              target: `${this.upToSys(dv)}kernel/iommu_groups/${dv.iommuGroup}`,
              to: `sys/kernel/iommu_groups/${dv.iommuGroup}`,
            }
          : undefined;
      case 'boot_vga':
        return dv.class.startsWith('03') ? ro(dv.bootVga ? '1\n' : '0\n') : undefined;
      case 'physfn':
        return dv.physfn && !this.leavingPf(dv)
          ? { t: 'link', target: `../${dv.physfn}`, to: `sys/bus/pci/devices/${dv.physfn}` }
          : undefined;
      case 'net':
        return this.netdevOf(dv) ? { t: 'dir', entries: () => [this.netdevOf(dv)!] } : undefined;
      case 'mdev_supported_types':
        return this.mdevParent(dv.address)
          ? { t: 'link', target: '.', to: `sys/class/mdev_bus/${dv.address}/mdev_supported_types` }
          : undefined;
    }
    const vf = /^virtfn(\d+)$/.exec(attr);
    if (vf && dv.sriov) {
      const x = this.vfIndex.get(dv.address)?.find((v) => v.vfIndex === Number(vf[1]));
      return x && !this.leavingPf(x)
        ? { t: 'link', target: `../${x.address}`, to: `sys/bus/pci/devices/${x.address}` }
        : undefined;
    }
    const sr = dv.sriov;
    if (sr && attr.startsWith('sriov_')) {
      switch (attr) {
        case 'sriov_totalvfs':
          return ro(`${sr.totalVfs}\n`);
        case 'sriov_offset':
          return ro(`${sr.offset}\n`);
        case 'sriov_stride':
          return ro(`${sr.stride}\n`);
        case 'sriov_vf_device':
          // sriov_vf_device_show prints %x: no 0x, no leading zeros (10 for 0x0010), unlike `device`
          return ro(`${parseInt((sr.vfDevice ?? dv.device).replace(/^0x/i, ''), 16).toString(16)}\n`);
        case 'sriov_drivers_autoprobe':
          return ro('1\n');
        case 'sriov_numvfs':
          return {
            t: 'file',
            get: () => `${sr.numVfs}\n`,
            set: (v) => {
              // sriov_numvfs_store: kstrtou16, range, unchanged is a no-op, a driver must be bound, through 0
              const t = v.replace(/\n$/, '');
              if (!/^\d+$/.test(t) || Number(t) > 0xffff) throw errnoError('EINVAL', `invalid VF count '${t}'`);
              const n = Number(t);
              if (n > sr.totalVfs) throw errnoError('ERANGE', `${n} VFs requested, ${sr.totalVfs} supported`);
              if (n === sr.numVfs) return;
              if (!dv.driver) throw errnoError('ENOENT', 'no driver bound to device; cannot configure SR-IOV');
              // pci-stub has no sriov_configure; vfio-pci's refuses unless loaded with enable_sriov=1
              if (dv.driver === 'pci-stub' || dv.driver === 'vfio-pci')
                throw errnoError('ENOENT', `${dv.driver} does not configure SR-IOV`);
              this.setNumVfs(dv, n);
            },
          };
      }
    }
    return undefined;
  }

  private pciEntries(dv: SimDevice): string[] {
    const e = ['class', 'device', 'driver_override', 'subsystem_device', 'subsystem_vendor', 'uevent', 'vendor'];
    if (dv.driver && !dv.unbinding) e.push('driver');
    if (dv.iommuGroup !== undefined) e.push('iommu_group');
    if (dv.class.startsWith('03')) e.push('boot_vga');
    if (dv.physfn && !this.leavingPf(dv)) e.push('physfn');
    if (this.netdevOf(dv)) e.push('net');
    if (this.mdevParent(dv.address)) e.push('mdev_supported_types');
    if (hasVgpuDir(dv.physfn ? this.byAddr.get(dv.physfn) : undefined, dv)) e.push('nvidia');
    if (dv.sriov) {
      e.push(
        'sriov_drivers_autoprobe',
        'sriov_numvfs',
        'sriov_offset',
        'sriov_stride',
        'sriov_totalvfs',
        'sriov_vf_device',
      );
      for (const x of this.vfIndex.get(dv.address) ?? []) if (!this.leavingPf(x)) e.push(`virtfn${x.vfIndex}`);
    }
    return e;
  }

  /** VF/nvidia/ of NVIDIA's vendor-specific VFIO vGPU model (semantics in src/sim/nvidia-vgpu.ts). */
  private nvidiaVgpuNode(vf: SimDevice, rest: string[]): Node | undefined {
    const pf = vf.physfn ? this.byAddr.get(vf.physfn) : undefined;
    if (!pf || !hasVgpuDir(pf, vf)) return undefined;
    if (rest.length === 0) return { t: 'dir', entries: () => [...NVIDIA_VGPU_FILES] };
    const siblings = () => this.vfIndex.get(pf.address) ?? [];
    if (rest.length !== 1) return undefined;
    if (rest[0] === 'creatable_vgpu_types')
      return { t: 'file', get: () => formatCreatable(creatableTypes(pf, siblings(), vf)) };
    if (rest[0] === 'current_vgpu_type')
      return { t: 'file', get: () => `${vf.vgpuType ?? 0}\n`, set: (v) => writeCurrentType(pf, siblings(), vf, v) };
    return undefined;
  }

  private driverNode(s: string[]): Node | undefined {
    const drv = s[0]!;
    if (!this.loadedDrivers().has(drv)) return undefined;
    // a device whose unbind waits for qemu has left the driver's directory already
    const bound = () => this.state.devices.filter((d) => d.driver === drv && !d.unbinding).map((d) => d.address);
    if (s.length === 1)
      return { t: 'dir', entries: () => ['bind', 'module', 'new_id', 'remove_id', 'uevent', 'unbind', ...bound()] };
    if (s.length !== 2) return undefined;
    switch (s[1]) {
      case 'bind':
        return {
          t: 'file',
          set: (v) => {
            // bind_store: the device must match the driver (override or ids), else ENODEV; bound already: EBUSY
            const d = this.dev(v);
            if (!this.matches(d, drv)) throw errnoError('ENODEV', `${drv} does not match ${d.address}`);
            if (lockedByKernel(d)) throw new WriteBlocks('retry'); // device_driver_attach takes the device lock
            if (d.driver) throw errnoError('EBUSY', `${d.address} is bound to ${d.driver}`);
            if (!this.bind(d, drv))
              throw errnoError('EBUSY', `${drv}: probe of ${d.address} failed (PF with SR-IOV enabled)`);
          },
        };
      case 'unbind':
        return {
          t: 'file',
          set: (v) => {
            const d = this.dev(v);
            if (d.driver !== drv) throw errnoError('ENODEV', `${d.address} is not bound to ${drv}`);
            this.unbind(d);
          },
        };
      case 'new_id':
      case 'remove_id':
        return {
          t: 'file',
          set: (v) => {
            const f = v.trim().split(/\s+/);
            if (f.length < 2 || !f.slice(0, 2).every((x) => /^(0x)?[0-9a-f]{1,4}$/i.test(x)))
              throw errnoError('EINVAL', `expected 'vendor device' in hex, got '${v.trim()}'`);
            const id = f
              .slice(0, 2)
              .map((x) => x.replace(/^0x/i, '').toLowerCase().padStart(4, '0'))
              .join(' ');
            const ids = ((this.state.dynamicIds ??= {})[drv] ??= []);
            if (s[1] === 'new_id') {
              if (ids.includes(id)) throw errnoError('EEXIST', `${drv} already has id ${id}`);
              ids.push(id);
              ids.sort();
              // pci_add_dynid then driver_attach: every unbound matching device gets probed
              for (const d of this.state.devices) if (!d.driver && this.matches(d, drv)) this.bind(d, drv);
            } else {
              if (!ids.includes(id)) throw errnoError('ENODEV', `${drv} has no dynamic id ${id}`);
              ids.splice(ids.indexOf(id), 1);
              if (ids.length === 0) delete this.state.dynamicIds![drv];
              if (Object.keys(this.state.dynamicIds!).length === 0) delete this.state.dynamicIds;
            }
          },
        };
      case 'module':
        return { t: 'link', target: `../../../../module/${drv.replace(/-/g, '_')}` };
      case 'uevent':
        return { t: 'file', set: () => {} };
    }
    const d = this.byAddr.get(s[1]!);
    return d && d.driver === drv && !d.unbinding
      ? { t: 'link', target: `../../../../${this.pciPath(d)}`, to: `sys/bus/pci/devices/${d.address}` }
      : undefined;
  }

  private mdevTypesNode(parent: string, types: SimMdevType[], s: string[]): Node | undefined {
    if (s.length === 0) return { t: 'dir', entries: () => types.map((t) => t.id) };
    const ty = types.find((t) => t.id === s[0]);
    if (!ty) return undefined;
    const ofType = () =>
      (this.state.mdevs ?? []).filter((m) => m.parent === parent && m.type === ty.id && !m.removing).map((m) => m.uuid);
    if (s.length === 1)
      return {
        t: 'dir',
        entries: () => [
          'available_instances',
          'create',
          'device_api',
          'devices',
          'name',
          ...(ty.description !== undefined ? ['description'] : []),
        ],
      };
    const ro = (v: string | undefined): Node | undefined => (v === undefined ? undefined : { t: 'file', get: () => v });
    switch (s.length === 2 ? s[1] : s[1] === 'devices' ? 'devices/' : '') {
      case 'available_instances':
        return ro(`${ty.availableInstances}\n`);
      case 'name':
        return ro(`${ty.name ?? ty.id}\n`);
      case 'description':
        return ro(ty.description === undefined ? undefined : `${ty.description}\n`);
      case 'device_api':
        return ro(`${ty.deviceApi ?? 'vfio-pci'}\n`);
      case 'devices':
        return { t: 'dir', entries: ofType };
      case 'devices/': {
        const u = s[2]!;
        return s.length === 3 && ofType().includes(u)
          ? { t: 'link', target: `../../../${u}`, to: `sys/bus/mdev/devices/${u}` }
          : undefined;
      }
      case 'create':
        return {
          t: 'file',
          set: (v) => {
            const uuid = v.replace(/\n$/, '').toLowerCase();
            if (!UUID.test(uuid)) throw errnoError('EINVAL', `invalid UUID '${v.trim()}'`);
            const old = (this.state.mdevs ?? []).find((m) => m.uuid === uuid);
            // lab-measured: while the old one's remove waits for qemu, creating its UUID again gives EIO
            if (old?.removing) throw errnoError('EIO', `mdev ${uuid} is still being removed`);
            if (old) throw errnoError('EEXIST', `mdev ${uuid} exists`);
            if (ty.availableInstances <= 0) throw errnoError('ENOSPC', `no instances of ${ty.id} left on ${parent}`);
            const m: SimMdev = { uuid, parent, type: ty.id, iommuGroup: this.freeGroup() };
            (this.state.mdevs ??= []).push(m);
            if (!this.syncPool(parent)) ty.availableInstances--;
          },
        };
    }
    return undefined;
  }

  private mdevDevicePath(uuid: string): string {
    const m = (this.state.mdevs ?? []).find((x) => x.uuid === uuid)!;
    return `${this.mdevParentPath(m.parent)}/${uuid}`;
  }

  private mdevNode(s: string[]): Node | undefined {
    // an mdev whose remove waits for qemu has left the bus, and its attributes are gone (device_del)
    const m = (this.state.mdevs ?? []).find((x) => x.uuid === s[0] && !x.removing);
    if (!m) return undefined;
    if (s.length === 1)
      return { t: 'link', target: `../../../${this.mdevDevicePath(m.uuid)}`, to: `sys/bus/mdev/devices/${m.uuid}/.` };
    const group = this.mdevDriverGroup(m.parent);
    if (group && s[1] === group.name) {
      if (s.length === 2) return { t: 'dir', entries: () => Object.keys(group.files) };
      const f = s.length === 3 ? group.files[s[2]!] : undefined;
      return f ? { t: 'file', get: () => f(m.uuid) } : undefined;
    }
    if (s.length !== 2) return undefined;
    const up = '../'.repeat(this.mdevDevicePath(m.uuid).split('/').length);
    switch (s[1]) {
      case '.':
        // as 6.1 lists it: the mdev core's attributes, the driver core's (power, subsystem, uevent),
        // the vfio device (vfio-dev) and the vendor driver's own group (mtty: vendor)
        return {
          t: 'dir',
          entries: () => [
            'driver',
            'iommu_group',
            'mdev_type',
            'power',
            'remove',
            'subsystem',
            'uevent',
            ...(group ? [group.name] : []),
            'vfio-dev',
          ],
        };
      case 'subsystem':
        return { t: 'link', target: `${up}bus/mdev`, to: 'sys/bus/mdev' };
      case 'uevent':
        // dev_uevent: no device type, no bus uevent for mdev: just the bound driver
        return { t: 'file', get: () => `DRIVER=${this.mdevDriverOf(m.parent)}\n`, set: () => {} };
      case 'power':
      case 'vfio-dev':
        return { t: 'dir', entries: () => [] }; // their contents (runtime PM, vfioN) are not modelled
      case 'mdev_type':
        return {
          t: 'link',
          target: `../mdev_supported_types/${m.type}`,
          to: `sys/class/mdev_bus/${m.parent}/mdev_supported_types/${m.type}`,
        };
      case 'iommu_group':
        return {
          t: 'link',
          target: `${up}kernel/iommu_groups/${m.iommuGroup}`,
          to: `sys/kernel/iommu_groups/${m.iommuGroup}`,
        };
      case 'driver':
        // since 5.16 each vendor driver registers its own mdev driver (vfio_mdev is gone): mtty's is `mtty`
        return { t: 'link', target: `${up}bus/mdev/drivers/${this.mdevDriverOf(m.parent)}` };
      case 'remove':
        return {
          t: 'file',
          set: (v) => {
            // remove_store: kstrtoul; only a non-zero value removes
            const t = v.replace(/\n$/, '');
            if (!/^\d+$/.test(t)) throw errnoError('EINVAL', `invalid value '${t}'`);
            if (Number(t) === 0) return;
            // lab-measured: the remove of an mdev qemu holds waits until qemu closes it (its vfio
            // device unregisters only then), like an unbind from vfio-pci; the instance stays taken
            if (m.inUse) {
              m.removing = true;
              const uuid = m.uuid;
              throw new WriteBlocks('held', () => !(this.state.mdevs ?? []).some((x) => x.uuid === uuid));
            }
            this.dropMdev(m);
          },
        };
    }
    return undefined;
  }

  /** The mdev is gone: its instance goes back to its type (or its parent's pool). */
  private dropMdev(m: SimMdev): void {
    this.state.mdevs = (this.state.mdevs ?? []).filter((x) => x.uuid !== m.uuid);
    if (this.state.mdevs.length === 0) delete this.state.mdevs; // as before the first create: equal hosts stay byte-identical
    this.groupsCache = undefined;
    if (this.syncPool(m.parent)) return;
    const ty = this.mdevParent(m.parent)?.find((t) => t.id === m.type) ?? this.typeAnyState(m.parent, m.type);
    if (ty) ty.availableInstances++;
  }

  /** The attribute group the vendor's mdev driver adds to each of its devices (mtty: vendor/sample_mdev_dev). */
  private mdevDriverGroup(
    parent: string,
  ): { name: string; files: Record<string, (uuid: string) => string> } | undefined {
    return this.mdevDriverOf(parent) === 'mtty'
      ? { name: 'vendor', files: { sample_mdev_dev: (uuid) => `This is MDEV ${uuid}\n` } }
      : undefined;
  }

  /** The mdev driver a parent's vendor driver registers: a non-PCI parent is named after it (mtty), a PCI one's is its host driver. */
  private mdevDriverOf(parent: string): string {
    const d = this.byAddr.get(parent);
    return d ? (d.nativeDriver ?? d.driver ?? parent) : parent;
  }

  private typeAnyState(parent: string, type: string): SimMdevType | undefined {
    return this.byAddr.get(parent)?.mdevTypes?.find((t) => t.id === type);
  }

  /**
   * A parent whose types share one pool (mdevCapacity / capacity): recomputes every type's
   * available_instances as floor(free / cost), as mtty (ports), GVT-g (graphics memory) and NVIDIA
   * vGPU (frame buffer) do. False when the parent has no pool (each type keeps its own count).
   */
  private syncPool(parent: string): boolean {
    const d = this.byAddr.get(parent);
    const p = d ? undefined : this.state.mdevParents?.find((x) => x.name === parent);
    const capacity = d ? d.mdevCapacity : p?.capacity;
    const types = d ? d.mdevTypes : p?.types;
    if (capacity === undefined || !types) return false;
    const cost = (id: string) => types.find((t) => t.id === id)?.cost ?? 1;
    const used = (this.state.mdevs ?? []).filter((m) => m.parent === parent).reduce((n, m) => n + cost(m.type), 0);
    const free = Math.max(0, capacity - used);
    for (const t of types) t.availableInstances = Math.floor(free / (t.cost ?? 1));
    return true;
  }

  private netNode(s: string[]): Node | undefined {
    const present = () => this.state.devices.filter((d) => this.netdevOf(d));
    if (s.length === 0) return { t: 'dir', entries: () => present().map((d) => this.netdevOf(d)!) };
    const dv = present().find((d) => this.netdevOf(d) === s[0]);
    if (!dv) return undefined;
    if (s.length === 1)
      return {
        t: 'link',
        target: `../../${this.pciPath(dv)}/net/${s[0]}`,
        to: `sys/bus/pci/devices/${dv.address}/net/${s[0]}`,
      };
    return s.length === 2 ? this.netAttr(dv, s[1]!) : undefined;
  }

  private netAttr(dv: SimDevice, attr: string): Node | undefined {
    switch (attr) {
      case 'device':
        return { t: 'link', target: `../../../${dv.address}`, to: `sys/bus/pci/devices/${dv.address}` };
      case 'operstate':
        return { t: 'file', get: () => 'up\n' };
      case 'address': {
        const n = rid(dv.address);
        return {
          t: 'file',
          get: () =>
            `52:54:00:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${((n >> 3) & 0x1f).toString(16).padStart(2, '0')}:${(n & 7).toString(16).padStart(2, '0')}\n`,
        };
      }
    }
    return undefined;
  }

  private blockNode(s: string[]): Node | undefined {
    const r = this.rootDiskNames();
    const dv = r && this.byAddr.get(r.device);
    if (s.length === 0) return { t: 'dir', entries: () => (r && dv ? [r.disk, r.partition] : []) };
    if (!r || !dv) return undefined;
    const base = `../../${this.pciPath(dv)}/nvme/nvme0/${r.disk}`;
    if (s.length === 1 && s[0] === r.disk) return { t: 'link', target: base };
    if (s.length === 1 && s[0] === r.partition) return { t: 'link', target: `${base}/${r.partition}` };
    return undefined;
  }
}

const BAD_PATH = /(?:^|\/)\.\.?(?:\/|$)|\/\/|^\/|\/$|\0/;

function checkPath(path: string): string {
  if (typeof path !== 'string' || path === '' || BAD_PATH.test(path)) {
    throw errnoError('EINVAL', 'host path must be relative to the host root, without . or ..', JSON.stringify(path));
  }
  return path;
}

/** Reads a sim file; one clear error when it is missing or not a sim host. */
export function readSimFile(file: string): SimFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw errnoError((err as { code?: string }).code ?? 'EIO', `cannot read simulated host file`, file);
  }
  let doc: SimFile;
  try {
    doc = JSON.parse(text) as SimFile;
  } catch {
    throw errnoError('EINVAL', 'simulated host file is not valid JSON', file);
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.devices))
    throw errnoError('EINVAL', "simulated host file has no 'devices' list", file);
  return doc;
}
