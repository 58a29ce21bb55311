// passthru doctor --domain judges several new mdevs of one parent together, against the parent's
// shared pool, by the planner's own rule (src/plan/mdev.ts): its verdict is the planner's, and on a
// pool whose costs are whole ports (the lab's mtty: 24 ports, mtty-1 one, mtty-2 two) it is exactly
// what the simulated kernel then lets the hook create; the "left" figures are what sysfs shows after.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimKernel } from '../../src/sim/kernel.js';
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
import { runDoctor } from '../../src/doctor/run.js';
import { HostReader } from '../../src/host/reader.js';
import { planPrepare } from '../../src/plan/prepare.js';
import { PlanRefusal } from '../../src/plan/refusal.js';
import { poolLeft } from '../../src/plan/mdev.js';
import { readDomainPassthrough } from '../../src/xml/domain-reader.js';
import type { SimHostState } from '../../src/sim/state.js';
import type { CheckResult } from '../../src/doctor/types.js';
import { input } from './plan-helpers.js';

const labHost = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'lab', 'lab-host.sim.json'), 'utf8'),
) as SimHostState;
const lab = () => new SimKernel(hostFromFixture(structuredClone(labHost)));
const workstation = () =>
  new SimKernel(hostFromFixture(structuredClone(EMBEDDED_FIXTURES.workstation) as SimHostState));
const IGPU = '0000:00:02.0';

const NS = "xmlns:passthru='https://passthru.dev/xmlns/domain/1'";
/** UUIDs that sort in the order given (the planner places mdevs by UUID). */
const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
interface Want {
  type: string;
  parent?: string;
}
function domainXml(wants: Want[]): string {
  const meta = wants
    .map((w, i) => `<passthru:mdev uuid='${uuid(i)}' type='${w.type}'${w.parent ? ` parent='${w.parent}'` : ''}/>`)
    .join('');
  const devs = wants
    .map(
      (_, i) =>
        `<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='${uuid(i)}'/></source></hostdev>`,
    )
    .join('');
  return `<domain type='kvm'><name>vm1</name><uuid>99999999-2222-4333-8444-555555555555</uuid><metadata><passthru:devices ${NS}>${meta}</passthru:devices></metadata><devices>${devs}</devices></domain>`;
}
const repeat = (n: number, w: Want): Want[] => Array.from({ length: n }, () => w);

async function mdevFindings(k: SimKernel, wants: Want[]): Promise<CheckResult[]> {
  const r = await runDoctor({
    sysfs: k,
    host: 'test',
    realRoot: false,
    domain: readDomainPassthrough(domainXml(wants)),
  });
  return r.checks.filter((c) => c.id.startsWith('domain-mdev:'));
}

async function plannerAccepts(k: SimKernel, wants: Want[]): Promise<boolean> {
  const snap = await new HostReader(k).fullSnapshot();
  try {
    planPrepare(input(readDomainPassthrough(domainXml(wants)), snap));
    return true;
  } catch (err) {
    if (err instanceof PlanRefusal) return false;
    throw err;
  }
}

/** Creates every mdev on the simulated kernel as the hook would; false at the first the kernel refuses. */
async function kernelCreates(k: SimKernel, wants: Want[], parent: string): Promise<boolean> {
  for (let i = 0; i < wants.length; i++) {
    try {
      await k.write(`sys/class/mdev_bus/${parent}/mdev_supported_types/${wants[i]!.type}/create`, uuid(i));
    } catch {
      return false;
    }
  }
  return true;
}

describe('doctor --domain: several mdevs of one parent against its shared pool', () => {
  it('mtty (24 ports): doctor passes exactly the mixes the planner accepts and the kernel creates', async () => {
    let mixed = 0;
    for (const [ones, twos] of [
      [24, 0],
      [25, 0],
      [0, 12],
      [0, 13],
      [22, 1],
      [23, 1],
      [20, 2],
      [21, 2],
      [10, 7],
      [11, 7],
      [2, 11],
      [1, 12],
      [4, 10],
      [6, 9],
    ] as const) {
      const wants = [
        ...repeat(ones, { type: 'mtty-1', parent: 'mtty' }),
        ...repeat(twos, { type: 'mtty-2', parent: 'mtty' }),
      ];
      const found = await mdevFindings(lab(), wants);
      expect(found).toHaveLength(wants.length);
      const doctorPasses = found.every((c) => c.status === 'pass');
      const fits = ones + 2 * twos <= 24;
      expect(doctorPasses, `${ones} x mtty-1 + ${twos} x mtty-2`).toBe(fits);
      expect(await plannerAccepts(lab(), wants)).toBe(doctorPasses);
      expect(await kernelCreates(lab(), wants, 'mtty')).toBe(doctorPasses);
      if (!fits && ones <= 24 && twos <= 12) mixed++; // each type alone has enough: only the pool says no
    }
    expect(mixed).toBeGreaterThan(3);
  });

  it('a mix that no single type exhausts fails on the mdev that overflows the pool, naming the parent, the types and what each has', async () => {
    const wants = [...repeat(20, { type: 'mtty-1', parent: 'mtty' }), ...repeat(3, { type: 'mtty-2', parent: 'mtty' })];
    const found = await mdevFindings(lab(), wants);
    expect(found.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual([`domain-mdev:${uuid(22)}`]);
    const fail = found[22]!;
    expect(fail.detail).toBe(
      "mtty's mdev types draw from one pool: this domain's 20 of 'mtty-1' (24 available) and 3 of 'mtty-2' (12 available) may not fit together",
    );
    expect(fail.fix!.debian).toContain('fewer or smaller mdevs on mtty');
    expect(fail.detail).not.toContain('\n');
  });

  it('passing findings say what is left; the kernel shows exactly that afterwards (mtty)', async () => {
    const wants = [
      { type: 'mtty-1', parent: 'mtty' },
      { type: 'mtty-2', parent: 'mtty' },
      { type: 'mtty-2', parent: 'mtty' },
    ];
    const found = await mdevFindings(lab(), wants);
    expect(found.map((c) => c.status)).toEqual(['pass', 'pass', 'pass']);
    expect(found[0]!.detail).toBe(
      'the hook creates it: mtty-1 on mtty (24 available; left after it: mtty-1 23, mtty-2 11)',
    );
    expect(found[2]!.detail).toBe(
      "the hook creates it: mtty-2 on mtty, with this domain's other new mdevs there: 1 of 'mtty-1' (24 available) and 2 of 'mtty-2' (12 available) from one pool; left after them, at least: mtty-1 19, mtty-2 9",
    );
    const k = lab();
    expect(await kernelCreates(k, wants, 'mtty')).toBe(true);
    const after = (t: string) =>
      k.read(`sys/class/mdev_bus/mtty/mdev_supported_types/${t}/available_instances`).then((v) => Number(v.trim()));
    expect([await after('mtty-1'), await after('mtty-2')]).toEqual([19, 9]);
  });

  it('GVT-g (256 MB of aperture): one 128 MB and one 64 MB pass, a second 128 MB does not, though 2 of that type are available', async () => {
    const v4 = { type: 'i915-GVTg_V5_4', parent: IGPU };
    const v8 = { type: 'i915-GVTg_V5_8', parent: IGPU };
    const ok = await mdevFindings(workstation(), [v4, v8]);
    expect(ok.map((c) => c.status)).toEqual(['pass', 'pass']);
    expect(ok[1]!.detail).toContain('left after them, at least: i915-GVTg_V5_4 0, i915-GVTg_V5_8 1');
    const over = await mdevFindings(workstation(), [v4, v8, v4]);
    expect(over.map((c) => c.status)).toEqual(['pass', 'pass', 'fail']);
    expect(over[2]!.detail).toBe(
      `${IGPU}'s mdev types draw from one pool: this domain's 2 of 'i915-GVTg_V5_4' (2 available) and 1 of 'i915-GVTg_V5_8' (4 available) may not fit together`,
    );
    expect(await kernelCreates(workstation(), [v4, v8, v4], IGPU)).toBe(false);
  });

  it('without a parent named, each mdev goes where the planner puts it; none left is said per type and parent', async () => {
    const found = await mdevFindings(lab(), [...repeat(12, { type: 'mtty-2' }), { type: 'mtty-2' }]);
    expect(found.slice(0, 12).every((c) => c.status === 'pass' && c.detail.includes('mtty-2 on mtty'))).toBe(true);
    expect(found[12]!.status).toBe('fail');
    expect(found[12]!.detail).toBe(
      "no instances of mtty-2 left for it (mtty: 12 available, 12 of 'mtty-2' (12 available) already for this domain)",
    );
  });
});

describe('poolLeft', () => {
  it('is the free share times each type, rounded down; nothing when the pool is over', () => {
    const types = [
      { id: 'a', availableInstances: 24 },
      { id: 'b', availableInstances: 12 },
    ];
    expect([...poolLeft(types, new Map([['b', 2]]))]).toEqual([
      ['a', 20],
      ['b', 10],
    ]);
    expect([
      ...poolLeft(
        types,
        new Map([
          ['a', 1],
          ['b', 1],
        ]),
      ),
    ]).toEqual([
      ['a', 21],
      ['b', 10],
    ]);
    expect([
      ...poolLeft(
        types,
        new Map([
          ['a', 24],
          ['b', 1],
        ]),
      ),
    ]).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
    expect([...poolLeft(types, new Map())]).toEqual([
      ['a', 24],
      ['b', 12],
    ]);
  });
});
