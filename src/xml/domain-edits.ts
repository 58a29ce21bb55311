// Pure edits of a libvirt domain document: text in, text out, touching only the elements they add
// or remove. Each is idempotent: what is already there is not added twice.
import { InputError } from '../errors.js';
import { formatPciAddress, fromLibvirtAttrs, samePciAddress, toLibvirtAttrs, type PciAddress } from '../pci/address.js';
import { el, type XmlNode } from './fragment.js';
import { entries, findContainer, removeEntries, upsertEntry } from './metadata-edit.js';
import { applySplices, insertChildren, removeElement, type Splice } from './splice.js';
import { detectStyle, type XmlStyle } from './style.js';
import { child, children, parseTree, type XmlDoc, type XmlElement } from './tree.js';
import type { HostdevOptions, MdevOptions, VfOptions } from './edit-options.js';

// libvirt's order of device kinds: a new element goes after the last of its kind, else after the
// last kind that libvirt writes before it.
const DEVICE_ORDER = [
  'emulator',
  'disk',
  'controller',
  'lease',
  'filesystem',
  'interface',
  'smartcard',
  'serial',
  'parallel',
  'console',
  'channel',
  'input',
  'tpm',
  'graphics',
  'sound',
  'audio',
  'video',
  'hostdev',
];

export interface DomainDoc {
  doc: XmlDoc;
  style: XmlStyle;
  devices: XmlElement;
}

export function openDomain(text: string): DomainDoc {
  const doc = parseTree(text);
  if (doc.root.name !== 'domain')
    throw new InputError(`expected a libvirt <domain> document, found <${doc.root.name}>`);
  const devices = child(doc.root, 'devices');
  if (!devices) throw new InputError('the domain has no <devices> element');
  return { doc, style: detectStyle(doc), devices };
}

/** PCI source address of a hostdev or hostdev interface element, if it has one. */
export function sourceAddress(e: XmlElement): PciAddress | undefined {
  const addr = child(child(e, 'source'), 'address');
  if (!addr || (addr.attrs.type !== undefined && addr.attrs.type !== 'pci')) return undefined;
  try {
    return fromLibvirtAttrs(addr.attrs);
  } catch {
    return undefined;
  }
}

export function pciHostdevs(d: DomainDoc): XmlElement[] {
  return children(d.devices, 'hostdev').filter((h) => h.attrs.mode === 'subsystem' && h.attrs.type === 'pci');
}
export function mdevHostdevs(d: DomainDoc): XmlElement[] {
  return children(d.devices, 'hostdev').filter((h) => h.attrs.mode === 'subsystem' && h.attrs.type === 'mdev');
}
export function hostdevInterfaces(d: DomainDoc): XmlElement[] {
  return children(d.devices, 'interface').filter((i) => i.attrs.type === 'hostdev');
}

/** Every host PCI address the domain already assigns (hostdevs and hostdev interfaces). */
export function assignedAddresses(d: DomainDoc): PciAddress[] {
  return [...pciHostdevs(d), ...hostdevInterfaces(d)].map(sourceAddress).filter((a): a is PciAddress => !!a);
}

function isAssigned(d: DomainDoc, a: PciAddress): boolean {
  return assignedAddresses(d).some((b) => samePciAddress(a, b));
}

function insertDevices(d: DomainDoc, kind: string, nodes: XmlNode[]): Splice {
  const rank = DEVICE_ORDER.indexOf(kind);
  let anchor: XmlElement | undefined;
  for (const c of d.devices.children) {
    const r = DEVICE_ORDER.indexOf(c.name);
    if (c.name === kind || (r >= 0 && r <= rank)) anchor = c;
  }
  return insertChildren(d.doc, d.style, d.devices, nodes, anchor ?? d.devices.children[d.devices.children.length - 1]);
}

export interface GuestAddress {
  bus: number;
  slot: number;
  function: number;
  multifunction?: boolean;
}

/** `<hostdev>` for each address not yet assigned; guest addresses keep a slot's functions together. */
export function addPciHostdevs(
  text: string,
  addresses: PciAddress[],
  opts: HostdevOptions,
  guest?: GuestAddress[],
): string {
  const d = openDomain(text);
  if (opts.bootindex !== undefined && child(child(d.doc.root, 'os'), 'boot'))
    throw new InputError(
      `bootindex=${opts.bootindex}: the domain boots by <os><boot dev=…/>, and libvirt refuses per-device boot order beside it`,
    );
  const nodes: XmlNode[] = [];
  addresses.forEach((a, i) => {
    if (isAssigned(d, a)) return;
    const g = guest?.[i];
    nodes.push(
      el(
        'hostdev',
        { mode: 'subsystem', type: 'pci', managed: opts.managed ? 'yes' : 'no' },
        el('source', {}, el('address', toLibvirtAttrs(a))),
        opts.bootindex !== undefined && el('boot', { order: String(opts.bootindex) }),
        (opts.rombar !== undefined || opts.romfile !== undefined) &&
          el('rom', { bar: opts.rombar === undefined ? undefined : opts.rombar ? 'on' : 'off', file: opts.romfile }),
        g &&
          el('address', {
            type: 'pci',
            ...toLibvirtAttrs({ domain: 0, bus: g.bus, slot: g.slot, function: g.function }),
            multifunction: g.multifunction ? 'on' : undefined,
          }),
      ),
    );
  });
  if (nodes.length === 0) return text;
  return applySplices(text, [insertDevices(d, 'hostdev', nodes)]);
}

// Guest slots on bus 0 that libvirt keeps for itself even when no element names them: host bridge
// (0), the PIIX3 (1, i440fx) or primary video (1, q35), primary video (2, i440fx), and the q35
// chipset functions (ICH9 USB 0x1a/0x1d, sound 0x1b, DMI bridge 0x1e, LPC/SATA/SMBus 0x1f).
const RESERVED_SLOTS = [0x00, 0x01, 0x02, 0x1a, 0x1b, 0x1d, 0x1e, 0x1f];

/** The lowest guest slot on bus 0 that no device of the domain uses and libvirt does not reserve
 * (for a multifunction group, whose functions must share one slot). */
export function freeGuestSlot(text: string): number {
  const d = openDomain(text);
  const used = new Set<number>(RESERVED_SLOTS);
  const walk = (e: XmlElement, inSource: boolean): void => {
    for (const c of e.children) {
      if (c.name === 'address' && !inSource && c.attrs.type === 'pci') {
        try {
          const a = fromLibvirtAttrs(c.attrs);
          if (a.bus === 0) used.add(a.slot);
        } catch {
          /* not a complete PCI address */
        }
      }
      walk(c, inSource || c.name === 'source');
    }
  };
  walk(d.devices, false);
  for (let s = 1; s <= 0x1f; s++) if (!used.has(s)) return s;
  throw new InputError('no free guest PCI slot left on bus 0x00 for a multifunction device');
}

/** The guest address given to the hostdev of host function `a`, if it has one. */
export function guestAddressOf(text: string, a: PciAddress): GuestAddress | undefined {
  const d = openDomain(text);
  for (const h of pciHostdevs(d)) {
    const src = sourceAddress(h);
    const g = child(h, 'address');
    if (!src || !samePciAddress(src, a) || !g || g.attrs.type !== 'pci') continue;
    try {
      const ga = fromLibvirtAttrs(g.attrs);
      return { bus: ga.bus, slot: ga.slot, function: ga.function, multifunction: g.attrs.multifunction === 'on' };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** `<hostdev type='mdev'>` plus our metadata entry with type and parent. Without a UUID, an mdev of
 * that type already in the domain satisfies the edit (so it stays idempotent). */
export function addMdev(text: string, opts: MdevOptions): string {
  const d = openDomain(text);
  const metaEntries = entries(findContainer(d.doc), 'mdev');
  const existingUuids = new Set(
    mdevHostdevs(d).map((h) => child(child(h, 'source'), 'address')?.attrs.uuid?.toLowerCase()),
  );
  if (!opts.uuid) {
    const same = metaEntries.find(
      (m) =>
        m.attrs.type === opts.type &&
        (opts.parent === undefined || m.attrs.parent === opts.parent) &&
        existingUuids.has(m.attrs.uuid?.toLowerCase()),
    );
    if (same) return text;
  }
  // The global Web Crypto, not an import of node:crypto: loading that module costs ~12 ms at start-up
  // of every call, and only an mdev without a UUID needs it.
  const uuid = opts.uuid ?? globalThis.crypto.randomUUID();
  const splices: Splice[] = [];
  if (!existingUuids.has(uuid)) {
    splices.push(
      insertDevices(d, 'hostdev', [
        el(
          'hostdev',
          {
            mode: 'subsystem',
            type: 'mdev',
            model: 'vfio-pci',
            display: opts.display === undefined ? undefined : opts.display ? 'on' : 'off',
          },
          el('source', {}, el('address', { uuid })),
        ),
      ]),
    );
  }
  const existing = metaEntries.find((m) => m.attrs.uuid?.toLowerCase() === uuid);
  splices.push(...upsertEntry(d.doc, d.style, 'mdev', { uuid, type: opts.type, parent: opts.parent }, existing));
  return splices.length ? applySplices(text, splices) : text;
}

/** A VF as `<interface type='hostdev'>` (libvirt sets MAC/VLAN) or plain `<hostdev>` (we do). */
export function addVf(text: string, address: PciAddress, opts: VfOptions): string {
  const d = openDomain(text);
  const splices: Splice[] = [];
  if (!isAssigned(d, address)) {
    if (opts.as === 'interface') {
      splices.push(
        insertDevices(d, 'interface', [
          el(
            'interface',
            { type: 'hostdev', managed: 'yes' },
            opts.mac !== undefined && el('mac', { address: opts.mac }),
            el('source', {}, el('address', { type: 'pci', ...toLibvirtAttrs(address) })),
            opts.vlan !== undefined && el('vlan', {}, el('tag', { id: String(opts.vlan) })),
          ),
        ]),
      );
    } else {
      splices.push(
        insertDevices(d, 'hostdev', [
          el(
            'hostdev',
            { mode: 'subsystem', type: 'pci', managed: 'yes' },
            el('source', {}, el('address', toLibvirtAttrs(address))),
          ),
        ]),
      );
    }
  }
  // What libvirt cannot express goes to our metadata; MAC/VLAN too when the VF is a plain hostdev.
  const meta: Record<string, string | undefined> = {
    address: formatPciAddress(address),
    mac: opts.as === 'hostdev' ? opts.mac : undefined,
    vlan: opts.as === 'hostdev' && opts.vlan !== undefined ? String(opts.vlan) : undefined,
    trust: onOff(opts.trust),
    spoofchk: onOff(opts.spoofchk),
    state: opts.state,
    'min-rate': opts.minRate === undefined ? undefined : String(opts.minRate),
    'max-rate': opts.maxRate === undefined ? undefined : String(opts.maxRate),
  };
  const hasMeta = Object.entries(meta).some(([k, v]) => k !== 'address' && v !== undefined);
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
    const uuid = child(child(h, 'source'), 'address')?.attrs.uuid?.toLowerCase();
    if (target.kind === 'all' || (target.kind === 'uuid' && uuid === target.uuid)) {
      gone.push(h);
      goneMeta.push(...entries(container, 'mdev').filter((m) => m.attrs.uuid?.toLowerCase() === uuid));
    }
  }
  if (target.kind === 'uuid')
    goneMeta.push(
      ...entries(container, 'mdev').filter((m) => m.attrs.uuid?.toLowerCase() === target.uuid && !goneMeta.includes(m)),
    );
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
    const mac = child(i, 'mac')?.attrs.address?.toLowerCase();
    const hit =
      (target.kind === 'address' && a && samePciAddress(a, target.address)) ||
      (target.kind === 'mac' && mac === target.mac);
    if (hit) {
      gone.push(i);
      goneMeta.push(
        ...vfMeta.filter(
          (v) => (a && sameAddressText(v.attrs.address, a)) || (mac && v.attrs.mac?.toLowerCase() === mac),
        ),
      );
    }
  }
  // A VF given as plain hostdev is one we described in metadata (address and/or MAC).
  for (const v of vfMeta) {
    const hit =
      (target.kind === 'address' && sameAddressText(v.attrs.address, target.address)) ||
      (target.kind === 'mac' && v.attrs.mac?.toLowerCase() === target.mac);
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
    splices.push(
      insertDevices(d, 'hostdev', [
        el(
          'hostdev',
          { mode: 'subsystem', type: 'pci', managed: 'no' },
          el('source', {}, el('address', toLibvirtAttrs(address))),
        ),
      ]),
    );
  }
  const existing = entries(findContainer(d.doc), 'vgpu').find((v) => sameAddressText(v.attrs.address, address));
  splices.push(...upsertEntry(d.doc, d.style, 'vgpu', { address: formatPciAddress(address), type }, existing));
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

function sameAddressText(text: string | undefined, a: PciAddress): boolean {
  return text !== undefined && text.toLowerCase() === formatPciAddress(a);
}
function onOff(v: boolean | undefined): string | undefined {
  return v === undefined ? undefined : v ? 'on' : 'off';
}
