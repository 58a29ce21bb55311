// What a domain's XML says about how it starts, for doctor's start-time checks (src/doctor/start.ts):
// memory size and backing, machine type and firmware, the guest's physical address bits and 64-bit
// PCI window setting, and where its vCPUs and memory are placed. Read only; nothing is validated
// beyond what the checks need (libvirt validates the rest at define time).
import { propOf, readFields, readValue } from './element-props.js';
import { MEMORY_BACKING_PROPS } from './element-tables.js';
import { checkXmlInput } from './guard.js';
import {
  CPU_PROPS,
  DOMAIN_PROPS,
  NUMATUNE_PROPS,
  OS_PROPS,
  QEMU_ARG_PROPS,
  VCPU_PROPS,
  VCPUPIN_PROPS,
} from './domain-tables.js';
import { child, children, parseTree, type XmlDoc } from './tree.js';

const UNIT_BYTES: Record<string, number> = {
  b: 1,
  bytes: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

export interface StartFacts {
  /** <memory> (or <currentMemory> when larger is absent), bytes; undefined when absent or unreadable. */
  memoryBytes?: number;
  /** <memoryBacking> children present: 'hugepages', 'allocation', 'locked', 'source', … */
  memoryBacking: string[];
  /** <memoryBacking><allocation threads=…>, when set. */
  allocationThreads?: number;
  /** <os><type machine=…>: 'pc-q35-8.2', 'q35', 'pc-i440fx-7.2', … */
  machine?: string;
  /** UEFI firmware: <os firmware='efi'> or a <loader> that is a pflash/OVMF image. */
  efi: boolean;
  /** <cpu mode=…> */
  cpuMode?: string;
  /** <cpu><maxphysaddr mode=… bits=…> (libvirt 8.7+). */
  maxPhysAddr?: { mode: string; bits?: number };
  /** OVMF's 64-bit PCI window in MiB from qemu:commandline `-fw_cfg opt/ovmf/X-PciMmio64Mb,string=N`. */
  ovmfMmio64Mb?: number;
  /** <vcpu cpuset=…> and every <cputune><vcpupin cpuset=…> (host CPU lists as written). */
  vcpuCpusets: string[];
  /** <vcpu placement='auto'> (numad decides). */
  vcpuPlacementAuto: boolean;
  /** <numatune><memory nodeset=… mode=…>. */
  memoryNodeset?: string;
  memoryPlacementAuto: boolean;
}

function bytes(text: string | undefined, unit: string | undefined, dflt = 'kib'): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  const mult = UNIT_BYTES[(unit ?? dflt).toLowerCase()];
  return Number.isFinite(n) && mult ? n * mult : undefined;
}

export function readStartFacts(input: string | Buffer): StartFacts {
  const xml = checkXmlInput(input, 'domain XML', { structure: false });
  const doc = parseTree(xml, 'domain XML');
  const d = doc.root;
  // one field at a time: doctor reads what it can, and the hook's reader requires the name
  const domain = (field: string) => readValue(d, propOf(DOMAIN_PROPS, field), 'domain') as string | undefined;
  const facts: StartFacts = {
    memoryBacking: [],
    efi: false,
    vcpuCpusets: [],
    vcpuPlacementAuto: false,
    memoryPlacementAuto: false,
  };
  const memory = domain('memory');
  const memBytes =
    memory !== undefined
      ? bytes(memory, domain('memoryUnit'))
      : bytes(domain('currentMemory'), domain('currentMemoryUnit'));
  if (memBytes !== undefined) facts.memoryBytes = memBytes;
  const mb = child(d, 'memoryBacking');
  if (mb) facts.memoryBacking = mb.children.map((c) => c.name);
  const threads =
    mb && readFields<{ allocationThreads?: number }>(mb, MEMORY_BACKING_PROPS, 'memoryBacking').allocationThreads;
  if (threads !== undefined) facts.allocationThreads = threads;
  const os = readOs(doc);
  if (os.machine) facts.machine = os.machine;
  facts.efi = isUefi(os);
  const cpu = child(d, 'cpu');
  const cpuFields = cpu
    ? readFields<{ mode?: string; maxPhysAddrMode?: string; maxPhysAddrBits?: number }>(cpu, CPU_PROPS, 'cpu')
    : {};
  if (cpuFields.mode) facts.cpuMode = cpuFields.mode;
  if (cpuFields.maxPhysAddrMode) {
    facts.maxPhysAddr = { mode: cpuFields.maxPhysAddrMode };
    if (cpuFields.maxPhysAddrBits !== undefined) facts.maxPhysAddr.bits = cpuFields.maxPhysAddrBits;
  }
  // qemu:commandline in any prefix bound to qemu's namespace: the fw_cfg argument follows -fw_cfg
  const cmdline = d.children.find((c) => c.name.endsWith(':commandline') || c.name === 'commandline');
  const args = (cmdline?.children ?? [])
    .filter((c) => c.name.endsWith('arg'))
    .map((c) => readFields<{ value?: string }>(c, QEMU_ARG_PROPS, 'qemu:arg').value ?? '');
  for (const a of args) {
    const m = /opt\/ovmf\/X-PciMmio64Mb,string=(\d+)/.exec(a);
    if (m) facts.ovmfMmio64Mb = Number(m[1]);
  }
  const vcpu = child(d, 'vcpu');
  const vcpuFields = vcpu ? readFields<{ cpuset?: string; placement?: string }>(vcpu, VCPU_PROPS, 'vcpu') : {};
  if (vcpuFields.cpuset) facts.vcpuCpusets.push(vcpuFields.cpuset);
  if (vcpuFields.placement === 'auto') facts.vcpuPlacementAuto = true;
  for (const pin of children(child(d, 'cputune'), 'vcpupin')) {
    const { cpuset } = readFields<{ cpuset?: string }>(pin, VCPUPIN_PROPS, 'vcpupin');
    if (cpuset) facts.vcpuCpusets.push(cpuset);
  }
  const numatune = child(d, 'numatune');
  const numa = numatune
    ? readFields<{ nodeset?: string; placement?: string }>(numatune, NUMATUNE_PROPS, 'numatune')
    : {};
  if (numa.nodeset) facts.memoryNodeset = numa.nodeset;
  if (numa.placement === 'auto') facts.memoryPlacementAuto = true;
  return facts;
}

interface OsFields {
  firmware?: string;
  machine?: string;
  loaderType?: string;
  loader?: string;
}

/** The domain's <os> through its table (doctor's facts, xmlfix's machine type). */
export function readOs(doc: XmlDoc): OsFields {
  const os = child(doc.root, 'os');
  return os ? readFields<OsFields>(os, OS_PROPS, 'os') : {};
}

/** UEFI firmware (OVMF, AAVMF): `<os firmware='efi'>`, or a `<loader>` that is a pflash or an edk2 image. */
function isUefi(os: OsFields): boolean {
  return os.firmware === 'efi' || os.loaderType === 'pflash' || /ovmf|edk2|aavmf|\.fd\b/i.test(os.loader ?? '');
}

export function bootsUefi(doc: XmlDoc): boolean {
  return isUefi(readOs(doc));
}

/** A CPU or node list as the kernel and libvirt write it ('0-3,8,10-11', '^2' exclusions) as numbers. */
export function parseCpuList(list: string): number[] {
  const out = new Set<number>();
  const excluded = new Set<number>();
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const neg = part.startsWith('^');
    const m = /^(\d+)(?:-(\d+))?$/.exec(neg ? part.slice(1) : part);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let i = lo; i <= hi && i - lo < 4096; i++) (neg ? excluded : out).add(i);
  }
  return [...out].filter((n) => !excluded.has(n)).sort((a, b) => a - b);
}
