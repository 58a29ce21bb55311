// Single-GPU console handover through the real hook on the simulated single-GPU host (the AMD GPU is
// the boot VGA and the only display): refused by default with the opt-in named; with the opt-in,
// prepare stops the display manager, unbinds the virtual console, releases the EFI framebuffer and
// the GPU's driver, and release / recover / a failed prepare give all of it back, exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SimHost } from '../support/simhost.js';
import { domainXml, type DomainSpec } from '../support/domains.js';
import { SimKernel } from '../../src/sim/kernel.js';
import type { SimHostState } from '../../src/sim/state.js';

const FIXTURE = join(__dirname, '../../fixtures/hosts/single-gpu.json');
const GPU = '0000:0b:00.0';
const AUDIO = '0000:0b:00.1';
const spec: DomainSpec = { name: 'win11', hostdevs: [{ address: GPU }, { address: AUDIO }] };
const HANDOVER_META = `<passthru:console handover='on'/>`;

/** The domain XML with the opt-in in its metadata. */
function optedIn(): string {
  const xml = domainXml({ ...spec, pfs: [] });
  return xml.includes('<passthru:devices')
    ? xml.replace(/(<passthru:devices[^>]*>)/, `$1\n      ${HANDOVER_META}`)
    : xml.replace(
        '<devices>',
        `<metadata>\n    <passthru:devices xmlns:passthru='https://passthru.dev/xmlns/domain/1'>\n      ${HANDOVER_META}\n    </passthru:devices>\n  </metadata>\n  <devices>`,
      );
}

let base: SimHost;
beforeAll(async () => {
  base = await SimHost.create(FIXTURE);
});
afterAll(() => base?.cleanup());

/** The console as a reader of sysfs sees it (vtcons listed with their bind), and the drivers. */
async function consoleOf(h: SimHost) {
  const k = SimKernel.load(h.file, {});
  const vtcons: string[] = [];
  for (const v of await k.list('sys/class/vtconsole'))
    vtcons.push(`${v}=${(await k.read(`sys/class/vtconsole/${v}/bind`)).trim()}`);
  return k.peek((s: SimHostState) => ({
    units: { ...s.units },
    vtcons: vtcons.join(' '),
    efifb: s.framebuffers![0]!.bound !== false,
    gpu: s.devices.find((d) => d.address === GPU)!.driver,
    audio: s.devices.find((d) => d.address === AUDIO)!.driver,
  }));
}

const HOST_CONSOLE = {
  units: { 'display-manager.service': 'active', 'sddm.service': 'active' },
  vtcons: 'vtcon0=1 vtcon1=0',
  efifb: true,
  gpu: 'amdgpu',
  audio: 'snd_hda_intel',
};

describe('single-GPU console handover', () => {
  it('is refused by default, naming the opt-in, and nothing changes', async () => {
    await base.withCopy(async (h) => {
      const start = h.state();
      const p = await h.hook(spec.name, 'prepare', domainXml(spec));
      expect(p.code).toBe(1);
      expect(p.stderr).toBe(
        "passthru: prepare of 'win11': refused: 0000:0b:00.0 is protected: it is the boot VGA and the host has no other console (override: \"autoProtect\": {\"bootVga\": false} in the config, console=ttyS0 on the kernel command line, or the console handover: <passthru:console handover='on'/> or consoleHandover in the device's config)\n",
      );
      expect(h.state()).toBe(start);
    });
  });

  it('with the metadata opt-in: hands the console over at prepare, gives it all back at release', async () => {
    await base.withCopy(async (h) => {
      const start = h.state();
      expect(await consoleOf(h)).toEqual(HOST_CONSOLE);
      const p = await h.hook(spec.name, 'prepare', optedIn());
      expect(p.stderr).toBe('');
      expect(p.code).toBe(0);
      expect(await consoleOf(h)).toEqual({
        units: { 'display-manager.service': 'inactive', 'sddm.service': 'active' },
        vtcons: 'vtcon1=1', // fbcon went with the last framebuffer; the dummy console holds the VTs
        efifb: false,
        gpu: 'vfio-pci',
        audio: 'snd_hda_intel', // managed='yes': libvirt's to detach
      });
      const r = await h.hook(spec.name, 'release', optedIn());
      expect(r.stderr).toBe('');
      expect(h.journals()).toEqual([]);
      expect(await consoleOf(h)).toEqual(HOST_CONSOLE);
      expect(h.state()).toBe(start);
    });
  });

  it('with the config opt-in and its own display managers; recover gives the console back after a crash', async () => {
    await base.withCopy(async (h) => {
      const env = h.configEnv({
        console: { displayManagers: ['sddm.service', 'gdm.service'] },
        devices: { '1002:731f': { consoleHandover: true } },
      });
      const start = h.state();
      expect((await h.hook(spec.name, 'prepare', domainXml(spec), { env })).code).toBe(0);
      expect((await consoleOf(h)).units).toEqual({ 'display-manager.service': 'active', 'sddm.service': 'inactive' });
      const rec = await h.passthru(['recover', '--all'], { env });
      expect(rec.stderr).toBe('');
      expect(rec.code).toBe(0);
      expect(h.state()).toBe(start);
    });
  });

  it('a GPU driver that will not let go fails prepare and puts the console back', async () => {
    await base.withCopy(async (h) => {
      const start = h.state();
      const p = await h.hook(spec.name, 'prepare', optedIn(), {
        faults: { failPath: { pattern: 'drivers/amdgpu/unbind$', errno: 'EBUSY' } },
      });
      expect(p.code).toBe(1);
      expect(p.stderr).toMatch(
        /^passthru: prepare of 'win11': 0000:0b:00\.0: unbind failed: EBUSY.*; host restored\n$/,
      );
      expect(await consoleOf(h)).toEqual(HOST_CONSOLE);
      expect(h.state()).toBe(start);
    });
  });

  it('metadata handover=off keeps the refusal even when the config opts the device in', async () => {
    await base.withCopy(async (h) => {
      const env = h.configEnv({ devices: { [GPU]: { consoleHandover: true } } });
      const off = optedIn().replace("handover='on'", "handover='off'");
      const p = await h.hook(spec.name, 'prepare', off, { env });
      expect(p.code).toBe(1);
      expect(p.stderr).toContain('is the boot VGA and the host has no other console');
    });
  });
});

describe('simulated console and systemctl', () => {
  it('vtconsole bind: (M) drivers bind and unbind, junk reads as 0, (S) drivers never unbind', async () => {
    const { hostFromFixture, loadFixture } = await import('../../src/sim/fixture.js');
    const k = new SimKernel(hostFromFixture(await loadFixture(FIXTURE)));
    expect(await k.list('sys/class/vtconsole')).toEqual(['vtcon0', 'vtcon1']);
    expect(await k.read('sys/class/vtconsole/vtcon0/name')).toBe('(M) frame buffer device\n');
    await k.write('sys/class/vtconsole/vtcon0/bind', 'off');
    expect(await k.read('sys/class/vtconsole/vtcon0/bind')).toBe('0\n');
    await k.write('sys/class/vtconsole/vtcon0/bind', '1\n');
    expect(await k.read('sys/class/vtconsole/vtcon0/bind')).toBe('1\n');
    k.state.vtconsoles!.push({ name: '(S) VGA+', bound: true });
    await k.write('sys/class/vtconsole/vtcon2/bind', '0');
    expect(await k.read('sys/class/vtconsole/vtcon2/bind')).toBe('1\n');
  });

  it('platform framebuffer: unbind, EBUSY on a second bind, ENODEV for an unbound unbind or another driver', async () => {
    const { hostFromFixture, loadFixture } = await import('../../src/sim/fixture.js');
    const k = new SimKernel(hostFromFixture(await loadFixture(FIXTURE)));
    const drv = 'sys/bus/platform/drivers/efi-framebuffer';
    expect(await k.list(drv)).toContain('efi-framebuffer.0');
    expect(await k.readlink('sys/bus/platform/devices/efi-framebuffer.0/driver')).toBe(
      '../../../bus/platform/drivers/efi-framebuffer',
    );
    await k.write(`${drv}/unbind`, 'efi-framebuffer.0');
    expect(await k.exists('sys/bus/platform/devices/efi-framebuffer.0/driver')).toBe(false);
    await expect(k.write(`${drv}/unbind`, 'efi-framebuffer.0')).rejects.toMatchObject({ code: 'ENODEV' });
    await k.write(`${drv}/bind`, 'efi-framebuffer.0');
    await expect(k.write(`${drv}/bind`, 'efi-framebuffer.0')).rejects.toMatchObject({ code: 'EBUSY' });
    await expect(k.write(`${drv}/bind`, 'nope.0')).rejects.toMatchObject({ code: 'ENODEV' });
  });

  it('SystemctlUnits drives systemctl through an injected runner and names its failures', async () => {
    const { SystemctlUnits } = await import('../../src/host/units.js');
    const calls: string[] = [];
    const states: Record<string, number> = { 'gdm.service': 0, 'x.service': 3 };
    const u = new SystemctlUnits('systemctl', async (cmd, args) => {
      calls.push(`${cmd} ${args.join(' ')}`);
      const unit = args[2]!;
      if (args[0] === 'is-active')
        return states[unit] === undefined
          ? { exitCode: 4, stdout: '', stderr: `Unit ${unit} could not be found.` }
          : { exitCode: states[unit], stdout: states[unit] === 0 ? 'active' : 'inactive', stderr: '' };
      return unit === 'bad.service'
        ? { exitCode: 5, stdout: '', stderr: 'Failed to stop bad.service: Access denied' }
        : { exitCode: 0, stdout: '', stderr: '' };
    });
    expect(await u.isActive('gdm.service')).toBe(true);
    expect(await u.isActive('x.service')).toBe(false);
    await expect(u.isActive('nope.service')).rejects.toThrow(
      'systemctl is-active nope.service: Unit nope.service could not be found.',
    );
    await u.stop('gdm.service');
    await expect(u.stop('bad.service')).rejects.toThrow(
      'systemctl stop bad.service: Failed to stop bad.service: Access denied',
    );
    expect(calls).toContain('systemctl stop -- gdm.service');
  });
});
