// doctor's start-time checks (src/doctor/start.ts), golden, on the simulated single-GPU host: pinned
// RAM without hugepages/preallocation, a large 64-bit BAR against the q35/OVMF guest's window and
// address bits, NUMA placement of the device against the guest's, iommufd information.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { hostFromFixture, loadFixture } from '../../src/sim/fixture.js';
import { SimKernel } from '../../src/sim/kernel.js';
import { HostReader } from '../../src/host/reader.js';
import { startChecks, bar64Sizes } from '../../src/doctor/start.js';
import { readDomainPassthrough } from '../../src/xml/domain-reader.js';
import { readStartFacts, parseCpuList } from '../../src/xml/start-facts.js';
import { parseLibvirtVersion } from '../../src/host/libvirt-version.js';
import type { SimHostState } from '../../src/sim/state.js';

const FIXTURE = join(__dirname, '../../fixtures/hosts/single-gpu.json');
const GPU_HOSTDEV = `<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x0b' slot='0x00' function='0x0'/></source></hostdev>`;

function domainXml(parts: {
  memory?: string;
  backing?: string;
  os?: string;
  cpu?: string;
  extra?: string;
  root?: string;
}): string {
  return `<domain type='kvm'${parts.root ?? ''}>
  <name>big</name>
  <uuid>6b1c3a8e-3c1d-4c55-9a55-0d6a3c3f0b11</uuid>
  <memory unit='KiB'>${parts.memory ?? '33554432'}</memory>
  ${parts.backing ?? ''}
  ${parts.os ?? "<os firmware='efi'><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>"}
  ${parts.cpu ?? "<cpu mode='host-passthrough'/>"}
  ${parts.extra ?? ''}
  <devices>${GPU_HOSTDEV}</devices>
</domain>`;
}

/** The first line starting with `head` and the one after it (a finding and its fix); [] when none does. */
function warning(output: string[], head: string): string[] {
  const i = output.findIndex((l) => l.startsWith(head));
  return i < 0 ? [] : output.slice(i, i + 2);
}

async function lines(xml: string, tweak: (s: SimHostState) => void = () => {}): Promise<string[]> {
  const fx = await loadFixture(FIXTURE);
  tweak(fx as SimHostState);
  const k = new SimKernel(hostFromFixture(fx));
  const snap = await new HostReader(k).fullSnapshot();
  const checks = await startChecks({
    dp: readDomainPassthrough(xml),
    facts: readStartFacts(xml),
    snap,
    sysfs: k,
    libvirt: parseLibvirtVersion('9.0.0')!,
  });
  return checks.flatMap((c) => [
    `${c.status.toUpperCase()} ${c.title}: ${c.detail}`,
    ...(c.fix ? [`  fix: ${c.fix.debian}`] : []),
  ]);
}

describe('doctor start-time checks', () => {
  it('warns on 32 GiB pinned without memoryBacking, with the xmlfix fix; passes with allocation threads; silent under 16 GiB', async () => {
    const warn = await lines(domainXml({}));
    expect(warn.slice(0, 2)).toEqual([
      "WARN guest RAM pinned at start: 32 GiB and a passthrough device: vfio pins (and zeroes) all of it before the guest runs, about 5 s per 16 GiB; add <memoryBacking><allocation mode='immediate' threads='8'/></memoryBacking> (libvirt 8.2+), or <hugepages/> with hugepages reserved on the host",
      '  fix: xmlfix -i big.xml --memory-backing threads=8   # or: --memory-backing hugepages,threads=8',
    ]);
    const ok = await lines(
      domainXml({ backing: "<memoryBacking><allocation mode='immediate' threads='6'/></memoryBacking>" }),
    );
    expect(ok[0]).toBe('PASS guest RAM pinned at start: 32 GiB with <memoryBacking> <allocation> (6 threads)');
    const small = await lines(domainXml({ memory: '8388608' }));
    expect(small.some((l) => l.includes('pinned'))).toBe(false);
  });

  it('a 16 GiB BAR fits OVMF default window on 40 bits; a 32 GiB one does not, and the fix says what to set', async () => {
    const fits = await lines(domainXml({}));
    expect(fits).toContain(
      "PASS 64-bit BARs in the guest: 0000:0b:00.0 has a 16 GiB BAR; the 64-bit BARs need a 32 GiB window: OVMF's default window (32 GiB on edk2 before 2023), 40 physical address bits",
    );
    const big = (s: SimHostState) => {
      s.devices.find((d) => d.address === '0000:0b:00.0')!.bars![0]!.size = 32 * 1024 ** 3;
    };
    const tooBig = await lines(domainXml({}), big);
    expect(warning(tooBig, 'WARN 64-bit BARs')).toEqual([
      "WARN 64-bit BARs in the guest: 0000:0b:00.0 has a 32 GiB BAR; the 64-bit BARs need a 64 GiB window: OVMF's default window (32 GiB on edk2 before 2023) is too small; the guest sees the device without its BAR (Code 12, or no driver)",
      "  fix: virsh edit big   # <cpu …><maxphysaddr mode='passthrough'/></cpu>, and in <domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>: <qemu:commandline><qemu:arg value='-fw_cfg'/><qemu:arg value='opt/ovmf/X-PciMmio64Mb,string=131072'/></qemu:commandline>",
    ]);
    const set = await lines(
      domainXml({
        root: " xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'",
        cpu: "<cpu mode='host-passthrough'><maxphysaddr mode='emulate' bits='36'/></cpu>",
        extra:
          "<qemu:commandline><qemu:arg value='-fw_cfg'/><qemu:arg value='opt/ovmf/X-PciMmio64Mb,string=131072'/></qemu:commandline>",
      }),
      big,
    );
    expect(set.find((l) => l.includes('64-bit BARs'))).toBe(
      'WARN 64-bit BARs in the guest: 0000:0b:00.0 has a 32 GiB BAR; the 64-bit BARs need a 64 GiB window: 36 guest physical address bits cannot hold it; the guest sees the device without its BAR (Code 12, or no driver)',
    );
    const i440 = await lines(domainXml({ os: "<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>" }), big);
    expect(i440.some((l) => l.includes('64-bit BARs'))).toBe(false);
  });

  it('NUMA: a device on node 1 against a guest on node 0, then placed right, pinned per vCPU, by numad', async () => {
    const twoNodes = (s: SimHostState) => {
      s.files = {
        ...s.files,
        'sys/devices/system/node/node0/cpulist': '0-7\n',
        'sys/devices/system/node/node1/cpulist': '8-15\n',
      };
      s.devices.find((d) => d.address === '0000:0b:00.0')!.numaNode = 1;
    };
    const wrong = await lines(
      domainXml({
        extra: "<vcpu placement='static' cpuset='0-3'>4</vcpu><numatune><memory mode='strict' nodeset='0'/></numatune>",
      }),
      twoNodes,
    );
    expect(warning(wrong, 'WARN NUMA')).toEqual([
      'WARN NUMA placement of 0000:0b:00.0: 0000:0b:00.0 is on node 1 (CPUs 8-15) of 2: guest memory is on node(s) 0; vCPUs may run on CPUs 0,1,2,3 of other nodes: its DMA and interrupts cross nodes',
      "  fix: virsh edit big   # <vcpu placement='static' cpuset='8-15'>N</vcpu> and <numatune><memory mode='strict' nodeset='1'/></numatune>",
    ]);
    // the NUMA line for each placement: pinned on the device's node, pinned per vCPU with one off it
    // (<cputune><vcpupin>), and numad's
    const placements: [string, string][] = [
      [
        "<vcpu placement='static' cpuset='8-11'>4</vcpu><numatune><memory mode='strict' nodeset='1'/></numatune>",
        'PASS NUMA placement of 0000:0b:00.0: 0000:0b:00.0, guest memory and vCPUs on node 1 (CPUs 8-15)',
      ],
      [
        "<vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='8'/><vcpupin vcpu='1' cpuset='2'/></cputune><numatune><memory mode='strict' nodeset='1'/></numatune>",
        'WARN NUMA placement of 0000:0b:00.0: 0000:0b:00.0 is on node 1 (CPUs 8-15) of 2: vCPUs may run on CPUs 2 of other nodes: its DMA and interrupts cross nodes',
      ],
      [
        "<vcpu placement='auto'>4</vcpu><numatune><memory mode='strict' placement='auto'/></numatune>",
        "PASS NUMA placement of 0000:0b:00.0: 0000:0b:00.0 is on node 1; placement='auto' lets numad place the guest",
      ],
    ];
    for (const [extra, line] of placements)
      expect((await lines(domainXml({ extra }), twoNodes)).find((l) => l.includes('NUMA'))).toBe(line);
    expect((await lines(domainXml({}))).some((l) => l.includes('NUMA'))).toBe(false); // one node: nothing to say
  });

  it('iommufd: information only, with the libvirt version', async () => {
    expect((await lines(domainXml({}))).at(-1)).toBe(
      'PASS iommufd (information): no /dev/iommu: the kernel has no iommufd (CONFIG_IOMMUFD); VFIO works through /dev/vfio groups as always (libvirt 9.0.0)',
    );
    const withDev = await lines(domainXml({}), (s) => {
      s.files = { ...s.files, 'dev/iommu': '' };
    });
    expect(withDev.at(-1)).toMatch(/^PASS iommufd \(information\): \/dev\/iommu is there: .*libvirt 9\.0\.0: whether/);
  });

  it('reads resource BAR flags and CPU lists as the kernel writes them', () => {
    const r = [
      '0x0000007000000000 0x00000073ffffffff 0x000000000014220c',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x00000000e0000000 0x00000000e00fffff 0x0000000000040200',
    ].join('\n');
    expect(bar64Sizes(r)).toEqual([16 * 1024 ** 3]);
    expect(parseCpuList('0-3,8,10-11,^2')).toEqual([0, 1, 3, 8, 10, 11]);
  });
});
