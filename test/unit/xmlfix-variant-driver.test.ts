// xmlfix --variant-driver: <driver model=…> on a hostdev, only for a libvirt that knows it (10.0+),
// the module from the host's modules.alias when none is named, and the refusals with their lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFixture } from '../../src/sim/fixture.js';
import { setHostdevDriverModel } from '../../src/xml/hostdev-driver-edit.js';
import { parsePciAddress } from '../../src/pci/address.js';
import { run } from '../support/proc.js';
import { dist, nodeBin } from '../support/paths.js';

const GPU = '0000:0b:00.0';
const dom = (hostdevInner: string) =>
  `<domain type='kvm'>\n  <name>g</name>\n  <devices>\n    <hostdev mode='subsystem' type='pci' managed='yes'>\n${hostdevInner}      <source>\n        <address domain='0x0000' bus='0x0b' slot='0x00' function='0x0'/>\n      </source>\n    </hostdev>\n  </devices>\n</domain>\n`;

let dir: string;
let sim: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'passthru-xmlfix-variant-'));
  const fx = await loadFixture(join(__dirname, '../../fixtures/hosts/single-gpu.json'));
  fx.files = {
    ...fx.files,
    'lib/modules/6.1.0-28-amd64/modules.alias':
      'alias vfio_pci:v00001002d0000731Fsv*sd*bc*sc*i* amd_example_vfio_pci\n',
  };
  writeFileSync(join(dir, 'fx.json'), JSON.stringify(fx));
  sim = join(dir, 'host.json');
  await run(nodeBin, [dist.passthru, 'sim', 'init', '--fixture', join(dir, 'fx.json'), '-o', sim]);
  writeFileSync(join(dir, 'd.xml'), dom(''));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const xmlfix = (args: string[], version?: string) =>
  run(nodeBin, [dist.xmlfix, join(dir, 'd.xml'), ...args], {
    env: { PASSTHRU_SIM: sim, ...(version ? { PASSTHRU_LIBVIRT_VERSION: version } : {}) },
  });

describe('xmlfix --variant-driver', () => {
  it('writes the module modules.alias offers, or the one named; twice is once', async () => {
    const auto = await xmlfix(['--variant-driver', GPU], '10.0.0');
    expect(auto.stderr).toBe('');
    expect(auto.stdout).toBe(
      dom('').replace('      </source>\n', "      </source>\n      <driver model='amd_example_vfio_pci'/>\n"),
    );
    const named = await xmlfix(
      ['--variant-driver', `${GPU}=mlx5_vfio_pci`, '--variant-driver', `0b:00.0=mlx5_vfio_pci`],
      '10.5.0',
    );
    expect(named.stdout).toContain("<driver model='mlx5_vfio_pci'/>");
    expect(named.stdout.match(/<driver /g)).toHaveLength(1);
  });

  it('adds model= to an existing <driver>, refuses to overwrite another model', () => {
    const withDriver = dom("      <driver name='vfio'/>\n");
    const out = setHostdevDriverModel(withDriver, parsePciAddress(GPU), 'x_vfio_pci');
    expect(out).toBe(dom("      <driver name='vfio' model='x_vfio_pci'/>\n"));
    expect(() => setHostdevDriverModel(out, parsePciAddress(GPU), 'y_vfio_pci')).toThrow(
      "the hostdev 0000:0b:00.0 already has <driver model='x_vfio_pci'>: change it by hand (virsh edit) to use y_vfio_pci",
    );
  });

  it('refuses for an older or unknown libvirt, a device without a variant, a device not in the domain', async () => {
    const old = await xmlfix(['--variant-driver', GPU], '9.0.0');
    expect(old.code).toBe(2);
    expect(old.stderr).toBe(
      'xmlfix: --variant-driver: libvirt 9.0.0 on this host does not know <driver model=…> on a hostdev (libvirt 10.0+); it would refuse the domain\n',
    );
    const unknown = await xmlfix(['--variant-driver', GPU]);
    expect(unknown.stderr).toMatch(/^xmlfix: --variant-driver: cannot tell the host's libvirt version/);
    writeFileSync(join(dir, 'd.xml'), dom('').replace("bus='0x0b'", "bus='0x05'"));
    const none = await xmlfix(['--variant-driver', '0000:05:00.0'], '10.0.0');
    expect(none.stderr).toBe(
      "xmlfix: --variant-driver: the kernel's modules.alias (lib/modules/6.1.0-28-amd64) offers no vfio variant driver for 0000:05:00.0 (10ec:8168); name one: --variant-driver 0000:05:00.0=MODULE\n",
    );
    const absent = await xmlfix(['--variant-driver', `${GPU}=x_vfio_pci`], '10.0.0');
    expect(absent.stderr).toBe('xmlfix: 0000:0b:00.0 is not a PCI <hostdev> of this domain (--add-hostdev it first)\n');
    writeFileSync(join(dir, 'd.xml'), dom(''));
  });

  it('--add-hostdev ADDR,driver.model=MODULE: the same property on a new hostdev, one function only, libvirt 10.0+', async () => {
    writeFileSync(join(dir, 'e.xml'), dom('').replace(/ {4}<hostdev[\s\S]*<\/hostdev>\n/, ''));
    const add = (value: string, version: string) =>
      run(nodeBin, [dist.xmlfix, join(dir, 'e.xml'), '--add-hostdev', value], {
        env: { PASSTHRU_SIM: sim, PASSTHRU_LIBVIRT_VERSION: version },
      });
    const added = await add(`${GPU},driver.model=amd_example_vfio_pci`, '10.0.0');
    expect(added.stderr).toBe('');
    expect(added.stdout).toContain(
      "    <hostdev mode='subsystem' type='pci' managed='yes'>\n      <source>\n        <address domain='0x0000' bus='0x0b' slot='0x00' function='0x0'/>\n      </source>\n      <driver model='amd_example_vfio_pci'/>\n    </hostdev>\n",
    );
    const old = await add(`${GPU},driver.model=amd_example_vfio_pci`, '9.0.0');
    expect(old.stderr).toBe(
      'xmlfix: --add-hostdev driver.model: libvirt 9.0.0 on this host does not know <driver model=…> on a hostdev (libvirt 10.0+); it would refuse the domain\n',
    );
    const slot = await add('0b:00,driver.model=amd_example_vfio_pci', '10.0.0');
    expect(slot.stderr).toBe(
      "xmlfix: --add-hostdev: driver.model names one function's driver, and the slot 0b:00 has 2: give the function's address (0000:0b:00.0)\n",
    );
    const bad = await add(`${GPU},driver.model=../x`, '10.0.0');
    expect(bad.stderr).toBe("xmlfix: invalid --add-hostdev driver.model '../x' (a kernel module name)\n");
  });
});
