// The properties of the elements xmlfix writes, one table each (see element-props.ts). What is no
// XML property (the device selector, primary=on, an mdev's type and parent in our metadata) is
// parsed beside these, in edit-options.ts.
import { InputError } from '../errors.js';
import { printable } from '../pci/address.js';
import { onOff, type Prop, yesNo } from './element-props.js';
import { parseMac, parseRate, parseVfState, parseVlan } from './values.js';

/** `<hostdev mode='subsystem' type='pci'>`: libvirt's defaults are managed='yes', rom bar on. */
export const HOSTDEV_PCI_PROPS: readonly Prop[] = [
  { option: 'managed', path: '@managed', values: 'yes|no', example: 'no', parse: yesNo },
  {
    option: 'boot.order',
    aliases: ['bootindex'],
    path: 'boot/@order',
    values: 'N',
    example: '1',
    parse: (t, what) => {
      if (!/^[1-9][0-9]{0,3}$/.test(t)) throw new InputError(`invalid ${what} '${printable(t)}' (expected 1-9999)`);
      return t;
    },
  },
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
];

/** `<hostdev mode='subsystem' type='mdev' model='vfio-pci'>`. */
export const HOSTDEV_MDEV_PROPS: readonly Prop[] = [
  { option: 'display', path: '@display', values: 'on|off', example: 'off', parse: onOff },
];

/** `<interface type='hostdev'>` of a VF: libvirt sets this MAC and VLAN tag on the VF through its PF. */
export const INTERFACE_HOSTDEV_PROPS: readonly Prop[] = [
  {
    option: 'mac.address',
    aliases: ['mac'],
    path: 'mac/@address',
    values: 'MAC',
    example: '52:54:00:aa:bb:03',
    parse: (t, what) => parseMac(t, what),
  },
  {
    option: 'vlan.tag.id',
    aliases: ['vlan'],
    path: 'vlan/tag/@id',
    values: 'ID',
    example: '20',
    parse: (t, what) => String(parseVlan(t, what)),
  },
];

/**
 * Our `<passthru:vf>` (schemas/passthru-metadata.rng): what libvirt cannot say about a VF, which the
 * hook sets on the PF at start. Its mac and vlan are the interface's, written there only for a VF
 * given as a plain hostdev (src/xml/domain-edits.ts).
 */
export const PASSTHRU_VF_PROPS: readonly Prop[] = [
  { option: 'trust', path: '@trust', values: 'on|off', example: 'on', parse: onOff },
  { option: 'spoofchk', path: '@spoofchk', values: 'on|off', example: 'off', parse: onOff },
  {
    option: 'state',
    path: '@state',
    values: 'auto|enable|disable',
    example: 'enable',
    parse: (t, what) => parseVfState(t, what),
  },
  { option: 'min-rate', path: '@min-rate', values: 'Mbps', example: '100', parse: (t, w) => String(parseRate(t, w)) },
  { option: 'max-rate', path: '@max-rate', values: 'Mbps', example: '1000', parse: (t, w) => String(parseRate(t, w)) },
];

/** Properties that belong to a device, not to each function: on function 0 of a slot only. */
export const PER_DEVICE = ['boot.order', 'rom.bar', 'rom.file'];
