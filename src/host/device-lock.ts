// Sysfs attributes whose show function takes the device lock (device_lock, an uninterruptible
// mutex) in Linux 6.1: drivers/pci/pci-sysfs.c driver_override_show, drivers/pci/iov.c
// sriov_numvfs_show and sriov_vf_total_msix_show, drivers/base/core.c uevent_show (every device's
// `uevent`). While the kernel holds that lock, e.g. during an unbind from vfio-pci that waits for
// qemu to close the device, or an SR-IOV disable waiting for a VF qemu holds (then the PF's and that
// VF's locks; test/lab/FINDINGS.md), a read of these blocks until the lock is free.
// Every other attribute we read is served from kernel memory without it.

export const DEVICE_LOCK_ATTRIBUTES: ReadonlySet<string> = new Set([
  'driver_override',
  'sriov_numvfs',
  'sriov_vf_total_msix',
  'uevent',
]);

/** Whether reading this root-relative sysfs path can block on the device lock. */
export function readTakesDeviceLock(path: string): boolean {
  return DEVICE_LOCK_ATTRIBUTES.has(path.slice(path.lastIndexOf('/') + 1));
}
