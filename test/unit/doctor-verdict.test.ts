// doctor --domain judges the plan, through the hook's own verdict: VFs that <passthru:pf> creates are
// not missing (also when another device is refused), the config's protected list counts, and the
// finding a refusal is about fails with the planner's words.
import { describe, expect, it } from 'vitest';
import { SimKernel } from '../../src/sim/kernel.js';
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
import { runDoctor } from '../../src/doctor/run.js';
import { readDomainPassthrough } from '../../src/xml/domain-reader.js';
import { withDefaults } from '../../src/config/types.js';
import type { SimHostState } from '../../src/sim/state.js';
import type { CheckResult } from '../../src/doctor/types.js';

const NS = "xmlns:passthru='https://passthru.dev/xmlns/domain/1'";
const hd = (bus: string, slot: string, fn: string) =>
  `<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x${bus}' slot='0x${slot}' function='0x${fn}'/></source></hostdev>`;
const dom = (devices: string, meta = '') =>
  `<domain type='kvm'><name>vm1</name><metadata><passthru:devices ${NS}>${meta}</passthru:devices></metadata><devices>${devices}</devices></domain>`;
const VFS = "<passthru:pf dev='enp3s0f0' vfs='2'/>";

async function findings(xml: string, config = withDefaults({})): Promise<Record<string, CheckResult>> {
  const k = new SimKernel(hostFromFixture(structuredClone(EMBEDDED_FIXTURES.workstation) as SimHostState));
  const hook = { sysfs: k, netlink: k, config, stateDir: '', timeoutMs: 10_000, realRoot: false };
  const r = await runDoctor({ sysfs: k, host: 'test', realRoot: false, domain: readDomainPassthrough(xml), hook });
  return Object.fromEntries(r.checks.filter((c) => c.id.startsWith('domain-')).map((c) => [c.id, c]));
}

describe('doctor --domain judges the plan', () => {
  it('a VF the domain creates passes, and the verdict with it', async () => {
    const f = await findings(dom(hd('03', '10', '0'), VFS));
    expect(f['domain-verdict']!.status).toBe('pass');
    expect(f['domain-verdict']!.detail).toContain('0000:03:10.0 judged again once its PF has the VFs');
    expect(f['domain-device:0000:03:10.0']!.status).toBe('pass');
  });

  it('a VF the domain creates is not missing when another device is refused; the refused one fails', async () => {
    const f = await findings(dom(hd('03', '10', '0') + hd('00', '1c', '0'), VFS));
    expect(f['domain-device:0000:03:10.0']!.status).toBe('pass');
    expect(f['domain-device:0000:00:1c.0']!.status).toBe('fail');
    expect(f['domain-verdict']!.detail).toBe(
      'refused: 0000:00:1c.0 is a PCI bridge (class 0604): vfio-pci does not bind bridges; remove this hostdev',
    );
  });

  it("judges with the hook's config: a protected device fails, and its group peer's finding too", async () => {
    const xml = dom(hd('01', '00', '0'));
    expect((await findings(xml))['domain-verdict']!.status).toBe('pass');
    const f = await findings(xml, withDefaults({ protected: ['0000:01:00.1'] }));
    expect(f['domain-verdict']!.status).toBe('fail');
    expect(f['domain-device:0000:01:00.0']!.detail).toBe(
      `0000:01:00.1 (IOMMU group peer of 0000:01:00.0) is protected by the configuration ('0000:01:00.1'; override: remove it from "protected")`,
    );
  });
});
