// Options libvirt refuses when the domain is defined, checked before the edit writes them, so that
// xmlfix never hands back XML that `virsh define` rejects. (libvirt's own rules, in its domain
// post-parse validation: per-device boot order beside <os><boot dev>, a boot order used twice,
// display='on' on a hostdev without a <graphics> device.)
import { InputError } from '../errors.js';
import { textAt } from './element-props.js';
import { BOOT_ORDER } from './element-tables.js';
import { child, children, type XmlElement } from './tree.js';
import type { DomainDoc } from './domain-doc.js';

/** Refuses `boot.order=order` when libvirt would refuse the device's `<boot order>`. */
export function checkBootOrder(d: DomainDoc, order: number, flag: string): void {
  if (child(child(d.doc.root, 'os'), 'boot'))
    throw new InputError(
      `${flag}: boot.order=${order}: the domain boots by <os><boot dev=…/>, and libvirt refuses per-device boot order beside it`,
    );
  for (const dev of d.devices.children) {
    const own = textAt(dev, BOOT_ORDER.path);
    if (own !== undefined && Number(own) === order)
      throw new InputError(
        `${flag}: boot.order=${order}: the domain's ${describeDevice(dev)} already has <boot order='${order}'>, and libvirt refuses a second one (give another boot.order)`,
      );
  }
}

/** Refuses display='on' when the domain has no <graphics> (libvirt: a display needs one). */
export function checkDisplay(d: DomainDoc, flag: string): void {
  if (children(d.devices, 'graphics').length === 0)
    throw new InputError(
      `${flag}: display=on needs a <graphics> device (spice or vnc) in the domain, and it has none; libvirt refuses the define (add one, or display=off)`,
    );
}

function describeDevice(e: XmlElement): string {
  const target = child(e, 'target')?.attrs.dev;
  return `<${e.name}${e.attrs.type ? ` type='${e.attrs.type}'` : ''}>${target ? ` (${target})` : ''}`;
}
