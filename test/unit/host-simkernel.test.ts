// SimKernel write semantics, one test per kernel rule (see test/lab/FINDINGS.md for the real values).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimKernel } from '../../src/sim/kernel.js';
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
import type { SimHostState } from '../../src/sim/state.js';
import { errnoOf, simFixture } from '../support/sim.js';

const GPU = '0000:01:00.0';
const AUDIO = '0000:01:00.1';
const PF = '0000:03:00.0';
const IGPU = '0000:00:02.0';
const dev = (a: string, attr: string) => `sys/bus/pci/devices/${a}/${attr}`;

const ws = (mut?: (h: SimHostState) => void): SimKernel => simFixture('workstation', mut);
const driverOf = async (k: SimKernel, a: string) => {
  try {
    return (await k.readlink(dev(a, 'driver'))).split('/').pop();
  } catch {
    return undefined;
  }
};
const code = errnoOf;

describe('SimKernel reads', () => {
  it('serves attributes in the kernel format', async () => {
    const k = ws();
    expect(await k.read(dev(GPU, 'vendor'))).toBe('0x10de\n');
    expect(await k.read(dev(GPU, 'class'))).toBe('0x030000\n');
    expect(await k.read(dev(GPU, 'driver_override'))).toBe('(null)\n');
    expect(await k.readlink(dev(GPU, 'iommu_group'))).toBe('../../../../kernel/iommu_groups/3');
    expect(await k.readlink(dev(IGPU, 'driver'))).toBe('../../../bus/pci/drivers/i915');
    expect(await k.list('sys/kernel/iommu_groups/3/devices')).toEqual([GPU, AUDIO]);
    expect(await k.read(dev(PF, 'sriov_totalvfs'))).toBe('7\n');
    expect(await k.read(dev(PF, 'sriov_vf_device'))).toBe('1520\n');
    expect(await k.list(dev(PF, 'net'))).toEqual(['enp3s0f0']);
    expect(await k.readlink('sys/class/net/enp3s0f0/device')).toBe(`../../../${PF}`);
    expect(
      await k.read('sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/available_instances'),
    ).toBe('2\n');
    expect(await k.read('proc/cmdline')).toContain('intel_iommu=on');
    expect(await k.read('proc/modules')).toMatch(/^vfio 16384/m);
    expect(await code(k.read(dev(AUDIO, 'sriov_numvfs')))).toBe('ENOENT');
    expect(await code(k.readlink(dev('0000:00:14.2', 'driver')))).toBe('ENOENT');
  });

  it('refuses paths that leave the root', async () => {
    const k = ws();
    for (const p of ['../etc/passwd', '/sys/bus', 'sys/bus/../../etc', 'sys/\0x', ''])
      expect(await code(k.read(p))).toBe('EINVAL');
    expect(await code(k.write('sys/bus/pci/../../../tmp/x', '1'))).toBe('EINVAL');
  });

  it('follows links inside paths (D/driver/unbind, iommu_group/devices)', async () => {
    const k = ws();
    expect(await k.list(dev(GPU, 'iommu_group/devices'))).toEqual([GPU, AUDIO]);
    await k.write(dev(GPU, 'driver/unbind'), GPU);
    expect(await driverOf(k, GPU)).toBeUndefined();
  });
});

describe('SimKernel rebinding', () => {
  it('driver_override + unbind + drivers_probe binds vfio-pci and creates /dev/vfio/N', async () => {
    const k = ws();
    expect(await k.list('dev/vfio')).toEqual(['vfio']);
    await k.write(dev(GPU, 'driver_override'), 'vfio-pci');
    expect(await k.read(dev(GPU, 'driver_override'))).toBe('vfio-pci\n');
    await k.write('sys/bus/pci/drivers/nouveau/unbind', GPU);
    await k.write('sys/bus/pci/drivers_probe', GPU);
    expect(await driverOf(k, GPU)).toBe('vfio-pci');
    expect(await k.list('dev/vfio')).toEqual(['3', 'vfio']);
    expect(await k.list('sys/bus/pci/drivers/vfio-pci')).toContain(GPU);
  });

  it('empty override write changes nothing; a newline clears it; probe then binds the native driver', async () => {
    const k = ws();
    await k.write(dev(GPU, 'driver_override'), 'vfio-pci\n');
    await k.write(dev(GPU, 'driver_override'), '');
    expect(await k.read(dev(GPU, 'driver_override'))).toBe('vfio-pci\n');
    await k.write(dev(GPU, 'driver/unbind'), GPU);
    await k.write(dev(GPU, 'driver_override'), '\n');
    expect(await k.read(dev(GPU, 'driver_override'))).toBe('(null)\n');
    await k.write('sys/bus/pci/drivers_probe', GPU);
    expect(await driverOf(k, GPU)).toBe('nouveau');
  });

  it('probe with an override to a driver that is not loaded succeeds and leaves the device unbound', async () => {
    const k = ws((h) => (h.modules = h.modules.filter((m) => m !== 'vfio_pci')));
    expect(await k.exists('sys/bus/pci/drivers/vfio-pci')).toBe(false);
    await k.write(dev(GPU, 'driver_override'), 'vfio-pci');
    await k.write(dev(GPU, 'driver/unbind'), GPU);
    await k.write('sys/bus/pci/drivers_probe', GPU);
    expect(await driverOf(k, GPU)).toBeUndefined();
    expect(await k.list('dev/vfio')).toEqual(['vfio']);
  });

  it('gives the kernel errnos for wrong unbind/bind/probe', async () => {
    const k = ws();
    expect(await code(k.write('sys/bus/pci/drivers_probe', '0000:09:00.0'))).toBe('ENODEV');
    expect(await code(k.write('sys/bus/pci/drivers/igb/unbind', GPU))).toBe('ENODEV');
    expect(await code(k.write('sys/bus/pci/drivers/vfio-pci/bind', GPU))).toBe('ENODEV'); // no override, no id
    await k.write(dev(GPU, 'driver_override'), 'vfio-pci');
    expect(await code(k.write('sys/bus/pci/drivers/vfio-pci/bind', GPU))).toBe('EBUSY'); // still on nouveau
    await k.write(dev(GPU, 'driver/unbind'), GPU);
    await k.write('sys/bus/pci/drivers/vfio-pci/bind', GPU);
    expect(await driverOf(k, GPU)).toBe('vfio-pci');
    expect(await code(k.write('sys/bus/pci/devices/0000:09:00.0/driver_override', 'x'))).toBe('ENOENT');
    expect(await code(k.write(dev(GPU, 'vendor'), '1'))).toBe('EACCES');
  });

  it('new_id binds unbound matching devices; remove_id drops the id and leaves bindings', async () => {
    const k = ws();
    await k.write(dev(AUDIO, 'driver/unbind'), AUDIO);
    await k.write('sys/bus/pci/drivers/vfio-pci/new_id', '10de 10f0');
    expect(await driverOf(k, AUDIO)).toBe('vfio-pci');
    expect(await code(k.write('sys/bus/pci/drivers/vfio-pci/new_id', '10de 10f0'))).toBe('EEXIST');
    expect(await code(k.write('sys/bus/pci/drivers/vfio-pci/new_id', 'zz'))).toBe('EINVAL');
    await k.write('sys/bus/pci/drivers/vfio-pci/remove_id', '10de 10f0');
    expect(await driverOf(k, AUDIO)).toBe('vfio-pci');
    expect(await code(k.write('sys/bus/pci/drivers/vfio-pci/remove_id', '10de 10f0'))).toBe('ENODEV');
    expect(k.state.dynamicIds).toBeUndefined();
  });

  it('an unbind from vfio-pci of a device in use blocks until qemu lets go, then completes', async () => {
    const k = ws();
    await k.write(dev(GPU, 'driver_override'), 'vfio-pci');
    await k.write(dev(GPU, 'driver/unbind'), GPU);
    await k.write('sys/bus/pci/drivers_probe', GPU);
    k.setInUse(GPU, true);
    let returned = false;
    const unbind = k.write(dev(GPU, 'driver/unbind'), GPU).then(() => (returned = true));
    await new Promise((r) => setImmediate(r));
    expect(returned).toBe(false); // still in the kernel (the old simulator refused with EBUSY at once)
    expect(await k.exists(dev(GPU, 'driver'))).toBe(false);
    k.setInUse(GPU, false); // qemu exits
    await unbind;
    expect(returned).toBe(true);
    expect(k.device(GPU)!.driver).toBeUndefined();
    expect(await k.list('dev/vfio')).toEqual(['vfio']);
  });
});

describe('SimKernel SR-IOV', () => {
  it('creates VFs at offset/stride, each in a new group, bound to the VF driver, with links', async () => {
    const k = ws();
    await k.write(dev(PF, 'sriov_numvfs'), '2');
    expect(await k.readlink(dev(PF, 'virtfn0'))).toBe('../0000:03:10.0');
    expect(await k.readlink(dev(PF, 'virtfn1'))).toBe('../0000:03:10.4');
    expect(await k.readlink(dev('0000:03:10.4', 'physfn'))).toBe(`../${PF}`);
    expect(await driverOf(k, '0000:03:10.0')).toBe('igbvf');
    expect(await k.read(dev('0000:03:10.0', 'device'))).toBe('0x1520\n');
    const g0 = (await k.readlink(dev('0000:03:10.0', 'iommu_group'))).split('/').pop();
    const g1 = (await k.readlink(dev('0000:03:10.4', 'iommu_group'))).split('/').pop();
    expect(g0).not.toBe(g1);
    expect(await k.list(`sys/kernel/iommu_groups/${g0}/devices`)).toEqual(['0000:03:10.0']);
    expect((await k.listVfs('enp3s0f0')).map((v) => v.index)).toEqual([0, 1]);
  });

  it('changes a non-zero count only through 0, checks range and syntax, needs a driver', async () => {
    const k = ws();
    await k.write(dev(PF, 'sriov_numvfs'), '2');
    expect(await code(k.write(dev(PF, 'sriov_numvfs'), '3'))).toBe('EBUSY');
    await k.write(dev(PF, 'sriov_numvfs'), '2'); // same count: no-op
    expect(await code(k.write(dev(PF, 'sriov_numvfs'), '8'))).toBe('ERANGE');
    expect(await code(k.write(dev(PF, 'sriov_numvfs'), 'x'))).toBe('EINVAL');
    await k.write(dev(PF, 'sriov_numvfs'), '0');
    expect(await k.exists(dev('0000:03:10.0', 'vendor'))).toBe(false);
    await k.write(dev(PF, 'driver/unbind'), PF);
    expect(await code(k.write(dev(PF, 'sriov_numvfs'), '1'))).toBe('ENOENT');
  });

  it('removing VFs while one is on vfio-pci and in use waits until qemu lets go (lab-measured), then completes', async () => {
    const k = ws();
    await k.write(dev(PF, 'sriov_numvfs'), '1');
    const vf = '0000:03:10.0';
    await k.write(dev(vf, 'driver_override'), 'vfio-pci');
    await k.write(dev(vf, 'driver/unbind'), vf);
    await k.write('sys/bus/pci/drivers_probe', vf);
    k.setInUse(vf, true);
    let returned = false;
    const disable = k.write(dev(PF, 'sriov_numvfs'), '0').then(() => (returned = true));
    await new Promise((r) => setImmediate(r));
    expect(returned).toBe(false); // still in the kernel (the old simulator refused with EBUSY at once)
    expect(await k.exists(dev(vf, 'driver'))).toBe(false);
    k.setInUse(vf, false); // qemu exits
    await disable;
    expect(await k.read(dev(PF, 'sriov_numvfs'))).toBe('0\n');
    expect(await k.exists(dev(vf, 'vendor'))).toBe(false);
    expect(await k.list('dev/vfio')).toEqual(['vfio']);
  });

  it('sets and validates VF settings through NetLink; they vanish with the VF', async () => {
    const k = ws();
    await k.write(dev(PF, 'sriov_numvfs'), '2');
    const settings = {
      vlan: 100,
      qos: 2,
      trust: true,
      spoofchk: false,
      state: 'enable',
      minRate: 10,
      maxRate: 100,
    } as const;
    await k.setVf('enp3s0f0', 1, { mac: '52:54:00:AA:BB:01', ...settings });
    const v = (await k.listVfs('enp3s0f0'))[1]!;
    expect(v).toMatchObject({ index: 1, mac: '52:54:00:aa:bb:01', ...settings }); // the MAC as the kernel prints it
    expect(await code(k.setVf('enp3s0f0', 2, { vlan: 1 }))).toBe('EINVAL');
    expect(await code(k.setVf('enp3s0f0', 0, { vlan: 4096 }))).toBe('EINVAL');
    expect(await code(k.setVf('enp3s0f0', 0, { mac: '01:00:00:00:00:01' }))).toBe('EINVAL');
    expect(await code(k.setVf('nosuch0', 0, { vlan: 1 }))).toBe('ENODEV');
    await k.write(dev(PF, 'sriov_numvfs'), '0');
    await k.write(dev(PF, 'sriov_numvfs'), '2');
    expect((await k.listVfs('enp3s0f0'))[1]!.mac).toBe('00:00:00:00:00:00');
  });
});

describe('SimKernel mdev', () => {
  const T = 'sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4';
  const U1 = '11111111-2222-3333-4444-555555555555';
  const U2 = '11111111-2222-3333-4444-666666666666';
  const U3 = '11111111-2222-3333-4444-777777777777';

  it('creates (consuming instances), refuses duplicates, bad UUIDs and exhaustion; remove gives back', async () => {
    const k = ws();
    await k.write(`${T}/create`, U1.toUpperCase());
    expect(await k.exists(`sys/bus/mdev/devices/${U1}`)).toBe(true);
    expect(await k.read(`${T}/available_instances`)).toBe('1\n');
    expect(await k.readlink(`sys/bus/mdev/devices/${U1}/mdev_type`)).toBe('../mdev_supported_types/i915-GVTg_V5_4');
    expect(await k.list(`${T}/devices`)).toEqual([U1]);
    expect(await code(k.write(`${T}/create`, U1))).toBe('EEXIST');
    expect(await code(k.write(`${T}/create`, 'not-a-uuid'))).toBe('EINVAL');
    await k.write(`${T}/create`, U2);
    expect(await code(k.write(`${T}/create`, U3))).toBe('ENOSPC');
    const g = (await k.readlink(`sys/bus/mdev/devices/${U1}/iommu_group`)).split('/').pop()!;
    expect(await k.list('dev/vfio')).toContain(g);
    await k.write(`sys/bus/mdev/devices/${U1}/remove`, '0'); // 0 does nothing
    expect(await k.exists(`sys/bus/mdev/devices/${U1}`)).toBe(true);
    await k.write(`sys/bus/mdev/devices/${U1}/remove`, '1');
    expect(await k.exists(`sys/bus/mdev/devices/${U1}`)).toBe(false);
    expect(await k.read(`${T}/available_instances`)).toBe('1\n');
    expect(await k.list('dev/vfio')).not.toContain(g);
  });

  it('the remove of an mdev in use waits until qemu lets go (lab-measured), then gives the instance back', async () => {
    const k = ws();
    await k.write(`${T}/create`, U1);
    k.setInUse(U1, true);
    let returned = false;
    const remove = k.write(`sys/bus/mdev/devices/${U1}/remove`, '1').then(() => (returned = true));
    await new Promise((r) => setImmediate(r));
    expect(returned).toBe(false); // still in the kernel (the old simulator refused with EBUSY at once)
    expect(await k.exists(`sys/bus/mdev/devices/${U1}`)).toBe(false);
    expect(await k.read(`${T}/available_instances`)).toBe('1\n'); // still taken
    k.setInUse(U1, false); // qemu exits
    await remove;
    expect(await k.read(`${T}/available_instances`)).toBe('2\n');
    expect(k.state.mdevs).toBeUndefined();
  });
});

describe('SimKernel persistence and faults', () => {
  const file = () => join(mkdtempSync(join(tmpdir(), 'passthru-simk-')), 'host.json');

  it('saves every write atomically with a write log; another instance sees it', async () => {
    const f = file();
    const a = new SimKernel(hostFromFixture(structuredClone(EMBEDDED_FIXTURES.workstation) as SimHostState), {
      file: f,
    });
    a.save();
    const b = SimKernel.load(f, {});
    await a.write(dev(GPU, 'driver_override'), 'vfio-pci');
    expect(await b.read(dev(GPU, 'driver_override'))).toBe('vfio-pci\n');
    const doc = JSON.parse(readFileSync(f, 'utf8'));
    expect(doc.writeLog).toEqual([{ path: dev(GPU, 'driver_override'), data: 'vfio-pci' }]);
    expect(b.canonical()).toBe(a.canonical());
  });

  it('after its own save an instance keeps its state, and still sees a file another writer replaced', async () => {
    const f = file();
    const a = new SimKernel(hostFromFixture(structuredClone(EMBEDDED_FIXTURES.workstation) as SimHostState), {
      file: f,
    });
    a.save();
    await a.write(dev(GPU, 'driver_override'), 'vfio-pci');
    const held = a.state;
    expect(await a.read(dev(GPU, 'driver_override'))).toBe('vfio-pci\n');
    expect(a.state).toBe(held); // the file is still its own save: not parsed again
    await a.write(dev(GPU, 'driver_override'), 'pci-stub');
    // another process replaces the file right after that save (same length), as every save does: temp + rename
    writeFileSync(
      `${f}.other`,
      readFileSync(f, 'utf8').replace('"driverOverride":"pci-stub"', '"driverOverride":"nouveau"'),
    );
    renameSync(`${f}.other`, f);
    expect(await a.read(dev(GPU, 'driver_override'))).toBe('nouveau\n');
    expect(a.state).not.toBe(held);
  });

  it('a refused write leaves the host byte-identical and is not logged', async () => {
    const k = ws();
    const before = k.canonical();
    await k.write(dev(PF, 'sriov_numvfs'), '2').then(() => k.write(dev(PF, 'sriov_numvfs'), '0'));
    expect(k.canonical()).toBe(before);
    expect(await code(k.write(dev(PF, 'sriov_numvfs'), '9'))).toBe('ERANGE');
    expect(k.canonical()).toBe(before);
    expect(k.writeLog).toHaveLength(2);
  });

  it('fails the Nth write and path-matched writes with the given errno', async () => {
    const k = new SimKernel(hostFromFixture(structuredClone(EMBEDDED_FIXTURES.workstation) as SimHostState), {
      env: {
        PASSTHRU_SIM_FAULTS: JSON.stringify({
          failWrite: { n: 2, errno: 'EIO' },
          failPath: { pattern: 'sriov_numvfs$', errno: 'EBUSY' },
        }),
      },
    });
    await k.write(dev(GPU, 'driver_override'), 'vfio-pci');
    expect(await code(k.write(dev(GPU, 'driver/unbind'), GPU))).toBe('EIO');
    expect(await driverOf(k, GPU)).toBe('nouveau');
    await k.write(dev(GPU, 'driver/unbind'), GPU); // write 3 goes through
    expect(await code(k.write(dev(PF, 'sriov_numvfs'), '1'))).toBe('EBUSY');
  });

  it('a hanging write never settles and changes nothing', async () => {
    const k = new SimKernel(hostFromFixture(structuredClone(EMBEDDED_FIXTURES.workstation) as SimHostState), {
      env: { PASSTHRU_SIM_FAULTS: '{"hangOnWrite":1}' },
    });
    const before = k.canonical();
    const r = await Promise.race([
      k.write(dev(GPU, 'driver_override'), 'vfio-pci').then(() => 'settled'),
      new Promise((res) => setTimeout(() => res('pending'), 50)),
    ]);
    expect(r).toBe('pending');
    expect(k.canonical()).toBe(before);
  });

  it('rejects malformed faults with a clear message', () => {
    const h = hostFromFixture(structuredClone(EMBEDDED_FIXTURES.workstation) as SimHostState);
    expect(() => new SimKernel(h, { env: { PASSTHRU_SIM_FAULTS: '{bad' } })).toThrow(
      /PASSTHRU_SIM_FAULTS is not valid JSON/,
    );
    expect(() => new SimKernel(h, { env: { PASSTHRU_SIM_FAULTS: '{"failWrite":{"n":0,"errno":"EIO"}}' } })).toThrow(
      /failWrite/,
    );
    expect(() => new SimKernel(h, { env: { PASSTHRU_SIM_FAULTS: '{"explode":1}' } })).toThrow(
      /unknown fault 'explode'/,
    );
  });
});
