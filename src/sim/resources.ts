// A simulated PCI device's memory resources and NUMA placement: `resource` (one line per resource,
// start end flags in %016llx as pci-sysfs prints them: 6 BARs, the ROM, 6 SR-IOV BARs), `numa_node`
// (-1 when the platform says nothing) and `local_cpulist` (its node's CPUs, from the host's node
// files under sys/devices/system/node, else every CPU the host lists).
import type { SimDevice, SimHostState } from './state.js';

const MEM = 0x200;
const PREFETCH = 0x2000;
const MEM_64 = 0x100000;
const SIZEALIGN = 0x40000;
const LINES = 13;

const hex = (n: bigint): string => `0x${n.toString(16).padStart(16, '0')}`;

export const RESOURCE_ATTRS = ['local_cpulist', 'numa_node', 'resource'] as const;

export function resourceText(d: SimDevice): string {
  const lines: string[] = [];
  // 64-bit BARs above 4 GiB, 32-bit ones below, each aligned to its size (as firmware places them)
  let high = 0x7000000000n;
  let low = 0xe0000000n;
  for (let i = 0; i < LINES; i++) {
    const bar = d.bars?.find((b) => b.index === i);
    if (!bar) {
      lines.push(`${hex(0n)} ${hex(0n)} ${hex(0n)}`);
      continue;
    }
    const size = BigInt(bar.size);
    const flags = MEM | SIZEALIGN | (bar.mem64 ? MEM_64 : 0) | (bar.prefetch ? PREFETCH | 0x0c : 0);
    let start: bigint;
    if (bar.mem64) {
      high = ((high + size - 1n) / size) * size;
      start = high;
      high += size;
    } else {
      low = ((low + size - 1n) / size) * size;
      start = low;
      low += size;
    }
    lines.push(`${hex(start)} ${hex(start + size - 1n)} ${hex(BigInt(flags))}`);
  }
  return `${lines.join('\n')}\n`;
}

export function localCpulist(d: SimDevice, state: SimHostState): string {
  const files = state.files ?? {};
  const node = d.numaNode ?? -1;
  const mine = files[`sys/devices/system/node/node${node}/cpulist`];
  if (mine !== undefined) return mine;
  return files['sys/devices/system/cpu/online'] ?? '0-3\n';
}

export function resourceNode(d: SimDevice, attr: string, state: SimHostState): { t: 'file'; get: () => string } {
  if (attr === 'resource') return { t: 'file', get: () => resourceText(d) };
  if (attr === 'numa_node') return { t: 'file', get: () => `${d.numaNode ?? -1}\n` };
  return { t: 'file', get: () => localCpulist(d, state) };
}
