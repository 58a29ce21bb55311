// `passthru doctor --domain`: what makes a passthrough guest start slowly or badly, from its XML and
// the host: all guest RAM is pinned at start (16 GiB and more without hugepages or preallocation
// threads takes tens of seconds), a large 64-bit BAR a q35/OVMF guest cannot map, a device on another
// NUMA node than the guest's vCPUs and memory, and (information) whether iommufd is there.
import { formatPciAddress } from '../pci/address.js';
import type { DomainPassthrough } from '../xml/model.js';
import { parseCpuList, type StartFacts } from '../xml/start-facts.js';
import type { HostSnapshot } from '../host/types.js';
import type { Sysfs } from '../host/sysfs.js';
import { layout } from '../host/layout.js';
import type { LibvirtVersion } from '../host/libvirt-version.js';
import { both, type CheckResult } from './types.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
export const PIN_WARN_BYTES = 16 * GiB;
/** A BAR this large (Resizable BAR GPUs, compute cards) is checked against the guest's 64-bit window. */
export const LARGE_BAR_BYTES = 4 * GiB;
/** OVMF's 64-bit PCI window when nothing sets it (edk2's fixed default before it sized it from phys-bits). */
export const OVMF_DEFAULT_MMIO64 = 32 * GiB;
/** qemu's guest physical address bits without maxphysaddr (its default phys-bits). */
export const QEMU_DEFAULT_PHYS_BITS = 40;
const MEM_64 = 0x100000n;
const IORESOURCE_MEM = 0x200n;

const human = (b: number): string => (b >= GiB ? `${+(b / GiB).toFixed(1)} GiB` : `${Math.round(b / MiB)} MiB`);
const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(n, 1)));

async function tryRead(s: Sysfs, p: string): Promise<string | undefined> {
  try {
    return await s.read(p);
  } catch {
    return undefined;
  }
}

/** Sizes of the 64-bit memory BARs (0-5) in a `resource` file. */
export function bar64Sizes(resource: string): number[] {
  return resource
    .split('\n')
    .slice(0, 6)
    .flatMap((line) => {
      const [s, e, f] = line
        .trim()
        .split(/\s+/)
        .map((x) => BigInt(x || '0'));
      if (s === undefined || e === undefined || f === undefined || e <= s) return [];
      return (f & MEM_64) !== 0n && (f & IORESOURCE_MEM) !== 0n ? [Number(e - s + 1n)] : [];
    });
}

export interface StartInput {
  dp: DomainPassthrough;
  facts: StartFacts;
  snap: HostSnapshot;
  sysfs: Sysfs;
  libvirt?: LibvirtVersion;
}

export async function startChecks(input: StartInput): Promise<CheckResult[]> {
  const { dp } = input;
  const pci = [...dp.pciHostdevs, ...dp.hostdevInterfaces].map((h) => formatPciAddress(h.address));
  const out: CheckResult[] = [];
  const mem = memoryCheck(input, pci.length + dp.mdevHostdevs.length);
  if (mem) out.push(mem);
  const bar = await barCheck(input, pci);
  if (bar) out.push(bar);
  for (const addr of pci) {
    const n = await numaCheck(input, addr);
    if (n) out.push(n);
  }
  out.push(await iommufdCheck(input));
  return out;
}

function memoryCheck(input: StartInput, hostdevs: number): CheckResult | undefined {
  const { facts, dp } = input;
  if (hostdevs === 0 || facts.memoryBytes === undefined || facts.memoryBytes < PIN_WARN_BYTES) return undefined;
  const base = { id: 'start-memory', title: 'guest RAM pinned at start' };
  const has = facts.memoryBacking.filter((c) => c === 'hugepages' || c === 'allocation');
  if (has.length)
    return {
      ...base,
      status: 'pass',
      detail: `${human(facts.memoryBytes)} with <memoryBacking> ${has.map((c) => `<${c}>`).join(' ')}${facts.allocationThreads ? ` (${facts.allocationThreads} threads)` : ''}`,
    };
  return {
    ...base,
    status: 'warn',
    detail: `${human(facts.memoryBytes)} and a passthrough device: vfio pins (and zeroes) all of it before the guest runs, about 5 s per 16 GiB; add <memoryBacking><allocation mode='immediate' threads='8'/></memoryBacking> (libvirt 8.2+), or <hugepages/> with hugepages reserved on the host`,
    fix: both(`xmlfix -i ${dp.name}.xml --memory-backing threads=8   # or: --memory-backing hugepages,threads=8`),
  };
}

async function barCheck(input: StartInput, pci: string[]): Promise<CheckResult | undefined> {
  const { facts } = input;
  if (!/q35/.test(facts.machine ?? '') || !facts.efi) return undefined;
  const bars: { addr: string; size: number }[] = [];
  for (const addr of pci) {
    const text = await tryRead(input.sysfs, layout.pciAttr(addr, 'resource'));
    for (const size of text ? bar64Sizes(text) : []) bars.push({ addr, size });
  }
  const large = bars.filter((b) => b.size >= LARGE_BAR_BYTES);
  if (large.length === 0) return undefined;
  const base = { id: 'start-mmio64', title: '64-bit BARs in the guest' };
  const total = bars.reduce((s, b) => s + b.size, 0);
  const needed = nextPow2(total);
  const window = facts.ovmfMmio64Mb !== undefined ? facts.ovmfMmio64Mb * MiB : OVMF_DEFAULT_MMIO64;
  const bits =
    facts.maxPhysAddr?.mode === 'passthrough' ? undefined : (facts.maxPhysAddr?.bits ?? QEMU_DEFAULT_PHYS_BITS);
  const what = `${large.map((b) => `${b.addr} has a ${human(b.size)} BAR`).join(', ')}; the 64-bit BARs need a ${human(needed)} window`;
  const windowText =
    facts.ovmfMmio64Mb !== undefined
      ? `X-PciMmio64Mb=${facts.ovmfMmio64Mb}`
      : `OVMF's default window (${human(OVMF_DEFAULT_MMIO64)} on edk2 before 2023)`;
  // OVMF puts the window above RAM, aligned to its size: it must fit twice under the address limit
  const bitsTooFew = bits !== undefined && 2 * Math.max(window, needed) > 2 ** bits;
  if (needed <= window && !bitsTooFew)
    return {
      ...base,
      status: 'pass',
      detail: `${what}: ${windowText}${bits === undefined ? ', host physical address bits' : `, ${bits} physical address bits`}`,
    };
  const mb = Math.max(65536, (2 * needed) / MiB);
  const problems = [
    ...(needed > window ? [`${windowText} is too small`] : []),
    ...(bitsTooFew
      ? [`${bits} guest physical address bits${facts.maxPhysAddr ? '' : ' (qemu default)'} cannot hold it`]
      : []),
  ];
  return {
    ...base,
    status: 'warn',
    detail: `${what}: ${problems.join(', and ')}; the guest sees the device without its BAR (Code 12, or no driver)`,
    fix: both(
      `virsh edit ${input.dp.name}   # <cpu …><maxphysaddr mode='passthrough'/></cpu>, and in <domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>: <qemu:commandline><qemu:arg value='-fw_cfg'/><qemu:arg value='opt/ovmf/X-PciMmio64Mb,string=${mb}'/></qemu:commandline>`,
    ),
  };
}

async function numaCheck(input: StartInput, addr: string): Promise<CheckResult | undefined> {
  const { sysfs, facts } = input;
  const node = Number((await tryRead(sysfs, layout.pciAttr(addr, 'numa_node')))?.trim() ?? '-1');
  if (!Number.isInteger(node) || node < 0) return undefined;
  const nodes = (await sysfs.list('sys/devices/system/node').catch(() => [] as string[])).filter((n) =>
    /^node\d+$/.test(n),
  );
  if (nodes.length < 2) return undefined;
  const local = (await tryRead(sysfs, layout.pciAttr(addr, 'local_cpulist')))?.trim() ?? '';
  const localCpus = new Set(parseCpuList(local));
  const base = { id: `start-numa:${addr}`, title: `NUMA placement of ${addr}` };
  const issues: string[] = [];
  if (facts.memoryPlacementAuto || facts.vcpuPlacementAuto) {
    return {
      ...base,
      status: 'pass',
      detail: `${addr} is on node ${node}; placement='auto' lets numad place the guest`,
    };
  }
  if (facts.memoryNodeset === undefined) issues.push('guest memory is not bound to a node');
  else if (!parseCpuList(facts.memoryNodeset).includes(node))
    issues.push(`guest memory is on node(s) ${facts.memoryNodeset}`);
  if (facts.vcpuCpusets.length === 0) issues.push('vCPUs are not pinned');
  else {
    const off = [...new Set(facts.vcpuCpusets.flatMap(parseCpuList))].filter((c) => !localCpus.has(c));
    if (off.length) issues.push(`vCPUs may run on CPUs ${off.join(',')} of other nodes`);
  }
  if (issues.length === 0)
    return { ...base, status: 'pass', detail: `${addr}, guest memory and vCPUs on node ${node} (CPUs ${local})` };
  return {
    ...base,
    status: 'warn',
    detail: `${addr} is on node ${node} (CPUs ${local}) of ${nodes.length}: ${issues.join('; ')}: its DMA and interrupts cross nodes`,
    fix: both(
      `virsh edit ${input.dp.name}   # <vcpu placement='static' cpuset='${local}'>N</vcpu> and <numatune><memory mode='strict' nodeset='${node}'/></numatune>`,
    ),
  };
}

async function iommufdCheck(input: StartInput): Promise<CheckResult> {
  const present = await input.sysfs.exists('dev/iommu').catch(() => false);
  const lv = input.libvirt ? `libvirt ${input.libvirt.text}` : 'libvirt version unknown';
  return {
    id: 'iommufd',
    title: 'iommufd (information)',
    status: 'pass',
    detail: present
      ? `/dev/iommu is there: the kernel offers iommufd beside the VFIO group interface; ${lv}: whether it assigns hostdevs through iommufd shows in virsh domcapabilities (iommufd under hostdev)`
      : `no /dev/iommu: the kernel has no iommufd (CONFIG_IOMMUFD); VFIO works through /dev/vfio groups as always (${lv})`,
  };
}
