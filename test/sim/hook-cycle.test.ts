// Full prepare/release cycles through the real hook (dist/hook.cjs, and hooks/qemu for one) on the
// simulated workstation and server: the host must end byte-identical (canonical JSON) to its start.
// Also: a start that fails midway leaves the host as it was; recover after a partial journal;
// a refusal changes nothing; the dry run shows the plan and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimHost } from '../support/simhost.js';
import { scenarios, type Scenario } from '../support/scenarios.js';
import { domainUuid, domainXml, type DomainSpec } from '../support/domains.js';
import { run, hookEnv } from '../support/proc.js';
import { dist, hookTemplate, nodeBin } from '../support/paths.js';
import { renderHookEntry } from '../../src/hook/entry-template.js';

const hosts: Record<string, SimHost> = {};

async function cycle(
  h: SimHost,
  sc: Scenario,
  via: (d: DomainSpec, op: 'prepare' | 'release') => Promise<{ code: number | null; stderr: string }>,
): Promise<void> {
  const start = h.state();
  for (const d of sc.domains) {
    const r = await via(d, 'prepare');
    expect(r.stderr, `prepare ${d.name}`).toBe('');
    expect(r.code, `prepare ${d.name}`).toBe(0);
  }
  // every domain is recorded as holding what it asked for
  const status = JSON.parse((await h.passthru(['status', '--json'])).stdout) as {
    domains: { name: string; state: string }[];
  };
  expect(status.domains.map((x) => [x.name, x.state]).sort()).toEqual(
    sc.domains.map((d) => [d.name, 'running']).sort(),
  );
  for (const d of [...sc.domains].reverse()) {
    const r = await via(d, 'release');
    expect(r.stderr, `release ${d.name}`).toBe('');
    expect(r.code, `release ${d.name}`).toBe(0);
  }
  expect(h.journals()).toEqual([]);
  expect(h.state()).toBe(start);
}

for (const fixture of ['workstation', 'server']) {
  describe(`hook cycles on the ${fixture} fixture`, () => {
    beforeAll(async () => {
      hosts[fixture] = await SimHost.create(fixture);
    });
    afterAll(() => hosts[fixture]?.cleanup());

    for (const sc of scenarios(fixture)) {
      it(`${sc.name}: prepare then release restores the host exactly`, async () => {
        const h = hosts[fixture]!.copy();
        try {
          await cycle(h, sc, (d, op) => h.hook(d.name, op, domainXml(d)));
        } finally {
          h.cleanup();
        }
      });
    }
  });
}

describe('through hooks/qemu as libvirtd runs it', () => {
  it('prepares and releases every workstation scenario at once, under the lock, with a minimal environment', async () => {
    const h = await SimHost.create('workstation');
    try {
      const entry = join(h.dir, 'qemu');
      writeFileSync(
        entry,
        renderHookEntry(readFileSync(hookTemplate, 'utf8'), {
          node: nodeBin,
          hookJs: dist.hook,
          env: { PASSTHRU_SIM: h.file, PASSTHRU_STATE_DIR: h.stateDir },
        }),
      );
      chmodSync(entry, 0o755);
      const sc = scenarios('workstation').find((s) => s.name === 'several')!;
      await cycle(h, sc, (d, op) =>
        run(entry, [d.name, op, op === 'release' ? 'end' : 'begin', '-'], { input: domainXml(d), env: hookEnv({}) }),
      );
    } finally {
      h.cleanup();
    }
  });
});

describe('failures', () => {
  let base: SimHost;
  beforeAll(async () => {
    base = await SimHost.create('workstation');
  });
  afterAll(() => base?.cleanup());
  const sc = () => scenarios('workstation').find((s) => s.name === 'gpu-peers')!;

  it('a start that fails midway leaves the host as it was, with one line naming device and step', async () => {
    await base.withCopy(async (h) => {
      const d = sc().domains[0]!;
      const start = h.state();
      const r = await h.hook(d.name, 'prepare', domainXml(d), { faults: { failWrite: { n: 2, errno: 'EIO' } } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^passthru: prepare of '.+': 0000:[0-9a-f:.]+: [a-z_ ]+ failed: .*EIO.*; host restored\n$/,
      );
      expect(h.state()).toBe(start);
      expect(h.journals()).toEqual([]);
      // libvirt still runs release after a failed start: nothing to do, exit 0
      const rel = await h.hook(d.name, 'release', domainXml(d));
      expect([rel.code, rel.stderr]).toEqual([0, '']);
      expect(h.state()).toBe(start);
    });
  });

  it('after a kill mid-prepare, recover restores the host from the partial journal; twice changes nothing', async () => {
    await base.withCopy(async (h) => {
      const d = sc().domains[0]!;
      const start = h.state();
      const r = await h.hook(d.name, 'prepare', domainXml(d), { faults: { killAfterWrite: 2 } });
      expect(r.code).not.toBe(0);
      expect(h.journals()).toEqual([`${domainUuid(d)}.json`]);
      expect(h.state()).not.toBe(start);
      const rec = await h.passthru(['recover', '--all'], { env: { PASSTHRU_LOCKED: '1' } });
      expect([rec.code, rec.stderr]).toEqual([0, '']);
      expect(rec.stdout).toMatch(/change\(s\) undone, journal removed/);
      expect(h.state()).toBe(start);
      const again = await h.passthru(['recover', '--all'], { env: { PASSTHRU_LOCKED: '1' } });
      expect([again.code, again.stdout]).toEqual([0, 'nothing to recover: no journal\n']);
      expect(h.state()).toBe(start);
    });
  });

  it('refuses a domain whose IOMMU group another running domain holds, changing nothing', async () => {
    await base.withCopy(async (h) => {
      const d = sc().domains[0]!;
      const twin: DomainSpec = { ...d, name: `${d.name}-twin`, uuid: undefined };
      expect((await h.hook(d.name, 'prepare', domainXml(d))).code).toBe(0);
      const held = h.state();
      const r = await h.hook(twin.name, 'prepare', domainXml(twin));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^passthru: prepare of '${twin.name}': refused: 0000:[0-9a-f:.]+ (shares IOMMU group \\d+ with devices of|is used by) running domain '${d.name}'\\n$`,
        ),
      );
      expect(h.state()).toBe(held);
      expect((await h.hook(d.name, 'release', domainXml(d))).code).toBe(0);
    });
  });

  it('passthru hook --dry-run prints every step and changes nothing', async () => {
    await base.withCopy(async (h) => {
      const d = sc().domains[0]!;
      const file = join(h.dir, 'd.xml');
      writeFileSync(file, domainXml(d));
      const start = h.state();
      const r = await h.passthru(['hook', '--dry-run', file]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(/^prepare for domain '.+' \(.+\):\n {2}1\. bind-vfio 0000:/);
      expect(r.stdout).toContain('driver_override = vfio-pci');
      expect(r.stdout).toContain('undo:');
      expect(h.state()).toBe(start);
      expect(h.journals()).toEqual([]);
    });
  });
});
