// doctor's reset/power findings for a domain's devices (src/doctor/gpu.ts), golden, on the simulated
// single-GPU host: the AMD reset bug warning and its fix, the config's policy shown, idle D3.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { hostFromFixture, loadFixture } from '../../src/sim/fixture.js';
import { SimKernel } from '../../src/sim/kernel.js';
import { HostReader } from '../../src/host/reader.js';
import { gpuChecks } from '../../src/doctor/gpu.js';
import { formatDoctor } from '../../src/doctor/format.js';
import { parseConfig } from '../../src/config/load.js';
import { readDomainPassthrough } from '../../src/xml/domain-reader.js';

const FIXTURE = join(__dirname, '../../fixtures/hosts/single-gpu.json');

function domain(addrs: string[]): string {
  const hd = addrs.map((a) => {
    const [, bus, slot, fn] = /^0000:(..):(..)\.(.)$/.exec(a)!;
    return `<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x${bus}' slot='0x${slot}' function='0x${fn}'/></source></hostdev>`;
  });
  return `<domain type='kvm'><name>g</name><uuid>6b1c3a8e-3c1d-4c55-9a55-0d6a3c3f0b11</uuid><devices>${hd.join('')}</devices></domain>`;
}

async function report(config: object, addrs: string[], files: Record<string, string> = {}): Promise<string> {
  const fx = await loadFixture(FIXTURE);
  fx.files = { ...fx.files, ...files };
  const k = new SimKernel(hostFromFixture(fx));
  const snap = await new HostReader(k).fullSnapshot();
  const checks = await gpuChecks(
    readDomainPassthrough(domain(addrs)),
    snap,
    k,
    parseConfig(JSON.stringify(config), 'c'),
  );
  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status]++;
  return formatDoctor({ host: 'test', family: 'debian', checks, summary });
}

describe('doctor: reset and power of assigned devices', () => {
  it('warns on an AMD GPU with only bus reset, with the vendor-reset fix; a device without reset_method passes', async () => {
    expect(await report({}, ['0000:0b:00.0', '0000:0b:00.1', '0000:01:00.0'])).toBe(
      [
        'passthru doctor: test, Debian/Proxmox family',
        "WARN  reset of 0000:0b:00.0: reset_method 'bus': 0000:0b:00.0 is an AMD GPU with only bus reset (the AMD reset bug family: the GPU stays hung for the next start)",
        '      fix: install vendor-reset (dkms) and load it at boot (echo vendor-reset > /etc/modules-load.d/vendor-reset.conf), then in /etc/passthru/config.json: {"devices": {"1002:731f": {"resetMethod": ["device_specific"]}}}',
        'PASS  reset of 0000:0b:00.1: no reset_method',
        "PASS  reset of 0000:01:00.0: reset_method 'flr bus'",
        '2 passed, 1 warnings, 0 failed',
        '',
      ].join('\n'),
    );
  });

  it('passes once the config sets device_specific, and shows what the policy changes', async () => {
    const cfg = { devices: { '1002:731f': { resetMethod: ['device_specific'], d3coldAllowed: false } } };
    expect(await report(cfg, ['0000:0b:00.0'])).toBe(
      [
        'passthru doctor: test, Debian/Proxmox family',
        "PASS  reset of 0000:0b:00.0: reset_method 'bus'; while the domain runs 'device_specific' (config); d3cold_allowed 0 while the domain runs (config)",
        '1 passed, 0 warnings, 0 failed',
        '',
      ].join('\n'),
    );
  });

  it('idleD3: false checks vfio-pci disable_idle_d3, which is module-wide', async () => {
    const cfg = { devices: { '0b:00.0': { idleD3: false, resetMethod: ['device_specific'] } } };
    const off = await report(cfg, ['0000:0b:00.0'], { 'sys/module/vfio_pci/parameters/disable_idle_d3': 'N\n' });
    expect(off.split('\n').slice(2, 4)).toEqual([
      'WARN  vfio-pci idle D3: the config marks 0000:0b:00.0 idleD3: false, but vfio-pci has disable_idle_d3=N; the option is module-wide and read when vfio-pci loads',
      '      fix: echo "options vfio-pci disable_idle_d3=1" > /etc/modprobe.d/vfio-idle-d3.conf && update-initramfs -u && reboot',
    ]);
    const on = await report(cfg, ['0000:0b:00.0'], { 'sys/module/vfio_pci/parameters/disable_idle_d3': 'Y\n' });
    expect(on.split('\n')[2]).toBe(
      'PASS  vfio-pci idle D3: disable_idle_d3=Y: vfio-pci keeps 0000:0b:00.0 out of D3 while idle',
    );
  });
});
