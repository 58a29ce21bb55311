// Reset and power policy (config `devices`) through the real hook on the simulated single-GPU host:
// every attribute set at prepare and restored exactly at release and by recover, refusals that change
// nothing, a write the kernel refuses undone, and the simulator's reset_method/d3cold_allowed semantics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimHost } from '../support/simhost.js';
import { domainXml, type DomainSpec } from '../support/domains.js';
import { hostFromFixture, loadFixture } from '../../src/sim/fixture.js';
import { SimKernel } from '../../src/sim/kernel.js';

const FIXTURE = join(__dirname, '../../fixtures/hosts/single-gpu.json');
const GPU = '0000:0b:00.0';
const AUDIO = '0000:0b:00.1';
const attr = (d: string, a: string) => `sys/bus/pci/devices/${d}/${a}`;
const gpuDomain: DomainSpec = { name: 'win11', hostdevs: [{ address: GPU }, { address: AUDIO }] };
const NO_BOOT_VGA_GUARD = { autoProtect: { bootVga: false } };

let base: SimHost;
beforeAll(async () => {
  base = await SimHost.create(FIXTURE);
});
afterAll(() => base?.cleanup());

const kernelOf = (h: SimHost) => SimKernel.load(h.file, {});

describe('simulated reset_method and d3cold_allowed', () => {
  const host = async () => new SimKernel(hostFromFixture(await loadFixture(FIXTURE)));

  /** Writes each value to the GPU's attribute `a` in turn, expecting what a read gives back after each. */
  const expectReadsAfterWrites = async (k: SimKernel, a: string, steps: [write: string, read: string][]) => {
    for (const [write, read] of steps) {
      await k.write(attr(GPU, a), write);
      expect(await k.read(attr(GPU, a)), `after writing ${JSON.stringify(write)}`).toBe(read);
    }
  };

  it('reads the default list; a list of supported methods sets it; default restores it; empty disables all', async () => {
    const k = await host();
    expect(await k.read(attr(GPU, 'reset_method'))).toBe('bus\n');
    await expectReadsAfterWrites(k, 'reset_method', [
      ['device_specific', 'device_specific\n'],
      ['default\n', 'bus\n'],
      ['\n', ''],
    ]);
    await k.write(attr(GPU, 'reset_method'), 'bus');
    expect(k.device(GPU)!.resetMethod).toBeUndefined(); // back to the default: nothing kept in the state
  });

  it('refuses an unknown or unsupported method (EINVAL) and changes nothing; no reset_method without a reset', async () => {
    const k = await host();
    for (const bad of ['flr', 'bus warm', 'reset'])
      await expect(k.write(attr(GPU, 'reset_method'), bad)).rejects.toMatchObject({ code: 'EINVAL' });
    expect(await k.read(attr(GPU, 'reset_method'))).toBe('bus\n');
    expect(await k.exists(attr(AUDIO, 'reset_method'))).toBe(false);
    expect(await k.list(`sys/bus/pci/devices/${AUDIO}`)).toContain('d3cold_allowed');
  });

  it('d3cold_allowed: 0/1 from any number, EINVAL for junk', async () => {
    // the same steps as reset_method's above, kept apart: one attribute a test
    const k = await host();
    expect(await k.read(attr(GPU, 'd3cold_allowed'))).toBe('1\n');
    await expectReadsAfterWrites(k, 'd3cold_allowed', [
      ['0', '0\n'],
      ['0x10\n', '1\n'],
    ]);
    await expect(k.write(attr(GPU, 'd3cold_allowed'), 'off')).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('device policy through the hook', () => {
  it('sets reset_method and d3cold_allowed at prepare, restores them exactly at release', async () => {
    await base.withCopy(async (h) => {
      const env = h.configEnv({
        ...NO_BOOT_VGA_GUARD,
        devices: {
          '1002:731f': { resetMethod: ['device_specific'], d3coldAllowed: true },
          '0b:00.0': { d3coldAllowed: false },
          [AUDIO]: { d3coldAllowed: false },
        },
      });
      const start = h.state();
      const p = await h.hook(gpuDomain.name, 'prepare', domainXml(gpuDomain), { env });
      expect(p.stderr).toBe('');
      expect(p.code).toBe(0);
      const k = kernelOf(h);
      expect(await k.read(attr(GPU, 'reset_method'))).toBe('device_specific\n');
      expect(await k.read(attr(GPU, 'd3cold_allowed'))).toBe('0\n'); // the address entry wins
      expect(await k.read(attr(AUDIO, 'd3cold_allowed'))).toBe('0\n');
      const r = await h.hook(gpuDomain.name, 'release', domainXml(gpuDomain), { env });
      expect(r.stderr).toBe('');
      expect(h.journals()).toEqual([]);
      expect(h.state()).toBe(start);
    });
  });

  it('recover restores the policy after a crash left the journal', async () => {
    await base.withCopy(async (h) => {
      const env = h.configEnv({
        ...NO_BOOT_VGA_GUARD,
        devices: { [GPU]: { resetMethod: ['device_specific', 'bus'] } },
      });
      const start = h.state();
      expect((await h.hook(gpuDomain.name, 'prepare', domainXml(gpuDomain), { env })).code).toBe(0);
      expect(await kernelOf(h).read(attr(GPU, 'reset_method'))).toBe('device_specific bus\n');
      const rec = await h.passthru(['recover', '--all'], { env });
      expect(rec.code).toBe(0);
      expect(h.journals()).toEqual([]);
      expect(h.state()).toBe(start);
    });
  });

  // prepare refused with one line: the exit code, the line, and the host as it was with no journal
  const refused: [what: string, config: object, code: number, line: string][] = [
    [
      'refuses, before any change, a resetMethod for a device without reset_method',
      { ...NO_BOOT_VGA_GUARD, devices: { [AUDIO]: { resetMethod: ['bus'] } } },
      1,
      "passthru: prepare of 'win11': refused: 0000:0b:00.1 has no reset_method attribute (kernel 5.15+ shows it only for a device with a reset method): cannot apply resetMethod from the configuration ('0000:0b:00.1')\n",
    ],
    [
      'a method the kernel refuses fails prepare at that step and puts everything back',
      { ...NO_BOOT_VGA_GUARD, devices: { [GPU]: { d3coldAllowed: false, resetMethod: ['flr'] } } },
      1,
      "passthru: prepare of 'win11': 0000:0b:00.0: reset_method failed: EINVAL: unsupported reset method 'flr'; host restored\n",
    ],
    [
      'a config naming one device twice is refused with one line',
      { devices: { '0b:00.0': { d3coldAllowed: false }, [GPU]: { d3coldAllowed: true } } },
      2,
      "passthru: prepare of 'win11': config devices: '0000:0b:00.0' names the same device as another key (0000:0b:00.0)\n",
    ],
  ];
  for (const [what, config, code, line] of refused)
    it(what, async () => {
      await base.withCopy(async (h) => {
        const env = h.configEnv(config);
        const start = h.state();
        const p = await h.hook(gpuDomain.name, 'prepare', domainXml(gpuDomain), { env });
        expect([p.code, p.stderr]).toEqual([code, line]);
        expect(h.state()).toBe(start);
        expect(h.journals()).toEqual([]);
      });
    });
});

describe('a vfio variant driver for the devices the hook binds', () => {
  it('binds a group peer to the configured vfioDriver and gives it back', async () => {
    const { loadFixture } = await import('../../src/sim/fixture.js');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const fx = await loadFixture(FIXTURE);
    fx.drivers = [...(fx.drivers ?? []), 'example_vfio_pci'];
    const dir = mkdtempSync(join(tmpdir(), 'passthru-variant-fx-'));
    writeFileSync(join(dir, 'fx.json'), JSON.stringify(fx));
    const h = await SimHost.create(join(dir, 'fx.json'));
    try {
      const env = h.configEnv({ ...NO_BOOT_VGA_GUARD, devices: { [AUDIO]: { vfioDriver: 'example_vfio_pci' } } });
      const start = h.state();
      const gpuOnly: DomainSpec = { name: 'win11', hostdevs: [{ address: GPU }] };
      const p = await h.hook(gpuOnly.name, 'prepare', domainXml(gpuOnly), { env });
      expect(p.stderr).toBe('');
      expect(kernelOf(h).device(AUDIO)!.driver).toBe('example_vfio_pci');
      expect((await h.hook(gpuOnly.name, 'release', domainXml(gpuOnly), { env })).stderr).toBe('');
      expect(h.state()).toBe(start);
    } finally {
      h.cleanup();
    }
  });
});
