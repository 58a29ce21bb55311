// A PCI device's identity from its `uevent` attribute: one read instead of five (vendor, device,
// class, subsystem_vendor, subsystem_device) plus the driver link. The kernel prints
// `DRIVER=name` (only while bound), `PCI_CLASS=%04X` (24-bit class, upper-case, no 0x, not padded
// to 6), `PCI_ID=VVVV:DDDD`, `PCI_SUBSYS_ID=VVVV:DDDD`, `PCI_SLOT_NAME=`, `MODALIAS=`.

export interface PciIds {
  vendor: string; // lower-case, 4 digits: '10de'
  device: string;
  class: string; // lower-case, 6 digits: '030000'
  subsystemVendor?: string;
  subsystemDevice?: string;
  driver?: string;
}

const ID = /^([0-9A-Fa-f]{1,4}):([0-9A-Fa-f]{1,4})$/;
const CLASS = /^[0-9A-Fa-f]{1,6}$/;

/** The ids in a uevent text, or undefined when PCI_ID or PCI_CLASS is missing or malformed (then read the attributes). */
export function idsFromUevent(text: string): PciIds | undefined {
  let id: RegExpExecArray | null = null;
  let cls: string | undefined;
  let subsys: RegExpExecArray | null = null;
  let driver: string | undefined;
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const v = line.slice(eq + 1);
    switch (line.slice(0, eq)) {
      case 'PCI_ID':
        id = ID.exec(v);
        break;
      case 'PCI_CLASS':
        cls = CLASS.test(v) ? v : undefined;
        break;
      case 'PCI_SUBSYS_ID':
        subsys = ID.exec(v);
        break;
      case 'DRIVER':
        // a name, as the basename of the driver link would be: never a path or a '.'/'..' component
        driver = v !== '' && v !== '.' && v !== '..' && !v.includes('/') ? v : undefined;
        break;
    }
  }
  if (!id || cls === undefined) return undefined;
  const h4 = (x: string) => x.toLowerCase().padStart(4, '0');
  const ids: PciIds = { vendor: h4(id[1]!), device: h4(id[2]!), class: cls.toLowerCase().padStart(6, '0') };
  if (subsys) {
    ids.subsystemVendor = h4(subsys[1]!);
    ids.subsystemDevice = h4(subsys[2]!);
  }
  if (driver !== undefined) ids.driver = driver;
  return ids;
}
