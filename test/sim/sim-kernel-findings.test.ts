// The simulator pinned to what the real 6.1 kernel did in the lab (test/lab/FINDINGS.md), on the very
// host the lab booted (test/lab/lab-host.sim.json).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimKernel } from '../../src/sim/kernel.js';
import { hostFromFixture } from '../../src/sim/fixture.js';
import type { SimHostState } from '../../src/sim/state.js';

const labHost = join(dirname(fileURLToPath(import.meta.url)), '..', 'lab', 'lab-host.sim.json');
const boot = () => new SimKernel(hostFromFixture(JSON.parse(readFileSync(labHost, 'utf8')) as SimHostState));
const UUID = '8a0ed2a4-5b7c-4d1e-9f00-0123456789ab';

describe('sim follows the real kernel (lab findings)', () => {
  it('a created mtty mdev is bound to the mtty mdev driver, not vfio_mdev', async () => {
    const k = boot();
    await k.write('sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create', UUID);
    expect(await k.readlink(`sys/bus/mdev/devices/${UUID}/driver`)).toBe('../../../../../bus/mdev/drivers/mtty');
  });

  it('sriov_vf_device reads %x: no 0x, no leading zeros', async () => {
    const k = boot();
    expect(await k.read('sys/bus/pci/devices/0000:04:00.0/sriov_vf_device')).toBe('10\n');
    expect(await k.read('sys/bus/pci/devices/0000:04:00.0/device')).toBe('0x0010\n');
  });
});
