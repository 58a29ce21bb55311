// The per-device `uevent` attribute: the simulator prints it as the kernel does (dev_uevent +
// pci_uevent), and HostReader takes vendor, device, class, subsystem ids and driver from it in one
// read, falling back to one read per attribute on a tree without it (or with a garbled one).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimKernel } from '../../src/sim/kernel.js';
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
import { materialize } from '../../src/sim/materialize.js';
import { NodeSysfs } from '../../src/host/node-sysfs.js';
import { HostReader } from '../../src/host/reader.js';
import { idsFromUevent } from '../../src/host/uevent.js';
import { pciUevent } from '../../src/sim/uevent.js';
import type { SimHostState } from '../../src/sim/state.js';

const sim = (name: string) => new SimKernel(hostFromFixture(structuredClone(EMBEDDED_FIXTURES[name]) as SimHostState));
const ue = (k: SimKernel, a: string) => k.read(`sys/bus/pci/devices/${a}/uevent`);

describe('uevent of a PCI device in the simulator', () => {
  it('is the kernel text: DRIVER= while bound, %04X class without 0x or padding to 6, upper-case ids, MODALIAS', async () => {
    const k = sim('workstation');
    expect(await ue(k, '0000:02:00.0')).toBe(
      'DRIVER=nvme\nPCI_CLASS=10802\nPCI_ID=144D:A808\nPCI_SUBSYS_ID=144D:A801\nPCI_SLOT_NAME=0000:02:00.0\nMODALIAS=pci:v0000144Dd0000A808sv0000144Dsd0000A801bc01sc08i02\n',
    );
    expect(await ue(k, '0000:04:00.0')).toBe(
      'DRIVER=xhci_hcd\nPCI_CLASS=C0330\nPCI_ID=1B21:1242\nPCI_SUBSYS_ID=1B21:0000\nPCI_SLOT_NAME=0000:04:00.0\nMODALIAS=pci:v00001B21d00001242sv00001B21sd00000000bc0Csc03i30\n',
    );
    // no driver: no DRIVER= line (dev_uevent adds it only while dev->driver is set)
    expect(await ue(k, '0000:00:14.2')).toBe(
      'PCI_CLASS=50000\nPCI_ID=8086:A36F\nPCI_SUBSYS_ID=8086:0000\nPCI_SLOT_NAME=0000:00:14.2\nMODALIAS=pci:v00008086d0000A36Fsv00008086sd00000000bc05sc00i00\n',
    );
    expect(await k.list('sys/bus/pci/devices/0000:02:00.0')).toContain('uevent');
  });

  it('matches what a real kernel printed (6.18, read from /sys of a KVM guest)', () => {
    expect(
      pciUevent({
        address: '0000:00:00.0',
        vendor: '8086',
        device: '0d57',
        class: '060000',
        subsystemVendor: '0000',
        subsystemDevice: '0000',
      }),
    ).toBe(
      'PCI_CLASS=60000\nPCI_ID=8086:0D57\nPCI_SUBSYS_ID=0000:0000\nPCI_SLOT_NAME=0000:00:00.0\nMODALIAS=pci:v00008086d00000D57sv00000000sd00000000bc06sc00i00\n',
    );
    expect(
      pciUevent({
        address: '0000:00:01.0',
        vendor: '1af4',
        device: '1045',
        class: 'ffff00',
        subsystemVendor: '1af4',
        subsystemDevice: '1045',
        driver: 'virtio-pci',
      }),
    ).toBe(
      'DRIVER=virtio-pci\nPCI_CLASS=FFFF00\nPCI_ID=1AF4:1045\nPCI_SUBSYS_ID=1AF4:1045\nPCI_SLOT_NAME=0000:00:01.0\nMODALIAS=pci:v00001AF4d00001045sv00001AF4sd00001045bcFFscFFi00\n',
    );
  });

  it('follows the driver: gone after unbind, vfio-pci after an override and probe', async () => {
    const k = sim('workstation');
    await k.write('sys/bus/pci/devices/0000:01:00.1/driver_override', 'vfio-pci');
    await k.write('sys/bus/pci/devices/0000:01:00.1/driver/unbind', '0000:01:00.1');
    expect(await ue(k, '0000:01:00.1')).not.toContain('DRIVER=');
    await k.write('sys/bus/pci/drivers_probe', '0000:01:00.1');
    expect((await ue(k, '0000:01:00.1')).split('\n')[0]).toBe('DRIVER=vfio-pci');
  });
});

describe('idsFromUevent', () => {
  it('reads lower-case ids and a 6-digit class', () => {
    expect(
      idsFromUevent(
        'DRIVER=nvme\nPCI_CLASS=10802\nPCI_ID=144D:A808\nPCI_SUBSYS_ID=144D:A801\nPCI_SLOT_NAME=0000:02:00.0\n',
      ),
    ).toEqual({
      vendor: '144d',
      device: 'a808',
      class: '010802',
      subsystemVendor: '144d',
      subsystemDevice: 'a801',
      driver: 'nvme',
    });
    expect(idsFromUevent('PCI_CLASS=0000\nPCI_ID=1AF4:1000\n')).toEqual({
      vendor: '1af4',
      device: '1000',
      class: '000000',
    });
    // a driver name that is a path is not taken
    for (const bad of ['..', '.', '../../x', ''])
      expect(idsFromUevent(`DRIVER=${bad}\nPCI_CLASS=30000\nPCI_ID=10DE:1B80\n`)?.driver).toBeUndefined();
  });

  it('gives up (the caller reads the attributes) when PCI_ID or PCI_CLASS is missing or garbled', () => {
    expect(idsFromUevent('')).toBeUndefined();
    expect(idsFromUevent('PCI_CLASS=30000\n')).toBeUndefined();
    expect(idsFromUevent('PCI_ID=10DE:1B80\n')).toBeUndefined();
    expect(idsFromUevent('PCI_CLASS=3000000\nPCI_ID=10DE:1B80\n')).toBeUndefined();
    expect(idsFromUevent('PCI_CLASS=30000\nPCI_ID=10DE-1B80\n')).toBeUndefined();
  });
});

describe('HostReader with and without uevent', () => {
  it('reads the same snapshot from a tree whose devices have no uevent, and reads fewer entries with it', async () => {
    const k = sim('workstation');
    await k.write('sys/bus/pci/devices/0000:03:00.0/sriov_numvfs', '2');
    const dir = mkdtempSync(join(tmpdir(), 'passthru-uevent-'));
    try {
      await materialize(k, dir);
      const withUevent = await new HostReader(new NodeSysfs(dir)).fullSnapshot();
      const devices = join(dir, 'sys/bus/pci/devices');
      for (const a of readdirSync(devices)) unlinkSync(join(devices, a, 'uevent'));
      const without = await new HostReader(new NodeSysfs(dir)).fullSnapshot();
      expect(without).toEqual(withUevent);
      expect(without).toEqual(await new HostReader(k).fullSnapshot());
      // a garbled uevent is not trusted: the attributes answer
      writeFileSync(join(devices, '0000:01:00.0', 'uevent'), 'PCI_CLASS=zz\n');
      expect((await new HostReader(new NodeSysfs(dir)).fullSnapshot()).devices['0000:01:00.0']).toEqual(
        withUevent.devices['0000:01:00.0'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    k.reads = 0;
    await new HostReader(k).device('0000:02:00.0');
    expect(k.reads).toBe(4); // the directory, uevent, driver_override, iommu_group (9 one attribute at a time)
  });
});
