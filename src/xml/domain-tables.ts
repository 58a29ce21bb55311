// The domain-wide elements, one table each (see element-props.ts): the domain's name and UUID,
// which the hook reads, and what doctor reads for its start-time checks (src/xml/start-facts.ts).
// Doctor's reads are for advice only: a value libvirt would refuse counts as unset (libvirt
// validates it at define time), so those readers return undefined rather than throw.
import type { Prop } from './element-props.js';
import { parseUuid } from './values.js';

const positive = (t: string): number | undefined => (/^[1-9][0-9]{0,5}$/.test(t) ? Number(t) : undefined);

/** `<domain>`: its name and UUID (the hook's journal is by UUID), and its memory (doctor). */
export const DOMAIN_PROPS: readonly Prop[] = [
  { field: 'name', required: true, path: 'name', values: 'NAME', example: 'win11-gpu' },
  { field: 'uuid', path: 'uuid', values: 'UUID', example: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0', read: parseUuid },
  { field: 'memory', path: 'memory', values: 'N', example: '8388608' },
  { field: 'memoryUnit', path: 'memory/@unit', values: 'KiB|MiB|GiB|…', example: 'KiB' },
  { field: 'currentMemory', path: 'currentMemory', values: 'N', example: '8388608' },
  { field: 'currentMemoryUnit', path: 'currentMemory/@unit', values: 'KiB|MiB|GiB|…', example: 'KiB' },
];

/** `<os firmware>` with its `<type machine>` and `<loader type>` (the loader's text is its path). */
export const OS_PROPS: readonly Prop[] = [
  { field: 'firmware', path: '@firmware', values: 'bios|efi', example: 'efi' },
  { field: 'machine', path: 'type/@machine', values: 'MACHINE', example: 'q35' },
  { field: 'loaderType', path: 'loader/@type', values: 'rom|pflash', example: 'pflash' },
  { field: 'loader', path: 'loader', values: 'PATH', example: '/usr/share/OVMF/OVMF_CODE_4M.fd' },
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

/** `<cputune><vcpupin vcpu cpuset>`: one vCPU's host CPUs (one element a vCPU). */
export const VCPUPIN_PROPS: readonly Prop[] = [
  { field: 'cpuset', path: '@cpuset', values: 'CPU list', example: '8-11' },
];

/** `<numatune><memory nodeset placement>`: which host NUMA nodes hold the guest's memory. */
export const NUMATUNE_PROPS: readonly Prop[] = [
  { field: 'nodeset', path: 'memory/@nodeset', values: 'node list', example: '0' },
  { field: 'placement', path: 'memory/@placement', values: 'static|auto', example: 'static' },
];

/**
 * `<qemu:commandline><qemu:arg value>` (qemu's namespace, any prefix): one argument a element; doctor
 * looks for OVMF's 64-bit PCI window (`-fw_cfg opt/ovmf/X-PciMmio64Mb,string=N`) there.
 */
export const QEMU_ARG_PROPS: readonly Prop[] = [
  { field: 'value', path: '@value', values: 'ARG', example: 'opt/ovmf/X-PciMmio64Mb,string=65536' },
];
