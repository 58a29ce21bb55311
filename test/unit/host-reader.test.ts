// HostReader on the simulator and on a materialized tree (NodeSysfs on the real layout): both must
// give the same snapshot; snapshotFor reads a bounded number of entries whatever the host size.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, symlinkSync, mkdirSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimKernel } from '../../src/sim/kernel.js';
import { hostFromFixture } from '../../src/sim/fixture.js';
import { generateHost } from '../../src/sim/generate.js';
import { materialize } from '../../src/sim/materialize.js';
import { NodeSysfs } from '../../src/host/node-sysfs.js';
import { HostReader, overrideShown } from '../../src/host/reader.js';
import { idsFromModalias } from '../../src/host/pci-device.js';
import { readTakesDeviceLock } from '../../src/host/device-lock.js';
import type { Sysfs } from '../../src/host/sysfs.js';
import { className } from '../../src/host/class-names.js';
import { errnoOf, simFixture } from '../support/sim.js';

const sim = (name: string) => simFixture(name);
const code = errnoOf;

describe('HostReader', () => {
  it('reads the workstation: groups, drivers, SR-IOV, netdevs, mdev types, boot VGA', async () => {
    const k = sim('workstation');
    await k.write('sys/bus/pci/devices/0000:03:00.0/sriov_numvfs', '2');
    const r = new HostReader(k);
    const s = await r.fullSnapshot();
    expect(s.kernel).toBe('6.1.0-28-amd64');
    expect(s.groups[3]).toEqual(['0000:01:00.0', '0000:01:00.1']);
    expect(s.groups[7]).toEqual(['0000:00:1c.0', '0000:04:00.0']);
    expect(s.devices['0000:00:1c.0']!.isBridge).toBe(true);
    expect(s.devices['0000:01:00.0']).toMatchObject({
      vendor: '10de',
      device: '1b80',
      class: '030000',
      driver: 'nouveau',
      iommuGroup: 3,
      isBridge: false,
    });
    expect(s.devices['0000:00:02.0']!.bootVga).toBe(true);
    expect(s.devices['0000:00:02.0']!.mdevTypes!.map((t) => [t.id, t.availableInstances])).toEqual([
      ['i915-GVTg_V5_4', 2],
      ['i915-GVTg_V5_8', 4],
    ]);
    expect(s.devices['0000:03:00.0']!.sriov).toMatchObject({
      totalVfs: 7,
      numVfs: 2,
      offset: 128,
      stride: 4,
      vfDevice: '1520',
      vfs: ['0000:03:10.0', '0000:03:10.4'],
    });
    expect(s.devices['0000:03:10.4']).toMatchObject({ physfn: '0000:03:00.0', vfIndex: 1, driver: 'igbvf' });
    expect(s.netdevs.enp3s0f0).toBe('0000:03:00.0');
    expect(s.devices['0000:00:14.2']!.driver).toBeUndefined();
  });

  it('finds a PF by netdev and mdevs by UUID', async () => {
    const k = sim('server');
    const u = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
    await k.write('sys/class/mdev_bus/0000:af:00.0/mdev_supported_types/nvidia-222/create', u);
    const r = new HostReader(k);
    expect(await r.pfOfNetdev('ens1f0')).toBe('0000:3b:00.0');
    expect(await r.pfOfNetdev('../../x')).toBeUndefined();
    expect(await r.mdev(u)).toEqual({ uuid: u, parent: '0000:af:00.0', type: 'nvidia-222' });
    expect(await r.mdev('ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee')).toBeUndefined();
    expect((await r.vfsOf('0000:3b:00.0')).length).toBe(8);
    expect((await r.mdevTypes('0000:af:00.0'))!.find((t) => t.id === 'nvidia-222')!.availableInstances).toBe(15);
  });

  it('snapshotFor reads only the asked devices, their group peers and VFs', async () => {
    const k = sim('workstation');
    const s = await new HostReader(k).snapshotFor({
      addresses: ['0000:01:00.0'],
      netdevs: ['enp3s0f1'],
      mdevParents: ['0000:00:02.0'],
    });
    expect(Object.keys(s.devices)).toEqual([
      '0000:00:02.0',
      '0000:01:00.0',
      '0000:01:00.1',
      '0000:03:00.0',
      '0000:03:00.1',
    ]);
    expect(s.netdevs.enp3s0f1).toBe('0000:03:00.1');
    expect(Object.keys(s.groups)).toEqual(['1', '3', '5']);
  });

  it('snapshotFor costs the same number of reads on a 100- and a 3000-device host', async () => {
    const cost = async (n: number) => {
      const k = new SimKernel(hostFromFixture(generateHost(n)));
      k.reads = 0;
      await new HostReader(k).snapshotFor({ addresses: ['0000:01:00.0'], netdevs: ['enp2s0f0d0'] });
      return k.reads;
    };
    const small = await cost(100);
    expect(small).toBeGreaterThan(5);
    expect(await cost(3000)).toBe(small);
  });

  it('gives the same full snapshot from the simulator and from its materialized tree', async () => {
    for (const name of ['workstation', 'server']) {
      const k = sim(name);
      if (name === 'workstation') {
        await k.write('sys/bus/pci/devices/0000:03:00.0/sriov_numvfs', '3');
        await k.write(
          'sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_8/create',
          '12345678-1234-1234-1234-123456789abc',
        );
        await k.write('sys/bus/pci/devices/0000:01:00.1/driver_override', 'vfio-pci');
        await k.write('sys/bus/pci/devices/0000:01:00.1/driver/unbind', '0000:01:00.1');
        await k.write('sys/bus/pci/drivers_probe', '0000:01:00.1');
      }
      const dir = mkdtempSync(join(tmpdir(), `passthru-mat-${name}-`));
      await materialize(k, dir);
      const fromSim = await new HostReader(k).fullSnapshot();
      const fromTree = await new HostReader(new NodeSysfs(dir)).fullSnapshot();
      expect(fromTree).toEqual(fromSim);
      expect(Object.keys(fromTree.devices).length).toBe(k.state.devices.length);
    }
  });
});

/** A Sysfs that records every path read, listed or linked, in front of `inner`. */
function recording(inner: Sysfs): { sysfs: Sysfs; paths: string[] } {
  const paths: string[] = [];
  const sysfs: Sysfs = {
    read: (p) => (paths.push(p), inner.read(p)),
    list: (p) => (paths.push(p), inner.list(p)),
    readlink: (p) => (paths.push(p), inner.readlink(p)),
    exists: (p) => (paths.push(p), inner.exists(p)),
    write: (p, d) => inner.write(p, d),
  };
  return { sysfs, paths };
}

describe('HostReader and the device lock', () => {
  it('fullSnapshot reads no lock-taking attribute, except driver_override of a driverless or stub-bound device', async () => {
    const k = sim('workstation');
    await k.write('sys/bus/pci/devices/0000:03:00.0/sriov_numvfs', '2');
    await k.write('sys/bus/pci/devices/0000:01:00.1/driver_override', 'vfio-pci');
    await k.write('sys/bus/pci/devices/0000:01:00.1/driver/unbind', '0000:01:00.1');
    await k.write('sys/bus/pci/drivers_probe', '0000:01:00.1');
    const { sysfs, paths } = recording(k);
    const s = await new HostReader(sysfs).fullSnapshot();
    const locked = paths.filter(readTakesDeviceLock).sort();
    const expected = Object.values(s.devices)
      .filter(overrideShown)
      .map((d) => `sys/bus/pci/devices/${d.address}/driver_override`)
      .sort();
    expect(locked).toEqual(expected);
    expect(expected).toContain('sys/bus/pci/devices/0000:01:00.1/driver_override'); // on vfio-pci
    expect(expected).toContain('sys/bus/pci/devices/0000:00:14.2/driver_override'); // no driver
    expect(s.devices['0000:01:00.1']!.driverOverride).toBe('vfio-pci');
    // the VF count from the virtfn links, as sriov_numvfs says
    expect(s.devices['0000:03:00.0']!.sriov!.numVfs).toBe(2);
    // a device on its host driver: its override is not read
    expect(paths).not.toContain('sys/bus/pci/devices/0000:01:00.0/driver_override');
  });

  it('snapshotFor reads driver_override and sriov_numvfs of every device it holds (the planner records them for undo)', async () => {
    const k = sim('workstation');
    await k.write('sys/bus/pci/devices/0000:01:00.0/driver_override', 'vfio-pci'); // set, still on nouveau
    const { sysfs, paths } = recording(k);
    const s = await new HostReader(sysfs).snapshotFor({ addresses: ['0000:01:00.0', '0000:03:00.0'] });
    expect(s.devices['0000:01:00.0']!.driverOverride).toBe('vfio-pci');
    for (const a of Object.keys(s.devices)) expect(paths).toContain(`sys/bus/pci/devices/${a}/driver_override`);
    expect(paths).toContain('sys/bus/pci/devices/0000:03:00.0/sriov_numvfs');
    expect(paths.filter((p) => p.endsWith('/uevent'))).toEqual([]);
  });

  it('takes the ids from modalias where the tree has it (a real kernel always does), else from their files', async () => {
    const k = sim('server');
    const dir = mkdtempSync(join(tmpdir(), 'passthru-modalias-'));
    await materialize(k, dir);
    const without = await new HostReader(new NodeSysfs(dir)).fullSnapshot();
    const devices = join(dir, 'sys/bus/pci/devices');
    for (const a of readdirSync(devices)) {
      const m = /^MODALIAS=(.*)$/m.exec(readFileSync(join(devices, a, 'uevent'), 'utf8'))![1]!;
      writeFileSync(join(devices, a, 'modalias'), `${m}\n`);
      // the id files now disagree: only a reader that takes modalias still gives the snapshot above
      for (const f of ['vendor', 'device', 'class']) writeFileSync(join(devices, a, f), '0xffff\n');
    }
    expect(await new HostReader(new NodeSysfs(dir)).fullSnapshot()).toEqual(without);
    expect(idsFromModalias('pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00\n')).toEqual({
      vendor: '8086',
      device: '100e',
      class: '020000',
    });
    // anything else is not trusted: the files answer
    writeFileSync(join(devices, '0000:3b:00.0', 'modalias'), 'pci:v8086\n');
    expect((await new HostReader(new NodeSysfs(dir)).fullSnapshot()).devices['0000:3b:00.0']!.vendor).toBe('ffff');
  });
});

describe('NodeSysfs', () => {
  it('reads the materialized layout with the kernel spelling of values and links', async () => {
    const k = sim('workstation');
    const dir = mkdtempSync(join(tmpdir(), 'passthru-mat-'));
    await materialize(k, dir);
    const s = new NodeSysfs(dir);
    expect(await s.read('sys/bus/pci/devices/0000:01:00.0/vendor')).toBe('0x10de\n');
    expect(await s.readlink('sys/bus/pci/devices/0000:01:00.0/driver')).toBe('../../../../bus/pci/drivers/nouveau');
    expect(await s.list('sys/bus/pci/devices/0000:01:00.0/iommu_group/devices')).toEqual([
      '0000:01:00.0',
      '0000:01:00.1',
    ]);
    expect(await s.list('sys/bus/pci/drivers/nouveau')).toContain('0000:01:00.0');
    expect(
      await s.read('sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/available_instances'),
    ).toBe('2\n');
    expect(await s.exists('sys/bus/pci/devices/0000:09:00.0')).toBe(false);
    await s.write('sys/bus/pci/devices/0000:01:00.0/driver_override', 'vfio-pci');
    expect(readFileSync(join(dir, 'sys/bus/pci/devices/0000:01:00.0/driver_override'), 'utf8')).toBe('vfio-pci');
    expect(await code(s.write('sys/bus/pci/devices/0000:01:00.0/new_attr', 'x'))).toBe('ENOENT'); // never creates files
  });

  it('refuses paths that leave the root, and writes that symlinks carry outside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'passthru-root-'));
    const outside = mkdtempSync(join(tmpdir(), 'passthru-outside-'));
    writeFileSync(join(outside, 'victim'), 'keep');
    mkdirSync(join(dir, 'sys'));
    symlinkSync(join(outside, 'victim'), join(dir, 'sys', 'evil'));
    const s = new NodeSysfs(dir);
    for (const p of ['../x', '/etc/passwd', 'sys/../../x', 'sys/\0', '', 'sys/./evil']) {
      expect(await code(s.read(p))).toBe('EINVAL');
      expect(await code(s.write(p, 'x'))).toBe('EINVAL');
    }
    expect(await code(s.write('sys/evil', 'pwned'))).toBe('EACCES');
    expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('keep');
  });
});

describe('className', () => {
  it('names classes like lspci, falling back to the base class', () => {
    expect(className('030000')).toBe('VGA compatible controller');
    expect(className('0x040300')).toBe('Audio device');
    expect(className('0c0330')).toBe('USB controller');
    expect(className('010802')).toBe('Non-Volatile memory controller');
    expect(className('0d1100')).toBe('Wireless controller');
    expect(className('ff0000')).toBe('Class ff00');
  });
});
