// Our elements under <metadata><passthru:devices> (schemas/passthru-metadata.rng), one table each
// (see element-props.ts): what libvirt cannot say, which the hook does at start. xmlfix writes mdev,
// vf and vgpu entries; pf and console entries are written by hand (docs/xmlfix.md lists them all).
// Rows of one shape on purpose, here and in the other tables: one row an attribute.
import { onOff, type Prop } from './element-props.js';
import {
  parseMac,
  parseMdevParent,
  parseMdevTypeName,
  parseNetdevName,
  parseOnOff,
  parsePciAddressAs,
  parseRate,
  parseUuid,
  parseVfCount,
  parseVfState,
  parseVgpuType,
  parseVlan,
} from './values.js';

const pciAddress = (field: string, required = false): Prop => ({
  field,
  required,
  path: '@address',
  values: 'PCI address',
  example: '0000:03:10.0',
  read: parsePciAddressAs,
});

/** `<passthru:mdev uuid type parent>`: the mdev the hook creates for the domain's mdev hostdev of that UUID. */
export const PASSTHRU_MDEV_PROPS: readonly Prop[] = [
  {
    field: 'uuid',
    required: true,
    path: '@uuid',
    values: 'UUID',
    example: 'c2177883-f1bb-47f0-914d-32a22e3a8804',
    read: parseUuid,
  },
  { field: 'type', required: true, path: '@type', values: 'TYPE', example: 'i915-GVTg_V5_4', read: parseMdevTypeName },
  {
    option: 'parent',
    field: 'parent',
    path: '@parent',
    values: 'ADDR',
    example: '0000:00:02.0',
    parse: parseMdevParent,
    read: parseMdevParent,
  },
];

/**
 * `<passthru:vf>`: what libvirt cannot say about a VF, which the hook sets on the PF at start. Its
 * mac and vlan are the interface's, written here only for a VF given as a plain hostdev; a VF that
 * libvirt picks from a pool is found by its mac instead of an address.
 */
export const PASSTHRU_VF_PROPS: readonly Prop[] = [
  pciAddress('address'),
  { field: 'mac', path: '@mac', values: 'MAC', example: '52:54:00:aa:bb:03', read: parseMac },
  { field: 'vlan', path: '@vlan', values: '0-4095', example: '20', read: parseVlan },
  { option: 'trust', field: 'trust', path: '@trust', values: 'on|off', example: 'on', parse: onOff, read: parseOnOff },
  {
    option: 'spoofchk',
    field: 'spoofchk',
    path: '@spoofchk',
    values: 'on|off',
    example: 'off',
    parse: onOff,
    read: parseOnOff,
  },
  {
    option: 'state',
    field: 'state',
    path: '@state',
    values: 'auto|enable|disable',
    example: 'enable',
    parse: parseVfState,
    read: parseVfState,
  },
  {
    option: 'min-rate',
    field: 'minRate',
    path: '@min-rate',
    values: 'Mbps',
    example: '100',
    parse: (t, w) => String(parseRate(t, w)),
    read: parseRate,
  },
  {
    option: 'max-rate',
    field: 'maxRate',
    path: '@max-rate',
    values: 'Mbps',
    example: '1000',
    parse: (t, w) => String(parseRate(t, w)),
    read: parseRate,
  },
];

/** `<passthru:pf dev|address vfs>`: the PF needs at least that many VFs; the hook raises the count. */
export const PASSTHRU_PF_PROPS: readonly Prop[] = [
  { field: 'dev', path: '@dev', values: 'NETDEV', example: 'enp3s0f0', read: parseNetdevName },
  pciAddress('address'),
  { field: 'vfs', required: true, path: '@vfs', values: '1-9999', example: '4', read: parseVfCount },
];

/** `<passthru:vgpu address type>`: an NVIDIA vGPU 17+ VF's type, written to its nvidia/current_vgpu_type. */
export const PASSTHRU_VGPU_PROPS: readonly Prop[] = [
  pciAddress('address', true),
  {
    option: 'type',
    field: 'type',
    required: true,
    path: '@type',
    values: 'ID|NAME',
    example: '1157',
    parse: parseVgpuType,
    read: parseVgpuType,
  },
];

/** `<passthru:console handover>`: hand the host console over when the domain takes the boot VGA. */
export const PASSTHRU_CONSOLE_PROPS: readonly Prop[] = [
  { field: 'handover', required: true, path: '@handover', values: 'on|off', example: 'on', read: parseOnOff },
];
