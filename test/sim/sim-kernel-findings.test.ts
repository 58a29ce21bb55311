// The simulator pinned to what the real 6.1 kernel did in the lab (test/lab/FINDINGS.md), on the very
// host the lab booted (test/lab/lab-host.sim.json).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimKernel } from '../../src/sim/kernel.js';
import { HostReader } from '../../src/host/reader.js';
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
import type { SimHostState } from '../../src/sim/state.js';

const labHost = join(dirname(fileURLToPath(import.meta.url)), '..', 'lab', 'lab-host.sim.json');
const boot = () => new SimKernel(hostFromFixture(JSON.parse(readFileSync(labHost, 'utf8')) as SimHostState));
const UUID = '8a0ed2a4-5b7c-4d1e-9f00-0123456789ab';
/** What the lab's real kernel answered (test/lab/kernel-facts.jsonl) to `op` on a path matching `path`. */
function labFact(label: string, op: string, path: RegExp): unknown {
  const facts = readFileSync(join(dirname(labHost), 'kernel-facts.jsonl'), 'utf8')
    .trim()
    .split('\n');
  const fact = facts
    .map((l) => JSON.parse(l) as { label: string; op: string; path: string; value: unknown })
    .find((f) => f.label === label && f.op === op && path.test(f.path));
  if (!fact) throw new Error(`no lab fact ${label} ${op} ${path}`);
  return fact.value;
}

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

const PF = '0000:04:00.0'; // QEMU's nvme with sriov_max_vfs=2
const E1000 = '0000:03:01.0'; // behind the pcie-pci-bridge, group 9 with 03:02.0 (edu) and 03:03.0
const pci = (a: string, attr: string) => `sys/bus/pci/devices/${a}/${attr}`;
const types = 'sys/class/mdev_bus/mtty/mdev_supported_types';
const errno = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? String(e),
  );
/** Whether p is still pending after the event loop has run everything that was ready. */
async function pending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((r) => setImmediate(r));
  return !settled;
}
const onVfio = async (k: SimKernel, a: string) => {
  await k.write(pci(a, 'driver_override'), 'vfio-pci');
  await k.write(pci(a, 'driver/unbind'), a);
  await k.write('sys/bus/pci/drivers_probe', a);
  expect(await k.readlink(pci(a, 'driver'))).toMatch(/\/vfio-pci$/);
};

describe('PF unbind with VFs (FINDINGS 1)', () => {
  it('nvme leaves SR-IOV enabled: the VFs stay, sriov_numvfs writes fail with ENOENT until a driver is bound', async () => {
    const k = boot();
    await k.write(pci(PF, 'sriov_numvfs'), '2');
    await k.write(pci(PF, 'driver/unbind'), PF);
    expect(await k.read(pci(PF, 'sriov_numvfs'))).toBe('2\n');
    expect(await k.list('sys/bus/pci/devices')).toEqual(expect.arrayContaining(['0000:04:00.1', '0000:04:00.2']));
    expect(await k.readlink(pci(PF, 'virtfn1'))).toBe('../0000:04:00.2');
    expect(await errno(k.write(pci(PF, 'sriov_numvfs'), '0'))).toBe('ENOENT');
    expect(await errno(k.write(pci(PF, 'sriov_numvfs'), '1'))).toBe('ENOENT');
    // re-probing the PF finds the VFs still there, and then the count can change again
    await k.write('sys/bus/pci/drivers_probe', PF);
    expect(await k.read(pci(PF, 'sriov_numvfs'))).toBe('2\n');
    await k.write(pci(PF, 'sriov_numvfs'), '0');
    expect(await k.exists(pci('0000:04:00.1', 'vendor'))).toBe(false);
  });

  it('a PF driver that disables SR-IOV in its remove (the fixture says so: igb) takes the VFs with it', async () => {
    const k = new SimKernel(hostFromFixture(structuredClone(EMBEDDED_FIXTURES.workstation) as SimHostState));
    const igb = '0000:03:00.0';
    expect(k.device(igb)!.sriov!.disableOnUnbind).toBe(true);
    await k.write(pci(igb, 'sriov_numvfs'), '2');
    await k.write(pci(igb, 'driver/unbind'), igb);
    expect(await k.read(pci(igb, 'sriov_numvfs'))).toBe('0\n');
    expect(await k.exists(pci('0000:03:10.0', 'vendor'))).toBe(false);
  });

  it('vfio-pci refuses a PF with SR-IOV enabled: drivers_probe leaves it driverless, bind says EBUSY', async () => {
    const k = boot();
    await k.write(pci(PF, 'sriov_numvfs'), '2');
    await k.write(pci(PF, 'driver_override'), 'vfio-pci');
    await k.write(pci(PF, 'driver/unbind'), PF);
    await k.write('sys/bus/pci/drivers_probe', PF);
    expect(await errno(k.readlink(pci(PF, 'driver')))).toBe('ENOENT');
    expect(await errno(k.write('sys/bus/pci/drivers/vfio-pci/bind', PF))).toBe('EBUSY');
    expect(await k.read(pci(PF, 'sriov_numvfs'))).toBe('2\n');
  });

  it('vfio-pci does not configure SR-IOV (enable_sriov is off by default): ENOENT', async () => {
    const k = boot();
    await onVfio(k, PF);
    expect(await errno(k.write(pci(PF, 'sriov_numvfs'), '1'))).toBe('ENOENT');
  });
});

describe('mdev types of one parent share a pool (FINDINGS 2)', () => {
  it('one mtty-2 takes 2 of 24 ports: mtty-1 24 -> 22, mtty-2 12 -> 11; at exhaustion both read 0', async () => {
    const k = boot();
    const avail = async () => [
      await k.read(`${types}/mtty-1/available_instances`),
      await k.read(`${types}/mtty-2/available_instances`),
    ];
    expect(await avail()).toEqual(['24\n', '12\n']);
    await k.write(`${types}/mtty-2/create`, UUID);
    expect(await avail()).toEqual(['22\n', '11\n']);
    const more = Array.from({ length: 11 }, (_, i) => `8a0ed2a4-5b7c-4d1e-9f00-${String(i).padStart(12, '0')}`);
    for (const u of more) await k.write(`${types}/mtty-2/create`, u);
    expect(await avail()).toEqual(['0\n', '0\n']);
    expect(await errno(k.write(`${types}/mtty-1/create`, '8a0ed2a4-5b7c-4d1e-9f00-aaaaaaaaaaaa'))).toBe('ENOSPC');
    await k.write(`sys/bus/mdev/devices/${UUID}/remove`, '1');
    expect(await avail()).toEqual(['2\n', '1\n']);
  });

  it('a parent without a pool keeps a count per type', async () => {
    const h = JSON.parse(readFileSync(labHost, 'utf8')) as SimHostState;
    delete h.mdevParents![0]!.capacity;
    const k = new SimKernel(hostFromFixture(h));
    await k.write(`${types}/mtty-2/create`, UUID);
    expect([
      await k.read(`${types}/mtty-1/available_instances`),
      await k.read(`${types}/mtty-2/available_instances`),
    ]).toEqual(['24\n', '11\n']);
  });
});

describe('mdev device directory (FINDINGS 4)', () => {
  it('lists what 6.1 lists, with subsystem, uevent and the vendor group as real nodes', async () => {
    const k = boot();
    await k.write(`${types}/mtty-1/create`, UUID);
    const d = `sys/bus/mdev/devices/${UUID}`;
    expect(await k.list(d)).toEqual(labFact('mdev-one', 'list', /^\/sys\/bus\/mdev\/devices\/[^/]+$/));
    expect(await k.readlink(`${d}/subsystem`)).toBe('../../../../../bus/mdev');
    expect(await k.list(`${d}/subsystem/devices`)).toEqual([UUID]);
    expect(await k.read(`${d}/uevent`)).toBe('DRIVER=mtty\n');
    expect(await k.read(`${d}/vendor/sample_mdev_dev`)).toBe(`This is MDEV ${UUID}\n`);
    expect(await k.list(`${d}/power`)).toEqual([]);
    expect(await k.list(`${d}/vfio-dev`)).toEqual([]);
  });
});

describe('unbind of a device qemu holds through vfio-pci (FINDINGS 6)', () => {
  it('the write blocks until qemu exits; meanwhile driver is gone, the driver lists it no more, driver_override reads block', async () => {
    const k = boot();
    await onVfio(k, E1000);
    const group = k.device(E1000)!.iommuGroup!;
    k.setInUse(E1000, true);
    const unbind = k.write(pci(E1000, 'driver/unbind'), E1000);
    expect(await pending(unbind)).toBe(true);
    expect(await errno(k.readlink(pci(E1000, 'driver')))).toBe('ENOENT');
    expect(await k.list(`sys/bus/pci/devices/${E1000}`)).not.toContain('driver');
    expect(await k.list('sys/bus/pci/drivers/vfio-pci')).not.toContain(E1000);
    expect(await k.list('dev/vfio')).toContain(String(group)); // vfio still holds the group
    expect(await k.read(pci(E1000, 'vendor'))).toBe('0x8086\n');
    const override = k.read(pci(E1000, 'driver_override'));
    expect(await pending(override)).toBe(true); // the device lock
    const viaNet = k.read('sys/class/net/eth3/device/driver_override'); // another device: not blocked
    expect(await viaNet).toBe('(null)\n');
    expect(await pending(k.write(pci(E1000, 'driver_override'), '\n'))).toBe(true);
    // drivers_probe sees a driver still attached in the kernel and does nothing
    await k.write('sys/bus/pci/drivers_probe', E1000);
    // qemu exits: the unbind returns, the blocked read and write go through
    k.setInUse(E1000, false);
    await unbind;
    expect(await override).toBe('vfio-pci\n');
    expect(await errno(k.readlink(pci(E1000, 'driver')))).toBe('ENOENT');
    expect(await k.list('dev/vfio')).not.toContain(String(group));
  });

  it('another process sees the pending unbind (the sim file) and blocks on the lock too', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'passthru-findings-'));
    try {
      const file = join(dir, 'host.json');
      const { writeSimFile } = await import('../../src/sim/persist.js');
      writeSimFile(file, hostFromFixture(JSON.parse(readFileSync(labHost, 'utf8')) as SimHostState));
      const a = SimKernel.load(file, {});
      await onVfio(a, E1000);
      a.setInUse(E1000, true);
      const unbind = a.write(pci(E1000, 'driver/unbind'), E1000);
      expect(await pending(unbind)).toBe(true);
      const b = SimKernel.load(file, {});
      expect(b.device(E1000)!.unbinding).toBe(true);
      expect(await errno(b.readlink(pci(E1000, 'driver')))).toBe('ENOENT');
      expect(await pending(b.read(pci(E1000, 'driver_override')))).toBe(true);
      a.setInUse(E1000, false);
      await unbind;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("QEMU's nvme VFs stay driverless (FINDINGS 7)", () => {
  it('the lab host names no VF driver, so new VFs have none', async () => {
    const k = boot();
    expect(k.device(PF)!.sriov!.vfDriver).toBeUndefined();
    await k.write(pci(PF, 'sriov_numvfs'), '2');
    expect(await errno(k.readlink(pci('0000:04:00.1', 'driver')))).toBe('ENOENT');
    expect(await errno(k.readlink(pci('0000:04:00.2', 'driver')))).toBe('ENOENT');
  });
});

describe('remove of an mdev qemu holds (FINDINGS 8)', () => {
  const U = '8a6fe3c8-2a3f-4a8e-9b3b-5e1f0c2d4b01';
  it('the write blocks until qemu exits; meanwhile the mdev has left the bus, its instance and group stay', async () => {
    const k = boot();
    await k.write(`${types}/mtty-1/create`, U);
    const group = (await k.readlink(`sys/bus/mdev/devices/${U}/iommu_group`)).split('/').pop()!;
    k.setInUse(U, true);
    const remove = k.write(`sys/bus/mdev/devices/${U}/remove`, '1');
    expect(await pending(remove)).toBe(true);
    // as measured: bus link, type entry, mdev_type, driver, uevent and remove itself are gone ...
    expect(await k.exists(`sys/bus/mdev/devices/${U}`)).toBe(false);
    expect(await k.list('sys/bus/mdev/devices')).toEqual([]);
    expect(await k.list(`${types}/mtty-1/devices`)).toEqual([]);
    expect(await errno(k.read(`sys/bus/mdev/devices/${U}/uevent`))).toBe('ENOENT');
    expect(await errno(k.write(`sys/bus/mdev/devices/${U}/remove`, '1'))).toBe('ENOENT');
    // ... the port it took is not back yet, /dev/vfio/N stays, and its UUID cannot be created again (EIO)
    expect(await k.read(`${types}/mtty-1/available_instances`)).toBe('23\n');
    expect(await k.list('dev/vfio')).toContain(group);
    expect(await errno(k.write(`${types}/mtty-1/create`, U))).toBe('EIO');
    // qemu exits: the remove returns, and everything is given back
    k.setInUse(U, false);
    await remove;
    expect(await k.read(`${types}/mtty-1/available_instances`)).toBe('24\n');
    expect(await k.list('dev/vfio')).not.toContain(group);
    expect(k.state.mdevs).toBeUndefined();
    await k.write(`${types}/mtty-1/create`, U); // the UUID is free again
    expect(await k.exists(`sys/bus/mdev/devices/${U}`)).toBe(true);
  });

  it('releasing another device does not end the wait', async () => {
    const k = boot();
    await k.write(`${types}/mtty-1/create`, U);
    await onVfio(k, E1000);
    k.setInUse(U, true);
    k.setInUse(E1000, true);
    const remove = k.write(`sys/bus/mdev/devices/${U}/remove`, '1');
    k.setInUse(E1000, false);
    expect(await pending(remove)).toBe(true);
    k.setInUse(U, false);
    await remove;
    expect(k.state.mdevs).toBeUndefined();
  });
});

describe('sriov_numvfs = 0 while qemu holds a VF through vfio-pci (FINDINGS 9)', () => {
  const VF0 = '0000:04:00.1';
  const VF1 = '0000:04:00.2';
  // QEMU's nvme VFs are driverless: an override and a probe put them on vfio-pci
  const vfToVfio = async (k: SimKernel, vf: string) => {
    await k.write(pci(vf, 'driver_override'), 'vfio-pci');
    await k.write('sys/bus/pci/drivers_probe', vf);
    expect(await k.readlink(pci(vf, 'driver'))).toMatch(/\/vfio-pci$/);
  };
  /** The lab host with 2 VFs, `held` on vfio-pci and held by qemu, and a disable that now waits for it. */
  const disableWhileHeld = async (held: string) => {
    const k = boot();
    await k.write(pci(PF, 'sriov_numvfs'), '2');
    await vfToVfio(k, held);
    k.setInUse(held, true);
    const disable = k.write(pci(PF, 'sriov_numvfs'), '0');
    return { k, disable };
  };
  it('the write blocks until qemu exits; VFs below the held one are gone, the PF and that VF take the device lock', async () => {
    const k = boot();
    await k.write(pci(PF, 'sriov_numvfs'), '2');
    await vfToVfio(k, VF1);
    const group = (await k.readlink(pci(VF1, 'iommu_group'))).split('/').pop()!;
    k.setInUse(VF1, true);
    const disable = k.write(pci(PF, 'sriov_numvfs'), '0');
    expect(await pending(disable)).toBe(true);
    // as measured: virtfn0 is gone, virtfn1 still exists but has lost its driver, physfn and virtfn links
    expect(await k.exists(pci(VF0, 'vendor'))).toBe(false);
    expect(await k.read(pci(VF1, 'vendor'))).toBe('0x1b36\n');
    expect((await k.list(`sys/bus/pci/devices/${PF}`)).filter((e) => e.startsWith('virtfn'))).toEqual([]);
    expect(await errno(k.readlink(pci(VF1, 'driver')))).toBe('ENOENT');
    expect(await errno(k.readlink(pci(VF1, 'physfn')))).toBe('ENOENT');
    expect(await k.list('sys/bus/pci/drivers/vfio-pci')).not.toContain(VF1);
    expect(await k.list('dev/vfio')).toContain(group);
    expect(await k.read(pci(PF, 'sriov_totalvfs'))).toBe('2\n');
    // reads that take the PF's or the VF's device lock wait: sriov_numvfs, driver_override, uevent
    const waiting = [
      pci(PF, 'sriov_numvfs'),
      pci(PF, 'driver_override'),
      pci(PF, 'uevent'),
      pci(VF1, 'driver_override'),
      pci(VF1, 'uevent'),
    ].map((p) => k.read(p));
    for (const r of waiting) expect(await pending(r)).toBe(true);
    // and so does another write to sriov_numvfs (sriov_numvfs_store takes the lock): it runs afterwards
    const again = k.write(pci(PF, 'sriov_numvfs'), '1');
    expect(await pending(again)).toBe(true);
    // qemu exits: the disable finishes, the waiting reads see the end state, the second write runs
    k.setInUse(VF1, false);
    await disable;
    const [numvfs, override] = await Promise.all(waiting.slice(0, 2));
    expect([numvfs, override]).toEqual(['0\n', '(null)\n']);
    await again;
    expect(await k.read(pci(PF, 'sriov_numvfs'))).toBe('1\n');
    expect(await k.readlink(pci(PF, 'driver'))).toMatch(/\/nvme$/);
    await k.write(pci(PF, 'sriov_numvfs'), '0');
    expect(await k.list('dev/vfio')).not.toContain(group);
    expect(k.device(PF)!.sriov!.disablingAt).toBeUndefined();
  });

  it('a full listing that waited on the lock leaves out the VF that went away meanwhile (lab: it failed with ENOENT)', async () => {
    const { k, disable } = await disableWhileHeld(VF1);
    const snap = new HostReader(k).fullSnapshot();
    expect(await pending(snap)).toBe(true);
    k.setInUse(VF1, false);
    await disable;
    const s = await snap;
    expect(Object.keys(s.devices)).not.toContain(VF1);
    expect(s.devices[PF]!.driver).toBe('nvme');
  });

  it('a held VF0 stops the disable before VF1: VF1 keeps its links until qemu lets go of VF0 (by sriov_del_vfs order)', async () => {
    const { k, disable } = await disableWhileHeld(VF0);
    expect(await pending(disable)).toBe(true);
    expect(await k.readlink(pci(PF, 'virtfn1'))).toBe(`../${VF1}`);
    expect(await errno(k.readlink(pci(PF, 'virtfn0')))).toBe('ENOENT');
    k.setInUse(VF0, false);
    await disable;
    expect(await k.exists(pci(VF1, 'vendor'))).toBe(false);
  });

  it('a PF driver that disables SR-IOV in its remove (igb): the PF unbind waits for the held VF, then leaves the PF driverless', async () => {
    const k = new SimKernel(hostFromFixture(structuredClone(EMBEDDED_FIXTURES.workstation) as SimHostState));
    const igb = '0000:03:00.0';
    const vf = '0000:03:10.0';
    await k.write(pci(igb, 'sriov_numvfs'), '1');
    await onVfio(k, vf);
    k.setInUse(vf, true);
    const unbind = k.write(pci(igb, 'driver/unbind'), igb);
    expect(await pending(unbind)).toBe(true);
    expect(await errno(k.readlink(pci(igb, 'driver')))).toBe('ENOENT');
    expect(await pending(k.read(pci(igb, 'driver_override')))).toBe(true);
    k.setInUse(vf, false);
    await unbind;
    expect(k.device(igb)!.driver).toBeUndefined();
    expect(await k.read(pci(igb, 'sriov_numvfs'))).toBe('0\n');
    expect(await k.exists(pci(vf, 'vendor'))).toBe(false);
  });
});
