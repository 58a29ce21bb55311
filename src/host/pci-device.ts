// One PCI device read from the attributes that never take the device lock (src/host/device-lock.ts):
// ids and class from their files, the driver from its link, the VF count from the virtfn links. The
// kernel serves them from memory, also while an unbind or SR-IOV disable waits for qemu, so a read of
// them never blocks; lspci reads the same way (config and the driver link).
import { layout } from './layout.js';
import { isErrno, type Sysfs } from './sysfs.js';
import type { MdevTypeInfo, PciDeviceInfo } from './types.js';

const VIRTFN = /^virtfn\d+$/;
const base = (link: string): string => link.slice(link.lastIndexOf('/') + 1);
const hex = (v: string): string => v.trim().replace(/^0x/i, '').toLowerCase();

/** `pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X` (drivers/pci/pci-sysfs.c modalias_show). */
const MODALIAS =
  /^pci:v0000([0-9A-F]{4})d0000([0-9A-F]{4})sv[0-9A-F]{8}sd[0-9A-F]{8}bc([0-9A-F]{2})sc([0-9A-F]{2})i([0-9A-F]{2})\s*$/;

/** Vendor, device and class from a modalias text; undefined when it is not in the kernel's form. */
export function idsFromModalias(text: string): { vendor: string; device: string; class: string } | undefined {
  const m = MODALIAS.exec(text);
  if (!m) return undefined;
  return { vendor: m[1]!.toLowerCase(), device: m[2]!.toLowerCase(), class: `${m[3]}${m[4]}${m[5]}`.toLowerCase() };
}

/** The value, or undefined when the entry is not there (ENOENT). */
async function optional<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** One PCI device from lock-free attributes, or undefined when its directory does not exist. */
export async function readPciDevice(
  s: Sysfs,
  a: string,
  mdevTypes: (parent: string) => Promise<MdevTypeInfo[] | undefined>,
): Promise<PciDeviceInfo | undefined> {
  const entries = await optional(s.list(layout.pciDevice(a)));
  if (!entries) return undefined;
  const has = (e: string): boolean => entries.includes(e); // a few dozen names: a scan beats building a set
  // one read after another: both doors answer these at once (NodeSysfs synchronously inside)
  const rd = (attr: string) => s.read(layout.pciAttr(a, attr));
  // modalias: the three ids in one read (every PCI device has it), ~110 ms less than three files on the
  // 10,000-device tree (docs/performance.md); else their own files
  const ids = (has('modalias') && idsFromModalias(await rd('modalias'))) || {
    vendor: hex(await rd('vendor')),
    device: hex(await rd('device')),
    class: hex(await rd('class')).padStart(6, '0'),
  };
  const info: PciDeviceInfo = {
    address: a,
    vendor: ids.vendor,
    device: ids.device,
    class: ids.class,
    netdevs: [],
    isBridge: ids.class.startsWith('0604') || ids.class.startsWith('0609'),
  };
  // the link, not uevent's DRIVER= (uevent takes the device lock); gone while an unbind waits
  const driver = has('driver') ? await optional(s.readlink(layout.pciAttr(a, 'driver'))) : undefined;
  if (driver !== undefined) info.driver = base(driver);
  if (has('iommu_group')) info.iommuGroup = Number(base(await s.readlink(layout.pciAttr(a, 'iommu_group'))));
  if (has('boot_vga')) info.bootVga = (await rd('boot_vga')).trim() === '1';
  if (has('net')) info.netdevs = await s.list(layout.pciAttr(a, 'net'));
  if (has('physfn')) await readVfPosition(s, a, info);
  if (has('sriov_totalvfs')) await readSriov(s, a, entries, info);
  if (has('mdev_supported_types')) {
    const t = await mdevTypes(a);
    if (t) info.mdevTypes = t;
  }
  return info;
}

async function readVfPosition(s: Sysfs, a: string, info: PciDeviceInfo): Promise<void> {
  const pf = base(await s.readlink(layout.pciAttr(a, 'physfn')));
  info.physfn = pf;
  // K from the PF's offset/stride (2 reads) instead of scanning its virtfn links
  const off = await s.read(layout.pciAttr(pf, 'sriov_offset'));
  const stride = await s.read(layout.pciAttr(pf, 'sriov_stride'));
  const st = Number(stride.trim()) || 1;
  info.vfIndex = (rid(a) - rid(pf) - Number(off.trim())) / st;
}

/** SR-IOV of a PF; numVfs counts its virtfnK links (one per enabled VF), which take no lock. */
async function readSriov(s: Sysfs, a: string, entries: string[], info: PciDeviceInfo): Promise<void> {
  const rd = (attr: string) => s.read(layout.pciAttr(a, attr)).then((v) => v.trim());
  const links = entries.filter((e) => VIRTFN.test(e)).sort((x, y) => Number(x.slice(6)) - Number(y.slice(6)));
  const vfs: string[] = [];
  for (const l of links) vfs.push(base(await s.readlink(layout.pciAttr(a, l))));
  info.sriov = {
    totalVfs: Number(await rd('sriov_totalvfs')),
    numVfs: vfs.length,
    offset: Number(await rd('sriov_offset')),
    stride: Number(await rd('sriov_stride')),
    vfs,
  };
  if (entries.includes('sriov_vf_device')) info.sriov.vfDevice = hex(await rd('sriov_vf_device')).padStart(4, '0');
}

function rid(a: string): number {
  const [, bus, sf] = a.split(':') as [string, string, string];
  const [slot, fn] = sf.split('.') as [string, string];
  return (parseInt(bus, 16) << 8) | (parseInt(slot, 16) << 3) | parseInt(fn, 16);
}
