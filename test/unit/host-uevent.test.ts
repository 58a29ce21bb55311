// The per-device `uevent` attribute: the simulator prints it as the kernel does (dev_uevent +
// pci_uevent). HostReader never reads it (its show takes the device lock: src/host/device-lock.ts).
import { describe, expect, it } from 'vitest';
import { SimKernel } from '../../src/sim/kernel.js';
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
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
