// What kind of PCI device a snapshot entry is, as the planner's rules (and xmlfix's host checks)
// ask it: one predicate per question, so every caller decides the same way.
import type { PciDeviceInfo } from '../host/types.js';

/** A PCI bridge or PCIe port (header type 1, class 0604): vfio-pci never binds it; it stays with the host. */
export function isBridge(d: PciDeviceInfo): boolean {
  return d.isBridge || d.class.startsWith('0604');
}

/** An SR-IOV virtual function (it has a PF). */
export function isVf(d: PciDeviceInfo): boolean {
  return d.physfn !== undefined;
}

/** An SR-IOV physical function (it can have VFs). */
export function isSriovPf(d: PciDeviceInfo): boolean {
  return d.sriov !== undefined;
}

/**
 * A driver that gives the device to VFIO: vfio-pci, or a vendor's variant driver built on
 * vfio-pci-core (mlx5_vfio_pci, hisi_acc_vfio_pci, pds_vfio_pci, ...), which an admin binds on purpose.
 */
export function isVfioDriver(driver: string | undefined): boolean {
  return driver === 'vfio-pci' || (driver !== undefined && /[_-]vfio[_-]pci$/.test(driver));
}
