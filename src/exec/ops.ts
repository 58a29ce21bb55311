// Carries out one plan operation on the host. Each reads the host first and writes only when it
// differs from the wanted state, so replaying an operation (recover after a crash, a second recover)
// is harmless. Every host access is bounded by a timeout: a sysfs write can block in the kernel and
// libvirt puts no timeout on hooks, so an unbounded wait would hang the domain.
import { layout } from '../host/layout.js';
import { errnoError, isErrno, type Sysfs } from '../host/sysfs.js';
import type { NetLink, VfSettings } from '../host/netlink.js';
import type { Op } from '../plan/types.js';
import { applyVgpuType } from './vgpu-op.js';
import { applyPciAttr } from './attr-op.js';
import { applyPlatformBind, applyUnit, applyVtcon } from './console-ops.js';
import type { UnitControl } from '../host/units.js';
import { bounded } from '../host/bounded.js';

export interface HostAccess {
  sysfs: Sysfs;
  netlink: NetLink;
  /** Upper bound of each host access, ms. */
  timeoutMs: number;
  /** Loads a kernel module (real host only; absent for a simulated or re-rooted host). */
  loadModule?(name: string): Promise<void>;
  /** systemd, for the console handover's display-manager units (absent: no unit op can run). */
  units?: UnitControl;
  /** Whether another running domain's journal still holds this PF (for sriov-release). */
  pfHeldByOthers(pf: string): boolean;
}

const read = (h: HostAccess, path: string): Promise<string> =>
  bounded(`reading ${path}`, h.timeoutMs, h.sysfs.read(path));
const write = (h: HostAccess, path: string, data: string): Promise<void> =>
  bounded(`writing '${data.trim()}' to ${path}`, h.timeoutMs, h.sysfs.write(path, data));

/** The driver D is bound to, or undefined. */
export async function currentDriver(h: HostAccess, device: string): Promise<string | undefined> {
  try {
    const target = await bounded(
      `reading ${device}/driver`,
      h.timeoutMs,
      h.sysfs.readlink(layout.pciAttr(device, 'driver')),
    );
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
      if (
        !h.loadModule ||
        (await bounded(`checking driver ${o.driver}`, h.timeoutMs, h.sysfs.exists(layout.pciDriver(o.driver))))
      )
        return false;
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
      if (drv !== o.driver)
        throw new Error(
          `bound to ${drv ?? 'no driver'} after drivers_probe, expected ${o.driver}${o.driver === 'vfio-pci' ? ' (is the vfio-pci module loaded?)' : ''}`,
        );
      return false;
    }
    case 'sriov-numvfs':
      return setNumVfs(h, o.pf, o.count);
    case 'sriov-release':
      if (h.pfHeldByOthers(o.pf)) return false; // the last domain that needs the VFs restores the count
      return setNumVfs(h, o.pf, o.count);
    case 'mdev-create': {
      if (await bounded(`checking mdev ${o.uuid}`, h.timeoutMs, h.sysfs.exists(layout.mdevDevice(o.uuid))))
        return false;
      try {
        await write(h, `${layout.mdevType(o.parent, o.type)}/create`, o.uuid);
      } catch (err) {
        // lab-measured (6.1): while an earlier remove of this UUID waits for a VM to close it, the
        // mdev is already off the bus (so the check above passed) and creating it again gives EIO
        if (isErrno(err, 'EIO'))
          throw errnoError(
            'EIO',
            `${err instanceof Error ? err.message.replace(/^EIO: /, '') : String(err)} (an earlier remove of this mdev may still be waiting for a VM to close it)`,
          );
        throw err;
      }
      return true;
    }
    case 'mdev-remove': {
      if (!(await bounded(`checking mdev ${o.uuid}`, h.timeoutMs, h.sysfs.exists(layout.mdevDevice(o.uuid)))))
        return false;
      await write(h, `${layout.mdevDevice(o.uuid)}/remove`, '1');
      return true;
    }
    case 'vf-set': {
      if (checkFirst && !(await vfDiffers(h, o.pfNetdev, o.index, o.settings))) return false;
      await bounded(
        `setting VF ${o.index} of ${o.pfNetdev}`,
        h.timeoutMs,
        h.netlink.setVf(o.pfNetdev, o.index, o.settings),
      );
      return true;
    }
    case 'vgpu-type':
      return applyVgpuType(h, o);
    case 'pci-attr':
      return applyPciAttr(h, o);
    case 'unit':
      return applyUnit(h, o);
    case 'vtcon-bind':
      return applyVtcon(h, o);
    case 'platform-bind':
      return applyPlatformBind(h, o);
  }
}

/**
 * Whether the PCI device a failed undo step was about no longer exists: a VF that went with its PF's
 * count (e.g. an SR-IOV disable that waited for qemu to let go of it finished after the release that
 * started it timed out) has nothing left to restore. Asked only after a failure: no extra read otherwise.
 */
export async function deviceGone(h: HostAccess, o: Op): Promise<boolean> {
  // a platform device (firmware framebuffer) is no PCI device: its failures always count
  const device =
    o.op === 'platform-bind' ? undefined : 'device' in o ? o.device : o.op === 'vgpu-type' ? o.vf : undefined;
  if (device === undefined) return false;
  return !(await bounded(`checking ${device}`, h.timeoutMs, h.sysfs.exists(layout.pciDevice(device))));
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
    case 'pci-attr':
      return o.attr;
    case 'unit':
      return `systemctl ${o.active ? 'start' : 'stop'} ${o.unit}`;
    case 'vtcon-bind':
      return `${o.vtcon} bind`;
    case 'platform-bind':
      return `${o.driver} ${o.bound ? 'bind' : 'unbind'}`;
    case 'vgpu-type':
      return o.type === 0 ? 'vGPU destroy (current_vgpu_type 0)' : `vGPU create (current_vgpu_type ${o.type})`;
  }
}
