// `xmlfix --variant-driver ADDR[=MODULE]`: <driver model='MODULE'/> on the PCI hostdev of ADDR, which
// makes libvirt (10.0+) bind that vfio variant driver instead of vfio-pci. On a <driver> element the
// hostdev already has (<driver name='vfio'/>) the attribute is added; an existing model that names
// another module is left to the administrator (one line naming both), never overwritten.
import { InputError } from '../errors.js';
import { formatPciAddress, printable, samePciAddress, type PciAddress } from '../pci/address.js';
import { buildProps, keyOf, splitPath, textAt } from './element-props.js';
import { HOSTDEV_DRIVER_MODEL } from './element-tables.js';
import { escapeAttr } from './fragment.js';
import { openDomain, pciHostdevs, sourceAddress } from './domain-doc.js';
import { applySplices, insertChildren } from './splice.js';
import { child } from './tree.js';

export function setHostdevDriverModel(text: string, address: PciAddress, given: string): string {
  const model = HOSTDEV_DRIVER_MODEL.parse!(given, '--variant-driver module');
  const d = openDomain(text);
  const hostdev = pciHostdevs(d).find((h) => {
    const a = sourceAddress(h);
    return a && samePciAddress(a, address);
  });
  if (!hostdev)
    throw new InputError(`${formatPciAddress(address)} is not a PCI <hostdev> of this domain (--add-hostdev it first)`);
  const [driverName, attr] = splitPath(HOSTDEV_DRIVER_MODEL.path);
  const driver = child(hostdev, driverName!);
  if (!driver) {
    const { children } = buildProps([HOSTDEV_DRIVER_MODEL], new Map([[keyOf(HOSTDEV_DRIVER_MODEL), model]]));
    return applySplices(text, [insertChildren(d.doc, d.style, hostdev, children)]);
  }
  const now = textAt(hostdev, HOSTDEV_DRIVER_MODEL.path);
  if (now === model) return text;
  if (now !== undefined)
    throw new InputError(
      `the hostdev ${formatPciAddress(address)} already has <driver model='${printable(now)}'>: change it by hand (virsh edit) to use ${model}`,
    );
  // the attribute goes at the end of the start tag, before '>' or '/>'
  let at = driver.openEnd - (driver.selfClosing ? 2 : 1);
  while (/\s/.test(text[at - 1]!)) at--;
  const q = d.style.quote;
  return applySplices(text, [{ start: at, end: at, text: ` ${attr!}=${q}${escapeAttr(model, q)}${q}` }]);
}
