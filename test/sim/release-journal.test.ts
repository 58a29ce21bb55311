// Release follows the journal, not the XML: a domain whose live XML no longer names passthrough
// (our metadata removed with `virsh metadata --live --remove`, its only hostdev detached) still has
// its journal undone at `release end`, through hooks/qemu as libvirtd runs it.
import { describe, expect, it } from 'vitest';
import { installedHostForSuite } from '../support/entry.js';
import { domainUuid, domainXml, type DomainSpec } from '../support/domains.js';

describe('release of a domain whose XML lost its passthrough', () => {
  const suite = installedHostForSuite('workstation');

  const cases: [string, DomainSpec][] = [
    ['metadata removed', { name: 'rel-meta', pfs: [{ dev: 'enp3s0f0', vfs: 2 }] }],
    // the GPU's audio peer was bound to vfio-pci for it; then the GPU was detached
    ['only hostdev detached', { name: 'rel-detached', hostdevs: [{ address: '0000:01:00.0' }] }],
  ];
  for (const [what, spec] of cases) {
    it(`${what}: release undoes the journal`, async () => {
      const start = suite.host.state();
      const p = await suite.entry.run([spec.name, 'prepare', 'begin', '-'], domainXml(spec));
      expect([p.code, p.stderr]).toEqual([0, '']);
      expect(suite.host.state()).not.toBe(start);
      // the same domain (name, uuid) with nothing of ours left in its XML
      const bare = domainXml({ name: spec.name, uuid: domainUuid(spec) });
      expect(bare).not.toMatch(/hostdev|passthru/);
      const r = await suite.entry.run([spec.name, 'release', 'end', '-', 'destroyed'], bare);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(suite.host.journals()).toEqual([]);
      expect(suite.host.state()).toBe(start);
    });
  }
});
