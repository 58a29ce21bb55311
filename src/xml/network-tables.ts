// The properties of a libvirt VF pool network (`<network><forward mode='hostdev'>`), one table per
// element (see element-props.ts). xmlfix builds and edits these (network-edits.ts); the hook reads
// them (src/hook/pool-network.ts). The VF list under <forward> is libvirt's PCI <address> elements,
// read and written by fromLibvirtAttrs/toLibvirtAttrs.
import type { Prop } from './element-props.js';
import { checkNetdev } from '../plan/names.js';
import { parseVlan } from './values.js';

/** `<network>`: the VLAN tag libvirt sets on each VF it hands out. */
export const NETWORK_PROPS: readonly Prop[] = [
  { field: 'vlan', path: 'vlan/tag/@id', values: '0-4095', example: '20', read: parseVlan },
];

/** `<forward>`: a hostdev pool forwards in mode 'hostdev'; libvirt binds its VFs to vfio-pci when managed='yes'. */
export const FORWARD_PROPS: readonly Prop[] = [
  { field: 'mode', path: '@mode', values: 'hostdev', example: 'hostdev' },
  { field: 'managed', path: '@managed', values: 'yes|no', example: 'yes', read: (t) => t === 'yes' },
];

/**
 * `<forward><pf dev>`: the PF whose VFs make the pool (libvirt takes one). Read by the kernel's own
 * rule for an existing name (checkNetdev: '@' is allowed there); what xmlfix writes is checked
 * by parseNetdevName on the way in.
 */
export const FORWARD_PF_PROPS: readonly Prop[] = [
  { field: 'dev', required: true, path: '@dev', values: 'NETDEV', example: 'enp3s0f0', read: (t) => checkNetdev(t) },
];
