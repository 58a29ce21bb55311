// The properties of the elements xmlfix writes, one table each (see element-props.ts). What is no
// XML property (the device selector, primary=on, an mdev's type and parent in our metadata) is
// parsed beside these, in edit-options.ts.
import { InputError } from '../errors.js';
import { printable } from '../pci/address.js';
import { onOff, type Prop, yesNo } from './element-props.js';

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

/** Properties that belong to a device, not to each function: on function 0 of a slot only. */
export const PER_DEVICE = ['boot.order', 'rom.bar', 'rom.file'];
