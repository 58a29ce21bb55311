// A non-PCI mdev parent (the kernel's mtty sample, as the lab uses it): types under
// class/mdev_bus/mtty, mdevs created and removed there, read by HostReader from sim and tree alike.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimKernel } from '../../src/sim/kernel.js';
import { hostFromFixture } from '../../src/sim/fixture.js';
import { generateHost } from '../../src/sim/generate.js';
import { materialize } from '../../src/sim/materialize.js';
import { HostReader } from '../../src/host/reader.js';
import { NodeSysfs } from '../../src/host/node-sysfs.js';

const U = '0c3f2a10-1111-4222-8333-944445555666';

describe('non-PCI mdev parent', () => {
  it('creates and removes an mtty mdev; sim and materialized tree agree', async () => {
    const h = generateHost(4);
    h.mdevParents = [
      {
        name: 'mtty',
        types: [
          { id: 'mtty-1', name: 'Single port serial', deviceApi: 'vfio-pci', availableInstances: 24 },
          { id: 'mtty-2', name: 'Dual port serial', deviceApi: 'vfio-pci', availableInstances: 12 },
        ],
      },
    ];
    const k = new SimKernel(hostFromFixture(h));
    expect(await k.list('sys/class/mdev_bus')).toEqual(['mtty']);
    expect(await k.readlink('sys/class/mdev_bus/mtty')).toBe('../../devices/virtual/mtty/mtty');
    expect(await k.list('sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1')).not.toContain('description');
    await k.write('sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create', U);
    expect(await k.readlink(`sys/bus/mdev/devices/${U}`)).toBe(`../../../devices/virtual/mtty/mtty/${U}`);
    const r = new HostReader(k);
    expect(await r.mdev(U)).toEqual({ uuid: U, parent: 'mtty', type: 'mtty-2' });
    const snap = await r.fullSnapshot();
    expect(snap.mdevParents!.mtty!.find((t) => t.id === 'mtty-2')!.availableInstances).toBe(11);
    const dir = mkdtempSync(join(tmpdir(), 'passthru-mtty-'));
    await materialize(k, dir);
    expect(await new HostReader(new NodeSysfs(dir)).fullSnapshot()).toEqual(snap);
    await k.write(`sys/bus/mdev/devices/${U}/remove`, '1');
    expect(await k.list('sys/bus/mdev/devices')).toEqual([]);
    expect(await k.read('sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/available_instances')).toBe('12\n');
  });
});
