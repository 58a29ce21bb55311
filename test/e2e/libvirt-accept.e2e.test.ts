// The libvirt acceptance tier: every XML our tests hold up as right is defined on a real libvirt,
// not only validated against its RNG. libvirt's parser and its define-time checks (a boot order
// used twice, per-device boot beside <os><boot>, addresses out of range) run in its test driver
// (`virsh --connect test:///default define`, in the memory of that one virsh: nothing persists, no
// daemon needed). Covered: the golden outputs (fixtures/xml/golden, test/golden/xmlfix), the XML
// inputs they are made from, and every scenario domain the sim and e2e suites drive the hook with.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { domainXml } from '../support/domains.js';
import { GOLDEN_DIR } from '../support/golden-cases.js';
import { expectScenarios, mergedDomain, scenarios } from '../support/scenarios.js';

const haveVirsh = spawnSync('sh', ['-c', 'command -v virsh']).status === 0;
const skip = !haveVirsh && process.env.PASSTHRU_SKIP_E2E === '1';
if (skip) console.warn('libvirt acceptance skipped: virsh missing (PASSTHRU_SKIP_E2E=1)');

const dir = mkdtempSync(join(tmpdir(), 'passthru-accept-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** libvirt's verdict on one document: 'ok', or its error line. */
function define(xml: string): string {
  const file = join(dir, 'doc.xml');
  writeFileSync(file, xml);
  const command = /^\s*(?:<\?xml[^>]*>\s*)?<network[\s>]/.test(xml) ? 'net-define' : 'define';
  const r = spawnSync('virsh', ['--quiet', '--connect', 'test:///default', command, file], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (r.status === 0) return 'ok';
  return (
    r.stderr
      .split('\n')
      .filter((l) => l.startsWith('error:') && !l.includes('Failed to define'))
      .join(' ') || r.stderr
  );
}

const xmlFiles = (d: string, ext: string): string[] =>
  readdirSync(d)
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => join(d, f))
    .filter((f) => /^\s*(?:<\?xml[^>]*>\s*)?<(?:domain|network)[\s>]/.test(readFileSync(f, 'utf8')));

describe.skipIf(skip)('libvirt accepts the XML of the tests (virsh, test:///default)', () => {
  if (!haveVirsh) {
    it('has virsh (libvirt-clients)', () => {
      throw new Error('virsh is missing: run `npm run test:setup`, or set PASSTHRU_SKIP_E2E=1');
    });
    return;
  }

  const goldens = [
    ...xmlFiles('fixtures/xml/golden', '.xml'),
    ...xmlFiles(GOLDEN_DIR, '.out'),
    ...xmlFiles('fixtures/xml', '.xml'),
    ...xmlFiles(join(GOLDEN_DIR, 'inputs'), '.xml').filter((f) => !f.includes('/bad-')),
  ];

  it('finds the golden outputs and inputs', () => {
    expect(goldens.length).toBeGreaterThan(40);
  });

  it.each(goldens)('%s', (file) => {
    expect(define(readFileSync(file, 'utf8'))).toBe('ok');
  });

  const domains = Object.keys(expectScenarios).flatMap((fixture) =>
    scenarios(fixture).flatMap((sc) => [
      ...sc.domains.map((d) => [`${fixture} ${sc.name}: ${d.name}`, domainXml(d)] as const),
      [`${fixture} ${sc.name}: merged`, domainXml(mergedDomain(sc))] as const,
    ]),
  );

  it.each(domains)('scenario domain %s', (_name, xml) => {
    expect(define(xml)).toBe('ok');
  });

  it('is a real check: libvirt refuses what it should', () => {
    expect(define(readFileSync(join(GOLDEN_DIR, 'inputs', 'bad-source-address.xml'), 'utf8'))).toContain(
      "Invalid PCI address slot='0x40'",
    );
  });
});
