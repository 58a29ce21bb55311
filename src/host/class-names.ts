// PCI class codes -> the names lspci prints (pci.ids), for `passthru list`. Subclass first, then the
// base class, so an unknown subclass still gets a sensible name.
const SUBCLASS: Record<string, string> = {
  '0100': 'SCSI storage controller',
  '0101': 'IDE interface',
  '0104': 'RAID bus controller',
  '0106': 'SATA controller',
  '0107': 'Serial Attached SCSI controller',
  '0108': 'Non-Volatile memory controller',
  '0200': 'Ethernet controller',
  '0207': 'Infiniband controller',
  '0280': 'Network controller',
  '0300': 'VGA compatible controller',
  '0302': '3D controller',
  '0380': 'Display controller',
  '0401': 'Multimedia audio controller',
  '0403': 'Audio device',
  '0480': 'Multimedia controller',
  '0500': 'RAM memory',
  '0580': 'Memory controller',
  '0600': 'Host bridge',
  '0601': 'ISA bridge',
  '0604': 'PCI bridge',
  '0609': 'PCI bridge',
  '0680': 'Bridge',
  '0700': 'Serial controller',
  '0780': 'Communication controller',
  '0805': 'SD Host controller',
  '0880': 'System peripheral',
  '0c03': 'USB controller',
  '0c05': 'SMBus',
  '0c80': 'Serial bus controller',
  '1080': 'Encryption controller',
  '1180': 'Signal processing controller',
  '1200': 'Processing accelerators',
};
const BASE: Record<string, string> = {
  '00': 'Unclassified device',
  '01': 'Mass storage controller',
  '02': 'Network controller',
  '03': 'Display controller',
  '04': 'Multimedia controller',
  '05': 'Memory controller',
  '06': 'Bridge',
  '07': 'Communication controller',
  '08': 'Generic system peripheral',
  '09': 'Input device controller',
  '0c': 'Serial bus controller',
  '0d': 'Wireless controller',
  '10': 'Encryption controller',
  '11': 'Signal processing controller',
  '12': 'Processing accelerators',
};

/** '030000' or '0x0403' -> 'VGA compatible controller' / 'Audio device'; unknown -> 'Class XXXX'. */
export function className(cls: string): string {
  const c = cls.replace(/^0x/i, '').toLowerCase().padStart(6, '0');
  return SUBCLASS[c.slice(0, 4)] ?? BASE[c.slice(0, 2)] ?? `Class ${c.slice(0, 4)}`;
}
