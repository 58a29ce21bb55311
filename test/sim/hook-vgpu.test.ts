// NVIDIA vGPUs of the vendor-specific VFIO model (vGPU 17+) through the real hook on the simulated
// server's L40S-class PF: the simulator's nvidia/ semantics, what prepare writes (the type, and no
// vfio-pci rebind of the VF), use-as-is, refusals that change nothing, and a release blocked while a
// VM holds the VF, finished later by recover.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimHost } from '../support/simhost.js';
import { domainXml, type DomainSpec } from '../support/domains.js';
import { hostFromFixture, loadFixture } from '../../src/sim/fixture.js';
import { SimKernel } from '../../src/sim/kernel.js';
import { readNvidiaVgpu } from '../../src/host/nvidia-vgpu.js';

const PF = '0000:41:00.0';
const VF0 = '0000:41:00.4';
const VF1 = '0000:41:00.5';
const NIC_VF = '0000:3b:02.0'; // an iavf VF of the X710: no nvidia/ directory
const cur = (vf: string) => `sys/bus/pci/devices/${vf}/nvidia/current_vgpu_type`;
const creatable = (vf: string) => `sys/bus/pci/devices/${vf}/nvidia/creatable_vgpu_types`;

async function server(): Promise<SimKernel> {
  return new SimKernel(hostFromFixture(await loadFixture('server')));
}

async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'no error';
}

describe('simulated NVIDIA vendor-specific VFIO vGPU files', () => {
  it('only VFs on the nvidia driver have nvidia/; the PF and other VFs do not', async () => {
    const k = await server();
    expect(await k.list(`sys/bus/pci/devices/${VF0}/nvidia`)).toEqual(['creatable_vgpu_types', 'current_vgpu_type']);
    expect(await k.list(`sys/bus/pci/devices/${VF0}`)).toContain('nvidia');
    expect(await k.list(`sys/bus/pci/devices/${PF}`)).not.toContain('nvidia');
    expect(await k.exists(cur(NIC_VF))).toBe(false);
    expect(await readNvidiaVgpu(k, NIC_VF)).toBeUndefined();
  });

  it('lists every type under the header at first; after one vGPU only its framebuffer size, on other VFs', async () => {
    const k = await server();
    const first = await k.read(creatable(VF0));
    expect(first.split('\n')[0]).toBe('ID    : vGPU Name');
    expect(first).toContain('1157  : NVIDIA L40S-12Q\n');
    expect((await readNvidiaVgpu(k, VF0))!.creatable.map((t) => t.id)).toEqual([
      1155, 1156, 1157, 1158, 1159, 1167, 1168,
    ]);
    await k.write(cur(VF0), '1157');
    expect(await k.read(cur(VF0))).toBe('1157\n');
    // the VF that has it lists nothing; a sibling lists the 12 GB types only (mixed mode off)
    expect(await k.read(creatable(VF0))).toBe('ID    : vGPU Name\n');
    expect((await readNvidiaVgpu(k, VF1))!.creatable.map((t) => t.name)).toEqual([
      'NVIDIA L40S-12Q',
      'NVIDIA L40S-12C',
    ]);
  });

  it('refuses a type not creatable (EINVAL), a type over another (EBUSY), junk (EINVAL); 0 destroys, EBUSY while a VM holds it', async () => {
    const k = await server();
    await k.write(cur(VF0), '1158'); // 24 GB
    expect(await errnoOf(k.write(cur(VF1), '1157'))).toBe('EINVAL'); // another size
    expect(await errnoOf(k.write(cur(VF0), '1168'))).toBe('EBUSY'); // over a vGPU
    expect(await errnoOf(k.write(cur(VF1), 'abc'))).toBe('EINVAL');
    await k.write(cur(VF1), '1168'); // same size, other series: fits (48 GB used)
    expect(await k.read(creatable('0000:41:00.6'))).toBe('ID    : vGPU Name\n'); // full
    k.setInUse(VF1, true);
    expect(await errnoOf(k.write(cur(VF1), '0'))).toBe('EBUSY');
    expect(await k.read(cur(VF1))).toBe('1168\n');
    k.setInUse(VF1, false);
    await k.write(cur(VF1), '0');
    await k.write(cur(VF1), '0'); // no vGPU: a no-op, not an error
    await k.write(cur(VF0), '0');
    expect(await k.read(cur(VF0))).toBe('0\n');
    expect(k.canonical()).toBe((await server()).canonical()); // back to 0 = never used
  });

  it('a VF rebound to vfio-pci loses its nvidia/ interface (why the hook never rebinds a vGPU VF)', async () => {
    const k = await server();
    await k.write(`sys/bus/pci/devices/${VF0}/driver_override`, 'vfio-pci');
    await k.write(`sys/bus/pci/devices/${VF0}/driver/unbind`, VF0);
    await k.write('sys/bus/pci/drivers_probe', VF0);
    expect(await k.exists(cur(VF0))).toBe(false);
  });
});

describe('the hook with <passthru:vgpu>', () => {
  let base: SimHost;
  beforeAll(async () => {
    base = await SimHost.create('server');
  });
  afterAll(() => base?.cleanup());
  const spec = (type: string, over: Partial<DomainSpec> = {}): DomainSpec => ({
    name: 'l40s-guest',
    hostdevs: [{ address: VF0, managed: false }],
    vgpus: [{ address: VF0, type }],
    ...over,
  });
  const vgpuOf = (h: SimHost, vf: string) =>
    (h.doc().devices as { address: string; vgpuType?: number; driver?: string }[]).find((d) => d.address === vf);

  it('prepare writes only the type (the VF stays on nvidia); release writes 0; the host ends as it began', async () => {
    await base.withCopy(async (h) => {
      const start = h.state();
      const d = spec('NVIDIA L40S-12Q');
      const p = await h.hook(d.name, 'prepare', domainXml(d));
      expect([p.code, p.stderr]).toEqual([0, '']);
      expect(h.writes()).toEqual([{ path: cur(VF0), data: '1157' }]);
      expect(vgpuOf(h, VF0)).toMatchObject({ vgpuType: 1157, driver: 'nvidia' });
      h.clearLog();
      const r = await h.hook(d.name, 'release', domainXml(d));
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(h.writes()).toEqual([{ path: cur(VF0), data: '0' }]);
      expect(h.state()).toBe(start);
      expect(h.journals()).toEqual([]);
    });
  });

  it('a VF that already has the wanted type is used as it is, and still has it after release', async () => {
    await base.withCopy(async (h) => {
      await SimKernel.load(h.file, {}).write(cur(VF0), '1155');
      h.clearLog();
      const before = h.state();
      const d = spec('1155');
      expect((await h.hook(d.name, 'prepare', domainXml(d))).code).toBe(0);
      expect((await h.hook(d.name, 'release', domainXml(d))).code).toBe(0);
      expect(h.writes()).toEqual([]);
      expect(h.state()).toBe(before);
      expect(vgpuOf(h, VF0)?.vgpuType).toBe(1155);
    });
  });

  it('a vGPU made by hand (hostdev managed=no, no entry) is left as it is: never rebound, never reset; with no type, refused', async () => {
    await base.withCopy(async (h) => {
      await SimKernel.load(h.file, {}).write(cur(VF0), '1157');
      h.clearLog();
      const before = h.state();
      const d: DomainSpec = { name: 'by-hand', hostdevs: [{ address: VF0, managed: false }] };
      expect(await h.hook(d.name, 'prepare', domainXml(d))).toMatchObject({ code: 0, stderr: '' });
      expect(await h.hook(d.name, 'release', domainXml(d))).toMatchObject({ code: 0, stderr: '' });
      expect(h.writes()).toEqual([]);
      expect(h.state()).toBe(before);
      const bare: DomainSpec = { name: 'bare', hostdevs: [{ address: VF1, managed: false }] };
      const r = await h.hook(bare.name, 'prepare', domainXml(bare));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^passthru: prepare of 'bare': refused: ${VF1} is a VF of an NVIDIA GPU in vGPU mode with no vGPU type: give it one .*\\n$`,
        ),
      );
      expect(h.writes()).toEqual([]);
    });
  });

  it('refusals say one line naming the VF and change nothing', async () => {
    await base.withCopy(async (h) => {
      await SimKernel.load(h.file, {}).write(cur(VF1), '1158'); // 24 GB on VF1
      h.clearLog();
      const before = h.state();
      const cases: [DomainSpec, RegExp][] = [
        [
          spec('1157'),
          new RegExp(
            `^passthru: prepare of 'l40s-guest': refused: ${VF0} cannot take vGPU type 1157 now; creatable there: 1158 \\(NVIDIA L40S-24Q\\), 1168 \\(NVIDIA L40S-24C\\)\\n$`,
          ),
        ],
        [
          spec('1155', { hostdevs: [{ address: VF1, managed: false }], vgpus: [{ address: VF1, type: '1155' }] }),
          new RegExp(`refused: ${VF1} already has vGPU type 1158; 1155 asked`),
        ],
        [spec('1158', { hostdevs: [{ address: VF0, managed: true }] }), /managed='yes'.*use managed='no'\n$/],
        [
          spec('1158', { hostdevs: [{ address: NIC_VF, managed: false }], vgpus: [{ address: NIC_VF, type: '1158' }] }),
          new RegExp(
            `refused: ${NIC_VF} has no NVIDIA vGPU interface \\(no nvidia/current_vgpu_type: it is bound to iavf, not nvidia\\)\\n$`,
          ),
        ],
      ];
      for (const [d, re] of cases) {
        const r = await h.hook(d.name, 'prepare', domainXml(d));
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(re);
        expect(r.stderr.split('\n').length).toBe(2);
      }
      expect(h.writes()).toEqual([]);
      expect(h.state()).toBe(before);
    });
  });

  it('a second domain sees what the first one took: a full GPU refuses it, changing nothing', async () => {
    await base.withCopy(async (h) => {
      const start = h.state();
      const a = spec('1159', { name: 'big' }); // 48 GB: the whole GPU
      const b = spec('1155', {
        name: 'small',
        hostdevs: [{ address: VF1, managed: false }],
        vgpus: [{ address: VF1, type: '1155' }],
      });
      expect((await h.hook(a.name, 'prepare', domainXml(a))).code).toBe(0);
      const held = h.state();
      const r = await h.hook(b.name, 'prepare', domainXml(b));
      expect([r.code, r.stderr]).toEqual([
        1,
        `passthru: prepare of 'small': refused: ${VF1} cannot take vGPU type 1155 now; creatable there: none (the GPU is full, or hosts vGPUs of another framebuffer size)\n`,
      ]);
      expect(h.state()).toBe(held);
      expect((await h.hook(a.name, 'release', domainXml(a))).code).toBe(0);
      expect(h.state()).toBe(start);
    });
  });

  it('two vGPUs of one GPU in one domain that cannot coexist: the kernel refuses the second write, prepare fails and restores the host', async () => {
    await base.withCopy(async (h) => {
      const start = h.state();
      // 12 GB then 24 GB: each creatable alone (the planner checks each against the list read before any write)
      const d = spec('1157', {
        hostdevs: [
          { address: VF0, managed: false },
          { address: VF1, managed: false },
        ],
        vgpus: [
          { address: VF0, type: '1157' },
          { address: VF1, type: '1158' },
        ],
      });
      const r = await h.hook(d.name, 'prepare', domainXml(d));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^passthru: prepare of 'l40s-guest': ${VF1}: vGPU create \\(current_vgpu_type 1158\\) failed: EINVAL.*; host restored\\n$`,
        ),
      );
      expect(h.writes()).toEqual([
        { path: cur(VF0), data: '1157' },
        { path: cur(VF0), data: '0' },
      ]);
      expect(h.state()).toBe(start);
      expect(h.journals()).toEqual([]);
    });
  });

  it('release while a VM still holds the VF keeps the journal; recover destroys the vGPU once it is free', async () => {
    await base.withCopy(async (h) => {
      const start = h.state();
      const d = spec('1159');
      expect((await h.hook(d.name, 'prepare', domainXml(d))).code).toBe(0);
      SimKernel.load(h.file, {}).setInUse(VF0, true);
      const r = await h.hook(d.name, 'release', domainXml(d));
      expect(r.code).toBe(0); // release never fails libvirt
      expect(r.stderr).toMatch(new RegExp(`${VF0}: vGPU destroy \\(current_vgpu_type 0\\) failed: .*EBUSY`));
      expect(h.journals().length).toBe(1);
      SimKernel.load(h.file, {}).setInUse(VF0, false);
      const rec = await h.passthru(['recover', '--all'], { env: { PASSTHRU_LOCKED: '1' } });
      expect([rec.code, rec.stderr]).toEqual([0, '']);
      expect(h.state()).toBe(start);
      expect(h.journals()).toEqual([]);
    });
  });
});
