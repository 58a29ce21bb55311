// Pure edits of a libvirt domain document: text in, text out, touching only the elements they add
// or remove. Each is idempotent: what is already there is not added twice.
import { InputError } from '../errors.js';
import { formatPciAddress, parsePciAddress, samePciAddress, toLibvirtAttrs, type PciAddress } from '../pci/address.js';
import { checkBootOrder, checkDisplay } from './define-checks.js';
import {
  hostdevInterfaces,
  insertDevices,
  isAssigned,
  mdevHostdevs,
  mdevUuid,
  openDomain,
  pciHostdevs,
  sourceAddress,
  type DomainDoc,
} from './domain-doc.js';
import { buildProps, propOf, readValue } from './element-props.js';
import {
  GUEST_PCI_ADDRESS_PROPS,
  HOSTDEV_MDEV_PROPS,
  HOSTDEV_PCI_PROPS,
  INTERFACE_HOSTDEV_PROPS,
  PER_DEVICE,
} from './element-tables.js';
import { PASSTHRU_MDEV_PROPS, PASSTHRU_VF_PROPS, PASSTHRU_VGPU_PROPS } from './metadata-tables.js';
import { el, type XmlNode } from './fragment.js';
import type { GuestAddress } from './guest-placement.js';
import { entries, findContainer, removeEntries, upsertEntry } from './metadata-edit.js';
import { applySplices, removeElement, type Splice } from './splice.js';
import type { XmlElement } from './tree.js';
import type { HostdevOptions, MdevOptions, VfOptions } from './edit-options.js';

/** One `<hostdev type='pci'>` to add: where the guest sees it, and whether the per-device options go on it. */
export interface NewHostdev {
  address: PciAddress;
  guest?: GuestAddress;
  /** bootindex, rombar and romfile: on function 0 of a slot only, as a slot is one device to the guest. */
  deviceOptions: boolean;
}

/** `<hostdev>` for each address not yet assigned. */
export function addPciHostdevs(text: string, hostdevs: NewHostdev[], opts: HostdevOptions, flag: string): string {
  const d = openDomain(text);
  const fresh = hostdevs.filter((h) => !isAssigned(d, h.address));
  const order = opts.props.get('boot.order');
  if (order !== undefined && fresh.some((h) => h.deviceOptions)) checkBootOrder(d, Number(order), flag);
  const forFunction = new Map([...opts.props].filter(([k]) => !PER_DEVICE.includes(k)));
  const nodes: XmlNode[] = fresh.map(({ address, guest: g, deviceOptions }) => {
    const props = buildProps(HOSTDEV_PCI_PROPS, deviceOptions ? opts.props : forFunction);
    return el(
      'hostdev',
      { mode: 'subsystem', type: 'pci', ...props.attrs },
      el('source', {}, el('address', toLibvirtAttrs(address))),
      ...props.children,
      g &&
        el('address', {
          type: 'pci',
          ...toLibvirtAttrs({ domain: 0, bus: g.bus, slot: g.slot, function: g.function }),
          ...buildProps(GUEST_PCI_ADDRESS_PROPS, new Map([['multifunction', g.multifunction ? 'on' : undefined]]))
            .attrs,
        }),
    );
  });
  if (nodes.length === 0) return text;
  return applySplices(text, [insertDevices(d, 'hostdev', nodes)]);
}

/** An mdev entry of our metadata, its UUID checked. */
function metaUuid(m: XmlElement): string | undefined {
  return readValue(m, propOf(PASSTHRU_MDEV_PROPS, 'uuid'), "mdev UUID in the domain's <passthru:mdev>") as
    | string
    | undefined;
}

/**
 * The UUID of an mdev of `opts.type` (and parent, when given) the domain already has, for an
 * `--add-mdev` without UUID: then the edit is done already (it stays idempotent).
 */
export function sameMdev(text: string, opts: MdevOptions): string | undefined {
  const d = openDomain(text);
  const uuids = new Set(mdevHostdevs(d).map(mdevUuid));
  return entries(findContainer(d.doc), 'mdev')
    .filter((m) => m.attrs.type === opts.type && (opts.parent === undefined || m.attrs.parent === opts.parent))
    .map(metaUuid)
    .find((u) => u !== undefined && uuids.has(u));
}

/** `<hostdev type='mdev'>` plus our metadata entry with type and parent. Without a UUID, an mdev of
 * that type already in the domain satisfies the edit (so it stays idempotent; see sameMdev). */
export function addMdev(text: string, opts: MdevOptions, flag: string): string {
  const d = openDomain(text);
  if (opts.props.get('display') === 'on') checkDisplay(d, flag);
  const metaEntries = entries(findContainer(d.doc), 'mdev');
  const existingUuids = new Set(mdevHostdevs(d).map(mdevUuid));
  if (!opts.uuid && sameMdev(text, opts)) return text;
  // The global Web Crypto, not an import of node:crypto: loading that module costs ~12 ms at start-up
  // of every call, and only an mdev without a UUID needs it.
  const uuid = opts.uuid ?? globalThis.crypto.randomUUID();
  const splices: Splice[] = [];
  if (!existingUuids.has(uuid)) {
    const hostdev = buildProps(HOSTDEV_MDEV_PROPS, new Map([...opts.props, ['uuid', uuid], ['model', 'vfio-pci']]));
    splices.push(
      insertDevices(d, 'hostdev', [
        el('hostdev', { mode: 'subsystem', type: 'mdev', ...hostdev.attrs }, ...hostdev.children),
      ]),
    );
  }
  const existing = metaEntries.find((m) => metaUuid(m) === uuid);
  const meta = buildProps(
    PASSTHRU_MDEV_PROPS,
    new Map([
      ['uuid', uuid],
      ['type', opts.type],
      ['parent', opts.parent],
    ]),
  );
  splices.push(...upsertEntry(d.doc, d.style, 'mdev', meta.attrs, existing));
  return splices.length ? applySplices(text, splices) : text;
}

/** A VF as `<interface type='hostdev'>` (libvirt sets MAC/VLAN) or plain `<hostdev>` (we do). */
export function addVf(text: string, address: PciAddress, opts: VfOptions): string {
  if (opts.mac !== undefined) {
    const holder = vfWithMac(text, opts.mac);
    if (holder && !samePciAddress(holder, address))
      throw new InputError(
        `mac ${opts.mac} is already the MAC of the domain's VF ${formatPciAddress(holder)}; two NICs with one MAC (give another mac)`,
      );
  }
  const d = openDomain(text);
  const splices: Splice[] = [];
  if (!isAssigned(d, address)) {
    if (opts.as === 'interface') {
      const props = buildProps(INTERFACE_HOSTDEV_PROPS, new Map([...opts.iface, ['managed', 'yes']]));
      const kids = props.children;
      splices.push(
        insertDevices(d, 'interface', [
          el(
            'interface',
            { type: 'hostdev', ...props.attrs },
            kids.find((k) => k.name === 'mac'),
            el('source', {}, el('address', { type: 'pci', ...toLibvirtAttrs(address) })),
            kids.find((k) => k.name === 'vlan'),
          ),
        ]),
      );
    } else {
      splices.push(insertPlainHostdev(d, address, 'yes'));
    }
  }
  // What libvirt cannot express goes to our metadata; MAC/VLAN too when the VF is a plain hostdev.
  const meta = buildProps(
    PASSTHRU_VF_PROPS,
    new Map([
      ...opts.vf,
      ['address', formatPciAddress(address)],
      ['mac', opts.as === 'hostdev' ? opts.iface.get('mac.address') : undefined],
      ['vlan', opts.as === 'hostdev' ? opts.iface.get('vlan.tag.id') : undefined],
    ]),
  ).attrs;
  const hasMeta = Object.keys(meta).some((k) => k !== 'address');
  const existing = entries(findContainer(d.doc), 'vf').find((v) => sameAddressText(v.attrs.address, address));
  if (hasMeta) splices.push(...upsertEntry(d.doc, d.style, 'vf', meta, existing));
  return splices.length ? applySplices(text, splices) : text;
}

export type RemoveTarget =
  | { kind: 'address'; address: PciAddress }
  | { kind: 'slot'; domain: number; bus: number; slot: number }
  | { kind: 'uuid'; uuid: string }
  | { kind: 'mac'; mac: string }
  | { kind: 'all' };

/** A bare PCI <hostdev> for `address` (no boot order, no guest address), where libvirt puts hostdevs. */
function insertPlainHostdev(d: DomainDoc, address: PciAddress, managed: 'yes' | 'no'): Splice {
  return insertDevices(d, 'hostdev', [
    el(
      'hostdev',
      { mode: 'subsystem', type: 'pci', managed },
      el('source', {}, el('address', toLibvirtAttrs(address))),
    ),
  ]);
}

function inSlot(a: PciAddress, t: { domain: number; bus: number; slot: number }): boolean {
  return a.domain === t.domain && a.bus === t.bus && a.slot === t.slot;
}

/** `--remove-hostdev ADDR|UUID|all`: hostdevs (PCI, mdev) and their metadata entries. */
export function removeHostdevs(text: string, target: RemoveTarget): string {
  const d = openDomain(text);
  const container = findContainer(d.doc);
  const gone: XmlElement[] = [];
  const goneMeta: XmlElement[] = [];
  for (const h of pciHostdevs(d)) {
    const a = sourceAddress(h);
    // A slot (`01:00`) takes every function of it that the domain has, the inverse of adding a slot.
    if (
      target.kind === 'all' ||
      (target.kind === 'address' && a && samePciAddress(a, target.address)) ||
      (target.kind === 'slot' && a && inSlot(a, target))
    ) {
      gone.push(h);
      goneMeta.push(...entries(container, 'vf').filter((v) => a && sameAddressText(v.attrs.address, a)));
      goneMeta.push(...entries(container, 'vgpu').filter((v) => a && sameAddressText(v.attrs.address, a)));
    }
  }
  for (const h of mdevHostdevs(d)) {
    const uuid = mdevUuid(h);
    if (target.kind === 'all' || (target.kind === 'uuid' && uuid === target.uuid)) {
      gone.push(h);
      goneMeta.push(...entries(container, 'mdev').filter((m) => metaUuid(m) === uuid));
    }
  }
  if (target.kind === 'uuid')
    goneMeta.push(...entries(container, 'mdev').filter((m) => metaUuid(m) === target.uuid && !goneMeta.includes(m)));
  return remove(d, gone, goneMeta);
}

/** `--remove-vf ADDR|MAC`: hostdev interfaces (or plain-hostdev VFs we described) and their metadata. */
export function removeVf(text: string, target: RemoveTarget): string {
  const d = openDomain(text);
  const container = findContainer(d.doc);
  const vfMeta = entries(container, 'vf');
  const gone: XmlElement[] = [];
  const goneMeta: XmlElement[] = [];
  for (const i of hostdevInterfaces(d)) {
    const a = sourceAddress(i);
    const mac = macOf(i);
    const hit =
      (target.kind === 'address' && a && samePciAddress(a, target.address)) ||
      (target.kind === 'mac' && mac === target.mac);
    if (hit) {
      gone.push(i);
      goneMeta.push(...vfMeta.filter((v) => (a && sameAddressText(v.attrs.address, a)) || (mac && metaMac(v) === mac)));
    }
  }
  // A VF given as plain hostdev is one we described in metadata (address and/or MAC).
  for (const v of vfMeta) {
    const hit =
      (target.kind === 'address' && sameAddressText(v.attrs.address, target.address)) ||
      (target.kind === 'mac' && metaMac(v) === target.mac);
    if (!hit) continue;
    if (!goneMeta.includes(v)) goneMeta.push(v);
    for (const h of pciHostdevs(d)) {
      const a = sourceAddress(h);
      if (a && sameAddressText(v.attrs.address, a) && !gone.includes(h)) gone.push(h);
    }
  }
  return remove(d, gone, [...new Set(goneMeta)]);
}

/**
 * An NVIDIA vGPU VF (vGPU 17+ vendor-specific VFIO): `<hostdev type='pci' managed='no'>` (the VF must
 * stay on the nvidia driver, never be rebound to vfio-pci) plus `<passthru:vgpu address type>`.
 * The same entry again changes nothing; another type replaces the entry's type.
 */
export function addVgpu(text: string, address: PciAddress, type: string): string {
  const d = openDomain(text);
  const splices: Splice[] = [];
  const hostdev = pciHostdevs(d).find((h) => {
    const a = sourceAddress(h);
    return a && samePciAddress(a, address);
  });
  if (hostdev && hostdev.attrs.managed === 'yes')
    throw new InputError(
      `${formatPciAddress(address)} is already in the domain with managed='yes'; a vGPU VF needs managed='no' (--remove-hostdev it first)`,
    );
  if (!hostdev) {
    if (isAssigned(d, address))
      throw new InputError(
        `${formatPciAddress(address)} is already in the domain as an <interface type='hostdev'>; a vGPU VF is a plain <hostdev managed='no'>`,
      );
    splices.push(insertPlainHostdev(d, address, 'no'));
  }
  const existing = entries(findContainer(d.doc), 'vgpu').find((v) => sameAddressText(v.attrs.address, address));
  const meta = buildProps(
    PASSTHRU_VGPU_PROPS,
    new Map([
      ['address', formatPciAddress(address)],
      ['type', type],
    ]),
  );
  splices.push(...upsertEntry(d.doc, d.style, 'vgpu', meta.attrs, existing));
  return splices.length ? applySplices(text, splices) : text;
}

/** `--remove-vgpu ADDR`: the VF's hostdev and its <passthru:vgpu> entry. */
export function removeVgpu(text: string, address: PciAddress): string {
  const d = openDomain(text);
  const gone = pciHostdevs(d).filter((h) => {
    const a = sourceAddress(h);
    return a && samePciAddress(a, address);
  });
  const goneMeta = entries(findContainer(d.doc), 'vgpu').filter((v) => sameAddressText(v.attrs.address, address));
  return remove(d, gone, goneMeta);
}

function remove(d: DomainDoc, gone: XmlElement[], goneMeta: XmlElement[]): string {
  if (gone.length === 0 && goneMeta.length === 0) return d.doc.text;
  const splices = [...gone.map((g) => removeElement(d.doc, g)), ...removeEntries(d.doc, goneMeta)];
  return applySplices(d.doc.text, splices);
}

/** Whether a metadata entry's address attribute is `a`; a bad address is an error naming it. */
function sameAddressText(text: string | undefined, a: PciAddress): boolean {
  if (text === undefined) return false;
  let own: PciAddress;
  try {
    own = parsePciAddress(text);
  } catch (err) {
    throw new InputError(`an entry of the domain's <passthru:devices> has a bad address: ${(err as Error).message}`);
  }
  return samePciAddress(own, a);
}

/** The MAC of an `<interface>` (lower case), checked. */
function macOf(i: XmlElement): string | undefined {
  const what = `MAC of an existing <interface type='${i.attrs.type ?? ''}'>`;
  return readValue(i, propOf(INTERFACE_HOSTDEV_PROPS, 'mac'), what) as string | undefined;
}
function metaMac(v: XmlElement): string | undefined {
  return readValue(v, propOf(PASSTHRU_VF_PROPS, 'mac'), "MAC in the domain's <passthru:vf>") as string | undefined;
}

/**
 * The host address of the VF that already carries `mac` in the domain (a hostdev interface, or a
 * plain-hostdev VF our metadata describes), for an `--add-vf PF,mac=M` run again; an interface of
 * another kind with that MAC is an error (two NICs with one MAC).
 */
export function vfWithMac(text: string, mac: string): PciAddress | undefined {
  const d = openDomain(text);
  for (const i of d.devices.children.filter((c) => c.name === 'interface')) {
    if (macOf(i) !== mac) continue;
    const a = i.attrs.type === 'hostdev' ? sourceAddress(i) : undefined;
    if (a) return a;
    throw new InputError(`mac ${mac} is already the MAC of the domain's <interface type='${i.attrs.type ?? ''}'>`);
  }
  const meta = entries(findContainer(d.doc), 'vf').find((v) => metaMac(v) === mac && v.attrs.address !== undefined);
  return meta ? parsePciAddress(meta.attrs.address!) : undefined;
}
