// The domain-wide elements doctor reads for its start-time checks (src/xml/start-facts.ts), one
// table each (see element-props.ts). Read only, for advice: a value libvirt would refuse counts as
// unset (libvirt validates it at define time), so the readers return undefined rather than throw.
import type { Prop } from './element-props.js';

const positive = (t: string): number | undefined => (/^[1-9][0-9]{0,5}$/.test(t) ? Number(t) : undefined);

/** `<os firmware>` with its `<type machine>` and `<loader type>`. */
export const OS_PROPS: readonly Prop[] = [
  { field: 'firmware', path: '@firmware', values: 'bios|efi', example: 'efi' },
  { field: 'machine', path: 'type/@machine', values: 'MACHINE', example: 'q35' },
  { field: 'loaderType', path: 'loader/@type', values: 'rom|pflash', example: 'pflash' },
];

/** `<cpu mode>` and its `<maxphysaddr>` (libvirt 8.7+): the guest's physical address bits. */
export const CPU_PROPS: readonly Prop[] = [
  { field: 'mode', path: '@mode', values: 'host-passthrough|host-model|custom', example: 'host-passthrough' },
  { field: 'maxPhysAddrMode', path: 'maxphysaddr/@mode', values: 'passthrough|emulate', example: 'passthrough' },
  { field: 'maxPhysAddrBits', path: 'maxphysaddr/@bits', values: 'N', example: '39', read: positive },
];

/** `<vcpu cpuset placement>`: which host CPUs the vCPUs run on. */
export const VCPU_PROPS: readonly Prop[] = [
  { field: 'cpuset', path: '@cpuset', values: 'CPU list', example: '0-3' },
  { field: 'placement', path: '@placement', values: 'static|auto', example: 'static' },
];

/** `<numatune><memory nodeset placement>`: which host NUMA nodes hold the guest's memory. */
export const NUMATUNE_PROPS: readonly Prop[] = [
  { field: 'nodeset', path: 'memory/@nodeset', values: 'node list', example: '0' },
  { field: 'placement', path: 'memory/@placement', values: 'static|auto', example: 'static' },
];
