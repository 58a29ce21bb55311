// Host facts that protect devices, detected from a materialized host tree (real files and symlinks
// laid out as the kernel does), read through a file-backed Sysfs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Sysfs } from '../../src/host/sysfs.js';
import { detectHostFacts } from '../../src/exec/host-facts.js';

let root: string;
const fileSysfs = (r: string): Sysfs => ({
  read: async (p) => readFileSync(join(r, p), 'utf8'),
  list: async (p) => readdirSync(join(r, p)).sort(),
  readlink: async (p) => readlinkSync(join(r, p)),
  exists: async (p) => existsSync(join(r, p)),
  write: async () => {
    throw new Error('facts must not write');
  },
});
const put = (p: string, text: string): void => {
  mkdirSync(dirname(join(root, p)), { recursive: true });
  writeFileSync(join(root, p), text);
};
const link = (p: string, target: string): void => {
  mkdirSync(dirname(join(root, p)), { recursive: true });
  symlinkSync(target, join(root, p));
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'passthru-facts-'));
  // root on LVM over an NVMe partition: / -> dm-0 -> slaves/nvme0n1p2 -> 0000:00:1d.0/0000:3d:00.0
  put('proc/mounts', 'sysfs /sys sysfs rw 0 0\n/dev/mapper/vg-root / ext4 rw,relatime 0 0\ntmpfs /run tmpfs rw 0 0\n');
  link('sys/class/block/dm-0', '../../devices/virtual/block/dm-0');
  put('sys/devices/virtual/block/dm-0/dm/name', 'vg-root\n');
  link(
    'sys/devices/virtual/block/dm-0/slaves/nvme0n1p2',
    '../../../../pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/nvme0n1p2',
  );
  link('sys/class/block/nvme0n1p2', '../../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/nvme0n1p2');
  // default route on a bridge whose port is a PCI NIC
  put(
    'proc/net/route',
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nbr0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\nbr0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n',
  );
  mkdirSync(join(root, 'sys/class/net/br0/brif/enp5s0'), { recursive: true });
  link('sys/class/net/enp5s0', '../../devices/pci0000:00/0000:00:1c.0/0000:05:00.0/net/enp5s0');
  link('sys/devices/pci0000:00/0000:00:1c.0/0000:05:00.0/net/enp5s0/device', '../../../0000:05:00.0');
  // two displays, no serial console
  for (const [d, cls] of [
    ['0000:00:02.0', '0x030000'],
    ['0000:01:00.0', '0x030000'],
    ['0000:05:00.0', '0x020000'],
  ])
    put(`sys/bus/pci/devices/${d}/class`, `${cls}\n`);
  put('proc/cmdline', 'BOOT_IMAGE=/vmlinuz root=/dev/mapper/vg-root quiet\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('host facts', () => {
  it('finds the root disk controller through LVM, the default-route NIC through a bridge, and the displays', async () => {
    const facts = await detectHostFacts(fileSysfs(root), { displays: true });
    expect(facts).toEqual({
      rootDiskDevices: ['0000:00:1d.0', '0000:3d:00.0'],
      defaultRouteDevices: ['0000:05:00.0'],
      displayDevices: ['0000:00:02.0', '0000:01:00.0'],
      serialConsole: false,
    });
  });

  it('yields no facts where the host has no such files (nothing is guessed)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'passthru-facts-empty-'));
    try {
      expect(await detectHostFacts(fileSysfs(empty), { displays: true })).toEqual({
        rootDiskDevices: [],
        defaultRouteDevices: [],
        displayDevices: [],
        serialConsole: false,
      });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
