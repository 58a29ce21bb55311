// VFIO variant drivers from modules.alias (src/host/variant-drivers.ts): parsing, the device's
// modalias, the most specific match, and `passthru list` showing it on a simulated host.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bestVariant, modaliasOf, needsSubsystem, parseVariantAliases } from '../../src/host/variant-drivers.js';
import type { PciDeviceInfo } from '../../src/host/types.js';
import { loadFixture } from '../../src/sim/fixture.js';
import { run } from '../support/proc.js';
import { dist, nodeBin } from '../support/paths.js';

const ALIASES = [
  'alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core',
  'alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci',
  'alias vfio_pci:v000010DEd00002342sv*sd*bc*sc*i* nvgrace_gpu_vfio_pci',
  'alias vfio_pci:v000010DEd*sv*sd*bc03sc*i* generic_nv_vfio_pci',
  'alias vfio_pci:v000010DEd00002342sv*sd*bc03sc*i* zz_specific_vfio_pci',
  '',
].join('\n');

const dev = (vendor: string, device: string, cls = '030000'): PciDeviceInfo => ({
  address: '0000:01:00.0',
  vendor,
  device,
  class: cls,
  netdevs: [],
  isBridge: false,
});

describe('vfio variant drivers', () => {
  it('reads only the vfio_pci aliases and builds the modalias as the kernel does', () => {
    expect(parseVariantAliases(ALIASES).map((a) => a.module)).toEqual([
      'mlx5_vfio_pci',
      'nvgrace_gpu_vfio_pci',
      'generic_nv_vfio_pci',
      'zz_specific_vfio_pci',
    ]);
    expect(modaliasOf(dev('10de', '2342'), { vendor: '10de', device: '1234' })).toBe(
      'v000010DEd00002342sv000010DEsd00001234bc03sc00i00',
    );
  });

  it('picks the most specific pattern; none for a device no variant driver claims', () => {
    const a = parseVariantAliases(ALIASES);
    expect(bestVariant(dev('10de', '2342'), a)).toBe('zz_specific_vfio_pci');
    expect(bestVariant(dev('10de', '2684'), a)).toBe('generic_nv_vfio_pci');
    expect(bestVariant(dev('15b3', '101e', '020000'), a)).toBe('mlx5_vfio_pci');
    expect(bestVariant(dev('1002', '731f'), a)).toBeUndefined();
  });

  it('an alias that names subsystem ids needs them: read only for a device it could match', () => {
    const a = parseVariantAliases('alias vfio_pci:v000010DEd00002342sv000010DEsd00001609bc*sc*i* oem_vfio_pci\n');
    expect(needsSubsystem(dev('10de', '2342'), a)).toBe(true);
    expect(needsSubsystem(dev('10de', '2684'), a)).toBe(false);
    expect(bestVariant(dev('10de', '2342'), a)).toBeUndefined();
    expect(bestVariant(dev('10de', '2342'), a, { vendor: '10de', device: '1609' })).toBe('oem_vfio_pci');
    expect(bestVariant(dev('10de', '2342'), a, { vendor: '10de', device: '0001' })).toBeUndefined();
  });

  it('passthru list notes the variant driver from lib/modules/RELEASE/modules.alias under the host root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'passthru-variant-'));
    try {
      const fx = await loadFixture(join(__dirname, '../../fixtures/hosts/single-gpu.json'));
      fx.files = {
        ...fx.files,
        'lib/modules/6.1.0-28-amd64/modules.alias':
          'alias vfio_pci:v00001002d0000731Fsv*sd*bc*sc*i* amd_example_vfio_pci\n',
      };
      const fixture = join(dir, 'fx.json');
      writeFileSync(fixture, JSON.stringify(fx));
      const sim = join(dir, 'host.json');
      expect((await run(nodeBin, [dist.passthru, 'sim', 'init', '--fixture', fixture, '-o', sim])).code).toBe(0);
      const r = await run(nodeBin, [dist.passthru, 'list', '--filter', '1002:'], { env: { PASSTHRU_SIM: sim } });
      expect(r.stdout).toContain(
        '0000:0b:00.0  1002:731f  VGA compatible controller  amdgpu         boot VGA; vfio variant amd_example_vfio_pci',
      );
      const json = await run(nodeBin, [dist.passthru, 'list', '--json'], { env: { PASSTHRU_SIM: sim } });
      const listed = (JSON.parse(json.stdout) as { devices: { address: string; vfioVariant?: string }[] }).devices;
      expect(listed.filter((d) => d.vfioVariant)).toEqual([
        expect.objectContaining({ address: '0000:0b:00.0', vfioVariant: 'amd_example_vfio_pci' }),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
