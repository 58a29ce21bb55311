// The text of a PCI device's `uevent` attribute as the kernel prints it: uevent_show() prints the
// variables dev_uevent() collects, one `KEY=value` a line: DRIVER= (only while a driver is bound),
// then the bus's pci_uevent() (drivers/pci/pci-driver.c) with upper-case hex and no 0x:
// PCI_CLASS=%04X of the 24-bit class (so '30000' for 0x030000, 'C0330' for 0x0c0330),
// PCI_ID=%04X:%04X, PCI_SUBSYS_ID=%04X:%04X, PCI_SLOT_NAME=, MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X.
// No OF_* lines (x86 PCI devices have no device-tree node) and no DEVTYPE (pci_dev_type has no name).

export interface UeventDevice {
  address: string;
  vendor: string;
  device: string;
  class: string;
  /** Absent: the vendor, as the simulator's subsystem_vendor attribute says. */
  subsystemVendor?: string;
  /** Absent: 0000, as the simulator's subsystem_device attribute says. */
  subsystemDevice?: string;
  driver?: string;
}

const num = (h: string): number => parseInt(h.replace(/^0x/i, ''), 16);
const hx = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

export function pciUevent(d: UeventDevice): string {
  const v = num(d.vendor);
  const dev = num(d.device);
  const cls = num(d.class);
  const sv = num(d.subsystemVendor ?? d.vendor);
  const sd = num(d.subsystemDevice ?? '0000');
  const lines: string[] = [];
  if (d.driver) lines.push(`DRIVER=${d.driver}`);
  lines.push(
    `PCI_CLASS=${hx(cls, 4)}`,
    `PCI_ID=${hx(v, 4)}:${hx(dev, 4)}`,
    `PCI_SUBSYS_ID=${hx(sv, 4)}:${hx(sd, 4)}`,
    `PCI_SLOT_NAME=${d.address}`,
    `MODALIAS=pci:v${hx(v, 8)}d${hx(dev, 8)}sv${hx(sv, 8)}sd${hx(sd, 8)}bc${hx((cls >> 16) & 0xff, 2)}sc${hx((cls >> 8) & 0xff, 2)}i${hx(cls & 0xff, 2)}`,
  );
  return lines.join('\n') + '\n';
}
