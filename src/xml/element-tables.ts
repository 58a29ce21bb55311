// The properties of the libvirt device elements we read or write, one table each (see
// element-props.ts). What is no property of its own (a device's host address in <source>, the
// device selector, primary=on) is read and parsed beside these: the address by fromLibvirtAttrs,
// the rest in edit-options.ts. Rows of one shape on purpose: one row an attribute.
import { InputError } from '../errors.js';
import { printable } from '../pci/address.js';
import { onOff, type Prop, yesNo } from './element-props.js';
import { parseMac, parseUuid, parseVlan } from './values.js';

const isYes = (t: string): boolean => t === 'yes';

/** `<driver name>` of a PCI hostdev: how libvirt assigns it; VFIO is the only way left on KVM. */
export const HOSTDEV_DRIVER_NAME: Prop = {
  option: 'driver.name',
  path: 'driver/@name',
  values: 'vfio',
  example: 'vfio',
  parse: (t, what) => {
    if (t !== 'vfio')
      throw new InputError(
        `invalid ${what} '${printable(t)}' (vfio: KVM's legacy device assignment left Linux in 4.12, and libvirt's qemu driver refuses it)`,
      );
    return t;
  },
};

/** `<driver model>` of a PCI hostdev: the vfio variant driver libvirt binds instead of vfio-pci. */
export const HOSTDEV_DRIVER_MODEL: Prop = {
  option: 'driver.model',
  flag: 'variant-driver',
  path: 'driver/@model',
  values: 'MODULE',
  example: 'mlx5_vfio_pci',
  libvirt: '10.0',
  parse: (t, what) => {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/.test(t))
      throw new InputError(`invalid ${what} '${printable(t)}' (a kernel module name)`);
    return t;
  },
};

/** `<boot order>`: a device's place in the boot order; libvirt's rules for it hold on every device kind. */
export const BOOT_ORDER: Prop = {
  option: 'boot.order',
  aliases: ['bootindex'],
  path: 'boot/@order',
  values: 'N',
  example: '1',
  parse: (t, what) => {
    if (!/^[1-9][0-9]{0,3}$/.test(t)) throw new InputError(`invalid ${what} '${printable(t)}' (expected 1-9999)`);
    return t;
  },
};

/** `<hostdev mode='subsystem' type='pci'>`: libvirt's defaults are managed='no' when absent, rom bar on. */
export const HOSTDEV_PCI_PROPS: readonly Prop[] = [
  { option: 'managed', field: 'managed', path: '@managed', values: 'yes|no', example: 'no', parse: yesNo, read: isYes },
  BOOT_ORDER,
  { option: 'rom.bar', aliases: ['rombar'], path: 'rom/@bar', values: 'on|off', example: 'off', parse: onOff },
  {
    option: 'rom.file',
    aliases: ['romfile'],
    path: 'rom/@file',
    values: 'PATH',
    example: '/usr/share/vgabios/gpu.rom',
    parse: (t, what) => {
      if (!t.startsWith('/') || /[\u0000-\u001f]/.test(t))
        throw new InputError(`invalid ${what} '${printable(t)}' (an absolute path)`);
      return t;
    },
  },
  HOSTDEV_DRIVER_NAME,
  HOSTDEV_DRIVER_MODEL,
];

/** `<hostdev mode='subsystem' type='mdev' model='vfio-pci'>`: the mdev by its UUID. */
export const HOSTDEV_MDEV_PROPS: readonly Prop[] = [
  {
    option: 'uuid',
    field: 'uuid',
    required: true,
    path: 'source/address/@uuid',
    values: 'UUID',
    example: 'c2177883-f1bb-47f0-914d-32a22e3a8804',
    parse: parseUuid,
    read: parseUuid,
  },
  { field: 'model', path: '@model', values: 'vfio-pci|vfio-ccw|vfio-ap', example: 'vfio-pci' },
  { option: 'display', path: '@display', values: 'on|off', example: 'off', parse: onOff },
];

/** `<interface type='hostdev'>` of a VF: libvirt sets this MAC and VLAN tag on the VF through its PF. */
export const INTERFACE_HOSTDEV_PROPS: readonly Prop[] = [
  { field: 'managed', path: '@managed', values: 'yes|no', example: 'yes', read: isYes },
  {
    option: 'mac.address',
    aliases: ['mac'],
    field: 'mac',
    path: 'mac/@address',
    values: 'MAC',
    example: '52:54:00:aa:bb:03',
    parse: parseMac,
    read: parseMac,
  },
  {
    option: 'vlan.tag.id',
    aliases: ['vlan'],
    field: 'vlan',
    path: 'vlan/tag/@id',
    values: 'ID',
    example: '20',
    parse: (t, what) => String(parseVlan(t, what)),
    read: parseVlan,
  },
];

/** `<interface type='network'>`: a VF pool when the network forwards in hostdev mode (the hook looks). */
export const INTERFACE_NETWORK_PROPS: readonly Prop[] = [
  { field: 'network', path: 'source/@network', values: 'NAME', example: 'vf-pool' },
  { field: 'mac', path: 'mac/@address', values: 'MAC', example: '52:54:00:aa:bb:09', read: parseMac },
];

/** Properties that belong to a device, not to each function: on function 0 of a slot only. */
export const PER_DEVICE = ['boot.order', 'rom.bar', 'rom.file'];

/**
 * `<memoryBacking>`: how a large guest's RAM is allocated before it is pinned (`--memory-backing`).
 * Its `<hugepages/>` is an empty element, present or not, so no property of this table.
 */
export const MEMORY_BACKING_PROPS: readonly Prop[] = [
  {
    flag: 'memory-backing',
    field: 'allocationMode',
    path: 'allocation/@mode',
    values: 'immediate|ondemand',
    example: 'immediate',
  },
  {
    flag: 'memory-backing',
    field: 'allocationThreads',
    path: 'allocation/@threads',
    values: 'N',
    example: '4',
    // doctor reads it for advice only: a value libvirt would refuse counts as unset
    read: (t) => (/^[1-9][0-9]{0,3}$/.test(t) ? Number(t) : undefined),
  },
];

/**
 * `<controller type='pci'>`: the guest's PCI buses. xmlfix adds a pcie-root-port for a slot on q35
 * (libvirt gives it chassis, port and address); its index is the bus the slot's functions sit on.
 */
export const CONTROLLER_PCI_PROPS: readonly Prop[] = [
  {
    flag: 'add-hostdev',
    field: 'index',
    path: '@index',
    values: '0-255',
    example: '1',
    read: (t) => (/^[0-9]{1,3}$/.test(t) && Number(t) <= 255 ? Number(t) : undefined),
  },
  {
    flag: 'add-hostdev',
    field: 'model',
    path: '@model',
    values: 'pcie-root-port|pcie-root|pci-root|…',
    example: 'pcie-root-port',
  },
];

/** `<video>`: primary=on leaves one, of model type 'none', so the guest's display is the GPU. */
export const VIDEO_PROPS: readonly Prop[] = [
  { flag: 'add-hostdev', field: 'modelType', path: 'model/@type', values: 'none|qxl|virtio|vga|…', example: 'none' },
];

/**
 * A device's guest `<address type='pci'>`: the bus, slot and function are libvirt's PCI address
 * (fromLibvirtAttrs/toLibvirtAttrs); function 0 of a slot xmlfix keeps together is multifunction.
 */
export const GUEST_PCI_ADDRESS_PROPS: readonly Prop[] = [
  {
    flag: 'add-hostdev',
    field: 'multifunction',
    path: '@multifunction',
    values: 'on|off',
    example: 'on',
    read: (t) => t === 'on',
  },
];
