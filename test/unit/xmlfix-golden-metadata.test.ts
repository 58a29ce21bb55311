// Golden outputs on a domain whose <metadata> already holds another namespace (libosinfo, as
// virt-install writes it) and our namespace under a prefix of its own ('pt'): entries merge into the
// existing container with its prefix, removals take their metadata entries along, the other
// namespace is never touched. Every output validates with virt-xml-validate, and our container with
// schemas/passthru-metadata.rng. (Regenerate with UPDATE_GOLDEN=1.)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { validatorsPresent, xmlfixNoHost } from '../support/xmlfix-run.js';
import { describe, expect, it } from 'vitest';
import { findContainer } from '../../src/xml/metadata-edit.js';
import { parseTree } from '../../src/xml/tree.js';

const input = 'fixtures/xml/domain-metadata.xml';
const libosinfo = /<libosinfo:libosinfo [^]*?<\/libosinfo:libosinfo>/.exec(readFileSync(input, 'utf8'))![0];

const CASES: [string, string, string[]][] = [
  ['meta-add-mdev', input, ['--add-mdev', 'nvidia-222,uuid=11111111-2222-4333-8444-555555555555']],
  ['meta-add-vf-trust', input, ['--add-vf', '03:10.4,trust=on,max-rate=500']],
  ['meta-remove-mdev-uuid', input, ['--remove-hostdev', '0A3C9E1B-5D7F-4B2A-8C6E-1F9D2B4A7E30']],
  ['meta-remove-vf-mac-interface', input, ['--remove-vf', '52:54:00:12:34:01']],
  ['meta-remove-vf-mac-hostdev', input, ['--remove-vf', '52:54:00:12:34:02']],
  [
    'meta-remove-everything',
    input,
    ['--remove-vf', '0000:03:10.2', '--remove-vf', '03:10.0', '--remove-hostdev', 'all'],
  ],
  ['network-remove-vf-address', 'fixtures/xml/network-pool-two.xml', ['--remove-vf-address', 'pci_0000_03_10_0']],
];

const run = (args: string[], stdin?: string) => xmlfixNoHost(args, stdin ?? '');
const update = process.env.UPDATE_GOLDEN === '1';

describe('xmlfix golden outputs: existing metadata, other namespaces, removals', () => {
  it.each(CASES)('%s', (name, file, args) => {
    const r = run([file, ...args]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const golden = `fixtures/xml/golden/${name}.xml`;
    if (update || !existsSync(golden)) writeFileSync(golden, r.stdout);
    expect(r.stdout).toBe(readFileSync(golden, 'utf8'));
    // The other namespace's content is byte for byte where it was.
    if (file === input) expect(r.stdout).toContain(libosinfo);
    // The same edits on their own output change nothing.
    expect(run(['-', ...args, '--check'], r.stdout).status).toBe(0);
  });

  it('entries keep the prefix the document binds our namespace to, and leave when emptied', () => {
    const added = readFileSync('fixtures/xml/golden/meta-add-mdev.xml', 'utf8');
    expect(added).toContain("<pt:mdev uuid='11111111-2222-4333-8444-555555555555' type='nvidia-222'/>");
    expect(added).not.toContain('passthru:');
    const emptied = readFileSync('fixtures/xml/golden/meta-remove-everything.xml', 'utf8');
    expect(emptied).not.toContain('pt:devices');
    expect(emptied).toContain('<metadata>'); // still holds libosinfo
    expect(emptied).not.toMatch(/<hostdev|<interface type='hostdev'/);
  });

  it('every output validates with virt-xml-validate, our container with its RNG', () => {
    if (!validatorsPresent(['virt-xml-validate', 'xmllint'], 'libvirt-clients, libxml2-utils')) return;
    let containers = 0;
    for (const [name] of CASES) {
      const golden = `fixtures/xml/golden/${name}.xml`;
      const v = spawnSync('virt-xml-validate', [golden], { encoding: 'utf8' });
      expect(`${name}: ${v.status} ${v.stderr.trim()}`).toBe(`${name}: 0 ${golden} validates`);
      const doc = parseTree(readFileSync(golden, 'utf8'));
      const c = findContainer(doc);
      if (!c) continue;
      const rng = spawnSync('xmllint', ['--noout', '--relaxng', 'schemas/passthru-metadata.rng', '-'], {
        input: doc.text.slice(c.element.start, c.element.end),
        encoding: 'utf8',
      });
      expect(`${name}: ${rng.status}`).toBe(`${name}: 0`);
      containers++;
    }
    expect(containers).toBeGreaterThanOrEqual(4);
  });
});
