// SimKernel: a host in memory (optionally backed by a JSON file shared by processes) that answers
// the Sysfs and NetLink interfaces with the kernel's semantics, as measured on a real kernel
// (test/lab/FINDINGS.md) and read in drivers/base/bus.c, drivers/pci/{pci-driver,pci-sysfs,iov}.c and
// drivers/vfio/mdev. Where it deliberately differs from the kernel, the comment says so.
// This file holds the state's life (load, save, another process's changes), the device locks and
// the fault gate every write passes; the tree is in tree.ts, the rules in pci.ts, sriov.ts, mdev.ts.
import { statSync } from 'node:fs';
import { readTakesDeviceLock } from '../host/device-lock.js';
import type { NetLink, VfInfo, VfSettings } from '../host/netlink.js';
import { errnoError, type Sysfs } from '../host/sysfs.js';
import { decide, killAfter, loadFaults, type SimFaults } from './faults.js';
import { dropMdev, syncPool } from './mdev.js';
import { lockedByKernel, SimModel, WriteBlocks } from './model.js';
import { detach } from './pci.js';
import { readSimFile, saveSimFile } from './persist.js';
import { continueDisable, listVfLinks, setNumVfs, setVfLink } from './sriov.js';
import { canonicalState, normalizeOrder, type SimDevice, type SimFile, type SimMdev } from './state.js';
import { checkPath, follow, lookupLink, resolveLinks, tryFollow } from './tree.js';

export interface SimKernelOptions {
  /** Where the state is persisted (each write saves it). */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

export class SimKernel implements Sysfs, NetLink {
  /** The host the rules act on; the methods below see another process's changes first. */
  private readonly m: SimModel;
  readonly file?: string;
  /** Reads (read, list, readlink, exists) served by this instance: the cost of a plan. */
  reads = 0;
  /** Writes attempted by this instance (failed ones included): fault numbers count these. */
  writesAttempted = 0;
  private faults: SimFaults[];
  /** The file's identity when this instance last read or wrote it (inode:size:mtime). */
  private stamp?: string;
  /** Reads and writes of this instance waiting for a device lock, resumed when the device is released. */
  private lockWaiters: (() => void)[] = [];

  constructor(state: SimFile, opts: SimKernelOptions = {}) {
    this.m = new SimModel(state);
    this.file = opts.file;
    this.faults = loadFaults(state.faults, opts.env ?? {});
    if (this.file) this.stamp = this.fileStamp();
  }

  /** The host in FILE (a sim file written by `passthru sim init` or save()). */
  static load(file: string, env: NodeJS.ProcessEnv = process.env): SimKernel {
    return new SimKernel(readSimFile(file), { file, env });
  }

  private fileStamp(): string | undefined {
    try {
      const st = statSync(this.file!);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return undefined;
    }
  }

  /**
   * Another process may have replaced the file since we read it: pick its version up. Every save
   * replaces the file (temp + rename), so a new version is a new inode.
   */
  private refresh(): void {
    if (!this.file) return;
    const now = this.fileStamp();
    if (now === this.stamp) return;
    this.m.setState(readSimFile(this.file));
    this.stamp = now;
  }

  get state(): SimFile {
    return this.m.state;
  }

  /** Writes the file atomically (temp + rename), so a reader never sees half a host. */
  save(): void {
    if (!this.file) return;
    saveSimFile(this.file, this.state);
    this.stamp = this.fileStamp();
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

  /** Reads the current state (after picking up another process's save). */
  peek<T>(fn: (s: SimFile) => T): T {
    this.refresh();
    return fn(this.state);
  }

  /** Changes the state outside the Sysfs door (systemd units) and persists it. */
  change(fn: (s: SimFile) => void): void {
    this.refresh();
    fn(this.state);
    this.save();
  }

  device(address: string): SimDevice | undefined {
    this.refresh();
    return this.m.device(address);
  }

  /** Where a PCI device lives under sys/devices. */
  pciPath(d: SimDevice): string {
    return this.m.pciPath(d);
  }

  /**
   * Marks a device (PCI address) or mdev (UUID) as held open by qemu, or not. Releasing a device
   * whose unbind was waiting for qemu completes that unbind, as qemu's exit does.
   */
  setInUse(id: string, inUse: boolean): void {
    this.refresh();
    const d = this.m.device(id);
    const target = d ?? this.state.mdevs?.find((m) => m.uuid === id);
    if (!target) throw new Error(`no device or mdev '${id}' in the simulated host`);
    if (inUse) target.inUse = true;
    else delete target.inUse;
    const pf = d?.physfn ? this.m.device(d.physfn) : undefined;
    if (!inUse && d && pf?.sriov?.disablingAt !== undefined && pf.sriov.disablingAt === d.vfIndex) {
      // the SR-IOV disable goes on past this VF (and may stop at the next one qemu holds)
      continueDisable(this.m, pf);
    } else if (!inUse && d?.unbinding) {
      delete d.unbinding;
      detach(this.m, d);
    }
    const m = d ? undefined : (target as SimMdev);
    if (!inUse && m?.removing) dropMdev(this.m, m);
    this.save();
    const waiting = this.lockWaiters;
    this.lockWaiters = [];
    for (const resume of waiting) resume();
  }

  /** Completes a fixture into a host: native drivers, the VFs its PFs already have, mdev groups. */
  initialize(): void {
    for (const d of this.state.devices)
      if (d.nativeDriver === undefined && d.driver !== undefined) d.nativeDriver = d.driver;
    for (const pf of [...this.state.devices]) {
      const s = pf.sriov;
      if (!s || s.numVfs === 0 || this.state.devices.some((d) => d.physfn === pf.address)) continue;
      const want = s.numVfs;
      s.numVfs = 0;
      setNumVfs(this.m, pf, want);
    }
    for (const m of this.state.mdevs ?? []) m.iommuGroup ??= this.m.freeGroup();
    if (this.state.mdevs?.length === 0) delete this.state.mdevs; // as after the last remove: equal hosts stay byte-identical
    for (const d of this.state.devices) if (d.mdevTypes) syncPool(this.m, d.address);
    for (const p of this.state.mdevParents ?? []) syncPool(this.m, p.name);
    normalizeOrder(this.state);
    this.m.reindex();
  }

  // ---- Sysfs ----

  async read(path: string): Promise<string> {
    this.refresh();
    this.reads++;
    if (this.lockHeld(path)) return this.waitForLock(() => this.read(path));
    const n = follow(this.m, path);
    if (n.t === 'dir') throw errnoError('EISDIR', 'is a directory', path);
    if (n.t !== 'file' || !n.get) throw errnoError('EACCES', 'permission denied', path);
    return n.get();
  }

  async list(path: string): Promise<string[]> {
    this.refresh();
    this.reads++;
    const n = follow(this.m, path);
    if (n.t !== 'dir') throw errnoError('ENOTDIR', 'not a directory', path);
    return [...new Set(n.entries())].sort();
  }

  async readlink(path: string): Promise<string> {
    this.refresh();
    this.reads++;
    const n = lookupLink(this.m, path);
    if (n.t !== 'link') throw errnoError('EINVAL', 'not a symbolic link', path);
    return n.target;
  }

  async exists(path: string): Promise<boolean> {
    this.refresh();
    this.reads++;
    try {
      return tryFollow(this.m, path) !== undefined;
    } catch {
      return false;
    }
  }

  async write(path: string, data: string): Promise<void> {
    this.refresh();
    if (this.lockHeld(path)) return this.waitForLock(() => this.write(path, data));
    await this.faultGate(path, data, () => {
      const n = follow(this.m, path);
      if (n.t === 'dir') throw errnoError('EISDIR', 'is a directory', path);
      if (n.t !== 'file' || !n.set) throw errnoError('EACCES', 'permission denied', path);
      n.set(data);
    });
  }

  // ---- NetLink ----

  async listVfs(pfNetdev: string): Promise<VfInfo[]> {
    this.refresh();
    this.reads++;
    return listVfLinks(this.m, pfNetdev);
  }

  async setVf(pfNetdev: string, index: number, settings: VfSettings): Promise<void> {
    this.refresh();
    const parts = Object.entries(settings)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${String(v)}`);
    await this.faultGate(`ip link set dev ${pfNetdev} vf ${index}`, parts.join(' '), () =>
      setVfLink(this.m, pfNetdev, index, settings),
    );
  }

  // ---- writes: faults, log, persistence ----

  private async faultGate(path: string, data: string, apply: () => void): Promise<void> {
    const n = ++this.writesAttempted;
    const d = decide(this.faults, n, path, data);
    if (d.kind === 'hang') return new Promise<void>(() => {}); // a stuck kernel write: never settles
    if (d.kind === 'fail') throw d.error;
    // a copy to go back to, so a refused write leaves the host exactly as it was
    const before = JSON.stringify(this.state);
    try {
      apply();
    } catch (err) {
      if (err instanceof WriteBlocks && err.then === 'held') {
        // the write stays in the kernel; what it did so far (a device now unbinding) every reader sees
        this.m.reindex();
        this.save();
        return this.waitUntil(err.done);
      }
      this.m.setState(JSON.parse(before) as SimFile);
      if (err instanceof WriteBlocks) return this.waitForLock(() => this.write(path, data));
      throw err;
    }
    (this.state.writeLog ??= []).push({ path, data });
    this.state.counters = { writes: (this.state.counters?.writes ?? 0) + 1 };
    this.m.reindex();
    this.save();
    if (killAfter(this.faults, n)) process.kill(process.pid, 'SIGKILL');
  }

  /**
   * Whether a read or write of `path` waits for a device lock an unbind holds: the attributes whose
   * show/store take device_lock (src/host/device-lock.ts) of a device whose unbind waits for qemu.
   */
  private lockHeld(path: string): boolean {
    if (!readTakesDeviceLock(path)) return false;
    const m = /^sys\/bus\/pci\/devices\/([^/]+)\/[^/]+$/.exec(resolveLinks(this.m, checkPath(path)));
    const d = m ? this.m.device(m[1]!) : undefined;
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
}
