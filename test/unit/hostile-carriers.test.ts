// The documents the reliability and hostile-input suites build are real libvirt XML (checked with
// libvirt's own RNG schemas through virt-xml-validate): a refusal in those suites is then about the
// hostile part, never about a malformed carrier. Also checks the SR-IOV VF address arithmetic.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { domainXml, stableMac, stableUuid } from '../support/domains.js';
import { carrierDomain } from '../support/hostile.js';
import { vfAddress, type FixtureDevice } from '../support/scenarios.js';

function validate(xml: string): { code: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'passthru-carrier-'));
  try {
    const file = join(dir, 'domain.xml');
    writeFileSync(file, xml);
    const r = spawnSync('virt-xml-validate', [file, 'domain'], { encoding: 'utf8' });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('carrier documents', () => {
  it('the hostile-input carrier validates against libvirt schemas', () => {
    expect(validate(carrierDomain())).toMatchObject({ code: 0 });
  });

  it('a domain using every builder feature validates, metadata included', () => {
    const xml = domainXml({
      name: 'every-feature',
      hostdevs: [{ address: '0000:01:00.0' }, { address: '0000:02:00.0', managed: false }],
      mdevs: [{ uuid: stableUuid('a'), type: 'i915-GVTg_V5_4', parent: '0000:00:02.0' }],
      hostdevInterfaces: [{ address: '0000:03:10.0', mac: stableMac('m'), vlan: 5 }],
      pfs: [
        { dev: 'enp3s0f0', vfs: 2 },
        { address: '0000:04:00.0', vfs: 4 },
      ],
      vfs: [{ address: '0000:03:10.0', trust: true, spoofchk: false, state: 'auto', minRate: 0, maxRate: 100 }],
    });
    expect(validate(xml)).toMatchObject({ code: 0 });
    // and a broken one does not: the check can fail
    expect(
      validate(xml.replace("<hostdev mode='subsystem' type='pci'", "<hostdev mode='bogus' type='pci'")).code,
    ).not.toBe(0);
  });

  it('stable UUIDs and MACs have the right shape', () => {
    expect(stableUuid('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableUuid('x')).toBe(stableUuid('x'));
    expect(stableMac('x')).toMatch(/^52:54(:[0-9a-f]{2}){4}$/);
  });
});

describe('VF addresses from offset and stride', () => {
  const pf = (address: string, offset: number, stride: number): FixtureDevice => ({
    address,
    vendor: '8086',
    device: '1521',
    class: '020000',
    sriov: { totalVfs: 7, numVfs: 0, offset, stride },
  });
  it('igb-like: 03:00.0 with offset 128, stride 4', () => {
    expect([0, 1, 2].map((k) => vfAddress(pf('0000:03:00.0', 128, 4), k))).toEqual([
      '0000:03:10.0',
      '0000:03:10.4',
      '0000:03:11.0',
    ]);
  });
  it('crosses a bus boundary like the kernel does', () => {
    expect(vfAddress(pf('0000:05:00.1', 255, 1), 0)).toBe('0000:06:00.0');
  });
});
