// The text of a PCI device's `uevent` attribute as the kernel prints it: uevent_show() prints the
// variables dev_uevent() collects, one `KEY=value` a line: DRIVER= (only while a driver is bound),
// then the bus's pci_uevent() (drivers/pci/pci-driver.c) with upper-case hex and no 0x:
// PCI_CLASS=%04X of the 24-bit class (so '30000' for 0x030000, 'C0330' for 0x0c0330),
// PCI_ID=%04X:%04X, PCI_SUBSYS_ID=%04X:%04X, PCI_SLOT_NAME=, MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X.
// No OF_* lines (x86 PCI devices have no device-tree node) and no DEVTYPE (pci_dev_type has no name).
import type { SimDevice } from './state.js';

/** What uevent prints of a device; an absent subsystem vendor prints the vendor and an absent
 * subsystem device 0000, as the simulator's subsystem_* attributes say. */
export type UeventDevice = Pick<
  SimDevice,
  'address' | 'vendor' | 'device' | 'class' | 'subsystemVendor' | 'subsystemDevice' | 'driver'
>;

/** Upper-case hex without 0x, at least `width` digits, as %0<width>X prints it. */
function hx(h: string, width: number): string {
  const v = h.startsWith('0x') || h.startsWith('0X') ? h.slice(2) : h;
  const t = v.replace(/^0+(?=.)/, '').toUpperCase(); // %X prints no leading zeros beyond the width
  return t.length >= width ? t : t.padStart(width, '0');
}

export function pciUevent(d: UeventDevice): string {
  // the fixture schema keeps these as hex strings ('10de', '030000'): printed without a detour through numbers
  const v = hx(d.vendor, 4);
  const dev = hx(d.device, 4);
  const sv = hx(d.subsystemVendor ?? d.vendor, 4);
  const sd = hx(d.subsystemDevice ?? '0000', 4);
  const cls = hx(d.class, 6); // bc, sc, i: the three bytes of the 24-bit class
  const head = d.driver ? `DRIVER=${d.driver}\n` : '';
  return `${head}PCI_CLASS=${hx(d.class, 4)}\nPCI_ID=${v}:${dev}\nPCI_SUBSYS_ID=${sv}:${sd}\nPCI_SLOT_NAME=${d.address}\nMODALIAS=pci:v0000${v}d0000${dev}sv0000${sv}sd0000${sd}bc${cls.slice(0, 2)}sc${cls.slice(2, 4)}i${cls.slice(4, 6)}\n`;
}
