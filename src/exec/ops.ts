// Carries out one plan operation on the host. Each reads the host first and writes only when it
// differs from the wanted state, so replaying an operation (recover after a crash, a second recover)
// is harmless. Every host access is bounded by a timeout: a sysfs write can block in the kernel and
// libvirt puts no timeout on hooks, so an unbounded wait would hang the domain.
import { layout } from '../host/layout.js';
import { isErrno, type Sysfs } from '../host/sysfs.js';
import type { NetLink, VfSettings } from '../host/netlink.js';
import type { Op } from '../plan/types.js';
import { applyVgpuType } from './vgpu-op.js';

export interface HostAccess {
  sysfs: Sysfs;
  netlink: NetLink;
  /** Upper bound of each host access, ms. */
  timeoutMs: number;
  /** Loads a kernel module (real host only; absent for a simulated or re-rooted host). */
  loadModule?(name: string): Promise<void>;
  /** Whether another running domain's journal still holds this PF (for sriov-release). */
  pfHeldByOthers(pf: string): boolean;
}

export class OpTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

/**
 * Upper bound on one host access: settles as `p` does, or rejects with OpTimeout after `ms`.
 * A plan makes dozens of accesses, almost all answered at once, so they share ONE timer (armed
 * for the earliest deadline, holding the process open only while an access is pending) instead
 * of creating and cancelling a timer each. The timer is armed only for an access still pending
 * once the promise jobs that were queued have all run (a nextTick queued from them runs only
 * then, before the event loop goes on): an access the host answered at once never needs it, and
 * a process's first timer costs ~1.2M instructions (node compiling its timer code). Its deadline
 * still counts from the call, and the timer is armed before the event loop can wait on anything.
 */
export function bounded<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const w: Watch = { deadline: Date.now() + ms, fail: () => reject(new OpTimeout(`timed out after ${ms} ms: ${what}`)) };
    watch(w);
    p.then(
      (v) => {
        unwatch(w);
        resolve(v);
      },
      (err: unknown) => {
        unwatch(w);
        reject(err);
      },
    );
  });
}

interface Watch {
  deadline: number;
  fail(): void;
}
const pending = new Set<Watch>();
let watchdog: NodeJS.Timeout | undefined;
let firesAt = Infinity;
let checkQueued = false;

function arm(deadline: number, now: number): void {
  firesAt = deadline;
  watchdog = setTimeout(expire, Math.max(1, deadline - now));
}

function watch(w: Watch): void {
  pending.add(w);
  if (!checkQueued) {
    checkQueued = true;
    process.nextTick(guardPending);
  }
}

function unwatch(w: Watch): void {
  pending.delete(w);
  // the timer stays for the next access, but no longer keeps the process alive
  if (pending.size === 0) watchdog?.unref();
}

/** The accesses still pending now wait on the host: the timer covers the earliest deadline and holds the process open. */
function guardPending(): void {
  checkQueued = false;
  if (pending.size === 0) return;
  let earliest = Infinity;
  for (const w of pending) earliest = Math.min(earliest, w.deadline);
  if (!watchdog) arm(earliest, Date.now());
  else if (earliest < firesAt) {
    clearTimeout(watchdog);
    arm(earliest, Date.now());
  } else watchdog.ref();
}

/** Fails every access past its deadline; re-arms for the earliest one left (a timer may fire a little early). */
function expire(): void {
  watchdog = undefined;
  firesAt = Infinity;
  const now = Date.now();
  let next = Infinity;
  for (const w of [...pending]) {
    if (w.deadline <= now) {
      pending.delete(w);
      w.fail();
    } else next = Math.min(next, w.deadline);
  }
  if (next !== Infinity) arm(next, now);
}

const read = (h: HostAccess, path: string): Promise<string> => bounded(`reading ${path}`, h.timeoutMs, h.sysfs.read(path));
const write = (h: HostAccess, path: string, data: string): Promise<void> => bounded(`writing '${data.trim()}' to ${path}`, h.timeoutMs, h.sysfs.write(path, data));

/** The driver D is bound to, or undefined. */
export async function currentDriver(h: HostAccess, device: string): Promise<string | undefined> {
  try {
    const target = await bounded(`reading ${device}/driver`, h.timeoutMs, h.sysfs.readlink(layout.pciAttr(device, 'driver')));
    return target.split('/').pop() || undefined;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

async function numVfs(h: HostAccess, pf: string): Promise<number> {
  return parseInt((await read(h, layout.pciAttr(pf, 'sriov_numvfs'))).trim(), 10);
}

async function setNumVfs(h: HostAccess, pf: string, count: number): Promise<boolean> {
  const cur = await numVfs(h, pf);
  if (cur === count) return false;
  // the kernel changes a non-zero count only through 0
  if (cur > 0 && count > 0) await write(h, layout.pciAttr(pf, 'sriov_numvfs'), '0');
  await write(h, layout.pciAttr(pf, 'sriov_numvfs'), String(count));
  return true;
}

async function vfDiffers(h: HostAccess, pfNetdev: string, index: number, settings: VfSettings): Promise<boolean> {
  const vfs = await bounded(`reading VFs of ${pfNetdev}`, h.timeoutMs, h.netlink.listVfs(pfNetdev));
  const cur = vfs.find((v) => v.index === index);
  // a VF that no longer exists (its PF's count went back) took its settings with it: nothing to restore
  if (!cur) return false;
  return Object.entries(settings).some(([k, v]) => (cur as unknown as Record<string, unknown>)[k] !== v);
}

/**
 * Performs one operation; returns whether it changed anything. `checkFirst` (undo) also compares VF
 * settings before writing them, so a second recover writes nothing at all.
 */
export async function applyOp(h: HostAccess, o: Op, checkFirst = false): Promise<boolean> {
  switch (o.op) {
    case 'load-driver': {
      if (!h.loadModule || (await bounded(`checking driver ${o.driver}`, h.timeoutMs, h.sysfs.exists(layout.pciDriver(o.driver))))) return false;
      await bounded(`loading module ${o.driver}`, h.timeoutMs, h.loadModule(o.driver));
      return true;
    }
    case 'driver-override': {
      const cur = (await read(h, layout.pciAttr(o.device, 'driver_override'))).trim();
      const now = cur === '' || cur === '(null)' ? null : cur;
      if (now === o.value) return false;
      // writing a bare newline clears the override
      await write(h, layout.pciAttr(o.device, 'driver_override'), o.value ?? '\n');
      return true;
    }
    case 'unbind': {
      const drv = await currentDriver(h, o.device);
      if (!drv || drv === o.keep) return false;
      await write(h, `${layout.pciDriver(drv)}/unbind`, o.device);
      return true;
    }
    case 'probe': {
      if (o.unless && (await currentDriver(h, o.device)) === o.unless) return false;
      await write(h, layout.driversProbe, o.device);
      return true;
    }
    case 'expect-driver': {
      const drv = await currentDriver(h, o.device);
      if (drv !== o.driver) throw new Error(`bound to ${drv ?? 'no driver'} after drivers_probe, expected ${o.driver}${o.driver === 'vfio-pci' ? ' (is the vfio-pci module loaded?)' : ''}`);
      return false;
    }
    case 'sriov-numvfs':
      return setNumVfs(h, o.pf, o.count);
    case 'sriov-release':
      if (h.pfHeldByOthers(o.pf)) return false; // the last domain that needs the VFs restores the count
      return setNumVfs(h, o.pf, o.count);
    case 'mdev-create': {
      if (await bounded(`checking mdev ${o.uuid}`, h.timeoutMs, h.sysfs.exists(layout.mdevDevice(o.uuid)))) return false;
      await write(h, `${layout.mdevType(o.parent, o.type)}/create`, o.uuid);
      return true;
    }
    case 'mdev-remove': {
      if (!(await bounded(`checking mdev ${o.uuid}`, h.timeoutMs, h.sysfs.exists(layout.mdevDevice(o.uuid))))) return false;
      await write(h, `${layout.mdevDevice(o.uuid)}/remove`, '1');
      return true;
    }
    case 'vf-set': {
      if (checkFirst && !(await vfDiffers(h, o.pfNetdev, o.index, o.settings))) return false;
      await bounded(`setting VF ${o.index} of ${o.pfNetdev}`, h.timeoutMs, h.netlink.setVf(o.pfNetdev, o.index, o.settings));
      return true;
    }
    case 'vgpu-type':
      return applyVgpuType(h, o);
  }
}

/** A short name of the step for error lines: 'driver_override', 'unbind', 'sriov_numvfs', … */
export function stepName(o: Op): string {
  switch (o.op) {
    case 'load-driver':
      return 'modprobe';
    case 'driver-override':
      return 'driver_override';
    case 'probe':
      return 'drivers_probe';
    case 'expect-driver':
      return 'driver check';
    case 'sriov-numvfs':
    case 'sriov-release':
      return 'sriov_numvfs';
    case 'mdev-create':
      return 'mdev create';
    case 'mdev-remove':
      return 'mdev remove';
    case 'vf-set':
      return `ip link set vf ${o.index}`;
    case 'unbind':
      return 'unbind';
    case 'vgpu-type':
      return o.type === 0 ? 'vGPU destroy (current_vgpu_type 0)' : `vGPU create (current_vgpu_type ${o.type})`;
  }
}
