// Golden files: one expected output per CLI invocation (regenerate with UPDATE_GOLDEN=1), each
// validated against libvirt's schemas with virt-xml-validate.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { validatorsPresent, xmlfixNoHost } from '../support/xmlfix-run.js';
import { describe, expect, it } from 'vitest';

const CASES: [string, string[]][] = [
  ['q35-add-hostdev', ['fixtures/xml/domain-q35.xml', '--add-hostdev', '0000:01:00.0']],
  [
    'q35-add-hostdev-options',
    [
      'fixtures/xml/domain-q35.xml',
      '--add-hostdev',
      'pci_0000_01_00_0,managed=no,rombar=off,romfile=/usr/share/vgabios/gpu.rom',
    ],
  ],
  [
    'q35-add-mdev',
    [
      'fixtures/xml/domain-q35.xml',
      '--add-mdev',
      'i915-GVTg_V5_4,parent=00:02.0,uuid=c2177883-f1bb-47f0-914d-32a22e3a8804,display=off',
    ],
  ],
  [
    'q35-add-vf-interface',
    [
      'fixtures/xml/domain-q35.xml',
      '--add-vf',
      '03:10.0,mac=52:54:00:aa:00:01,vlan=100,trust=on,spoofchk=off,state=enable,min-rate=100,max-rate=1000',
    ],
  ],
  [
    'q35-add-vf-hostdev',
    ['fixtures/xml/domain-q35.xml', '--add-vf', '03:10.2,mac=52:54:00:aa:00:02,vlan=7,as=hostdev'],
  ],
  [
    'q35-several',
    [
      'fixtures/xml/domain-q35.xml',
      '--add-hostdev',
      '01:00.0',
      '--add-hostdev',
      '01:00.1',
      '--add-mdev',
      'nvidia-63,uuid=9a4c4b4e-7d0b-4c55-a0a5-6f3c1a1b2c3d',
      '--add-vf',
      '03:10.4,mac=52:54:00:aa:00:04',
    ],
  ],
  ['q35-memory-backing', ['fixtures/xml/domain-q35.xml', '--memory-backing', 'hugepages,threads=8']],
  ['i440fx-add-hostdev-double-quotes', ['fixtures/xml/domain-i440fx.xml', '--add-hostdev', '06:00.0,bootindex=1']],
  ['i440fx-remove-all', ['fixtures/xml/domain-i440fx.xml', '--remove-hostdev', 'all']],
  ['network-add-vf-address', ['fixtures/xml/network-pool.xml', '--add-vf-address', '0000:03:10.4']],
  ['pool-pf', ['pool', 'vfpool', '--pf', 'enp3s0f0']],
  ['pool-vfs-vlan', ['pool', 'vfpool2', '--vf', '03:10.0', '03:10.4', '--vlan', '42']],
];

const update = process.env.UPDATE_GOLDEN === '1';

describe('xmlfix golden outputs', () => {
  it.each(CASES)('%s', (name, args) => {
    const r = xmlfixNoHost(args);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const file = `fixtures/xml/golden/${name}.xml`;
    if (update || !existsSync(file)) writeFileSync(file, r.stdout);
    expect(r.stdout).toBe(readFileSync(file, 'utf8'));
    // The same invocation on its own output changes nothing (pool outputs are new documents).
    if (args[0] !== 'pool') {
      const again = xmlfixNoHost(['-', ...args.slice(1), '--check'], r.stdout);
      expect(again.status).toBe(0);
    }
  });

  it('every golden output validates with virt-xml-validate', () => {
    if (!validatorsPresent(['virt-xml-validate'], 'libvirt-clients')) return;
    for (const [name] of CASES) {
      const v = spawnSync('virt-xml-validate', [`fixtures/xml/golden/${name}.xml`], { encoding: 'utf8' });
      expect(`${name}: ${v.status} ${v.stderr.trim()}`).toBe(`${name}: 0 fixtures/xml/golden/${name}.xml validates`);
    }
  });
});

describe('our metadata', () => {
  it('every golden <passthru:devices> validates against schemas/passthru-metadata.rng, and a bad one does not', async () => {
    const { parseTree } = await import('../../src/xml/tree.js');
    const { findContainer } = await import('../../src/xml/metadata-edit.js');
    const validate = (xml: string) =>
      spawnSync('xmllint', ['--noout', '--relaxng', 'schemas/passthru-metadata.rng', '-'], {
        input: xml,
        encoding: 'utf8',
      }).status;
    let checked = 0;
    for (const [name, args] of CASES) {
      if (args[0] === 'pool' || args[0]!.includes('network')) continue;
      const doc = parseTree(readFileSync(`fixtures/xml/golden/${name}.xml`, 'utf8'));
      const c = findContainer(doc);
      if (!c) continue;
      expect(validate(doc.text.slice(c.element.start, c.element.end)), name).toBe(0);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(3);
    expect(
      validate(
        "<p:devices xmlns:p='https://passthru.dev/xmlns/domain/1'><p:vf address='0000:03:10.0' vlan='9999'/></p:devices>",
      ),
    ).not.toBe(0);
  });
});
