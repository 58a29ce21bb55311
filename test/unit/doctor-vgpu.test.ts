// `passthru doctor --domain` on <passthru:vgpu> entries: the planner's verdict, pass or fail with the
// reason, and the VF's hostdev line says it stays on its driver (no vfio-pci bind).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
import { writeSimFile } from '../../src/sim/persist.js';
import type { SimHostState } from '../../src/sim/state.js';

interface Check {
  id: string;
  status: string;
  detail: string;
}

function doctor(
  vf0Type?: number,
  xml = readFileSync('fixtures/xml/golden/host-q35-add-vgpu-of-pf.xml', 'utf8'),
): Check[] {
  const dir = mkdtempSync(join(tmpdir(), 'passthru-doctor-vgpu-'));
  const host = hostFromFixture(structuredClone(EMBEDDED_FIXTURES.server) as SimHostState);
  if (vf0Type) host.devices.find((d) => d.address === '0000:41:00.4')!.vgpuType = vf0Type;
  writeSimFile(join(dir, 'host.json'), host);
  const domain = join(dir, 'd.xml');
  writeFileSync(domain, xml);
  const r = spawnSync(process.execPath, ['dist/passthru.js', 'doctor', '--json', '--domain', domain], {
    env: { ...process.env, PASSTHRU_SIM: join(dir, 'host.json') },
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  return (JSON.parse(r.stdout) as { checks: Check[] }).checks.filter((c) => c.id.includes('0000:41:00.4'));
}

describe('doctor --domain with an NVIDIA vGPU entry', () => {
  it('passes when the hook can create it, and does not claim it will bind the VF to vfio-pci', () => {
    const [dev, vgpu] = doctor();
    expect(dev).toMatchObject({ id: 'domain-device:0000:41:00.4', status: 'pass' });
    expect(dev!.detail).toContain("managed='no', an NVIDIA vGPU VF: stays on its driver");
    expect(vgpu).toEqual({
      id: 'domain-vgpu:0000:41:00.4',
      title: 'vGPU 1157 on 0000:41:00.4',
      status: 'pass',
      detail:
        'the hook creates it: NVIDIA vGPU type 1157 (NVIDIA L40S-12Q) on VF 0000:41:00.4, and destroys it at stop',
    });
  });

  it("fails, with the planner's reason, when the VF already holds another type", () => {
    const [, vgpu] = doctor(1158);
    expect(vgpu).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(
        /^0000:41:00\.4 already has vGPU type 1158; 1157 asked \(a vGPU is changed only by destroying it/,
      ) as unknown,
    });
  });

  it('a managed=no vGPU VF made by hand (no entry): pass with its type, fail without one', () => {
    const byHand = readFileSync('fixtures/xml/domain-q35.xml', 'utf8').replace(
      '</devices>',
      "  <hostdev mode='subsystem' type='pci' managed='no'>\n      <source>\n        <address domain='0x0000' bus='0x41' slot='0x00' function='0x4'/>\n      </source>\n    </hostdev>\n  </devices>",
    );
    const [dev, withType] = doctor(1157, byHand);
    expect(dev!.detail).toContain('stays on its driver');
    expect(withType).toMatchObject({
      id: 'domain-vgpu:0000:41:00.4',
      status: 'pass',
      detail: '0000:41:00.4 has vGPU type 1157 (made outside passthru): the hook leaves it as it is, on its driver',
    });
    const [, without] = doctor(undefined, byHand);
    expect(without).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('with no vGPU type: the hook refuses to start the domain') as unknown,
    });
  });
});
