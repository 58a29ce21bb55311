// Races: 8 domains started and stopped at once through the real sh entry (hooks/qemu, installed into
// a temp root), several rounds. Some domains share an IOMMU group (GPU and its audio function, the
// same GPU twice), some a PF (VFs shared by count), two the same mdev UUID. Checked: no two
// domains ever hold one group or one mdev at the same time, no mdev UUID is created while it
// exists, each running domain's VFs exist, and every round ends with the host exactly as it began.
// Figures: .cache/guarantees/race-concurrent.json.
import { afterAll, describe, expect } from 'vitest';
import { figures, figureTest } from '../support/figures.js';
import { domainXml, stableMac, stableUuid, type DomainSpec } from '../support/domains.js';
import {
  gpusWithPeers,
  loadFixture,
  mdevParents,
  sriovPfs,
  vfAddress,
  type HostFixture,
} from '../support/scenarios.js';
import { SimHost, simDevice } from '../support/simhost.js';
import { installEntry } from '../support/entry.js';

const ROUNDS = Number(process.env.PASSTHRU_RACE_ROUNDS ?? 5);
const fig = figures('race-concurrent');
for (const k of [
  'groupSplits',
  'duplicateMdevs',
  'vfShortfalls',
  'leftovers',
  'rounds',
  'hookRuns',
  'refusals',
  'badRefusals',
  'overlappingHolds',
])
  fig.add(k, 0);
afterAll(() => fig.write());

interface RaceDomain {
  spec: DomainSpec;
  /** Resources only one running domain may hold: 'group N', 'mdev UUID'. */
  exclusive: string[];
  /** VF addresses and the PF count they need while the domain runs. */
  vfs: { pf: string; need: number }[];
}

function raceDomains(fx: HostFixture): RaceDomain[] {
  const gpu = gpusWithPeers(fx)[0]!;
  const peer = fx.devices.find((d) => d.iommuGroup === gpu.iommuGroup && d !== gpu && !d.class.startsWith('06'))!;
  const pf = sriovPfs(fx)[0]!;
  const { parent, type } = mdevParents(fx)[0]!;
  const group = `group ${gpu.iommuGroup}`;
  const pfNetdev = pf.netdev ?? pf.netdevs![0]!;
  const vfDomain = (n: string, k: number): RaceDomain => ({
    spec: {
      name: `race-${n}`,
      pfs: [{ dev: pfNetdev, vfs: 3 }],
      hostdevs: [{ address: vfAddress(pf, k), managed: true }],
      vfs: [{ address: vfAddress(pf, k), mac: stableMac(`race:${n}`), vlan: 10 + k, trust: k % 2 === 0 }],
    },
    exclusive: [`vf ${vfAddress(pf, k)}`],
    vfs: [{ pf: pf.address, need: k + 1 }],
  });
  const shared = stableUuid('race:mdev:shared');
  return [
    { spec: { name: 'race-gpu', hostdevs: [{ address: gpu.address, managed: true }] }, exclusive: [group], vfs: [] },
    { spec: { name: 'race-peer', hostdevs: [{ address: peer.address, managed: true }] }, exclusive: [group], vfs: [] },
    {
      spec: { name: 'race-gpu-again', hostdevs: [{ address: gpu.address, managed: false }] },
      exclusive: [group],
      vfs: [],
    },
    vfDomain('vf0', 0),
    vfDomain('vf1', 1),
    vfDomain('vf2', 2),
    // two domains naming the same mdev: one vGPU/GVT-g instance can serve one guest only
    {
      spec: { name: 'race-mdev', mdevs: [{ uuid: shared, type, parent: parent.address }] },
      exclusive: [`mdev ${shared}`],
      vfs: [],
    },
    {
      spec: { name: 'race-mdev-shared', mdevs: [{ uuid: shared, type, parent: parent.address }] },
      exclusive: [`mdev ${shared}`],
      vfs: [],
    },
  ];
}

interface Hold {
  domain: RaceDomain;
  from: number;
  to: number;
}

let clock = 0;
const tick = (): number => ++clock;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('8 domains started and stopped at once through hooks/qemu', () => {
  figureTest(
    fig,
    `${ROUNDS} rounds: no group or mdev held twice, VFs present while held, host restored`,
    async () => {
      const fx = loadFixture('workstation');
      const domains = raceDomains(fx);
      expect(domains).toHaveLength(8);
      const host = await SimHost.create('workstation');
      try {
        const entry = await installEntry(host);
        fig.set('entry', entry.how);
        fig.set('domainsPerRound', domains.length);
        const start = host.state();
        const failures: string[] = [];
        const refusalSample: string[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          host.clearLog();
          const holds: Hold[] = [];
          // even rounds: all start, then all stop (every running pair overlaps); odd rounds: each stops on its own
          const together = round % 2 === 0;
          let prepared = 0;
          let allPrepared!: () => void;
          const barrier = new Promise<void>((r) => (allPrepared = r));
          const preparedOne = (): void => {
            if (++prepared === domains.length) allPrepared();
          };
          await Promise.all(
            domains.map(async (d, i) => {
              const xml = domainXml(d.spec);
              await pause(((round * 7 + i * 3) % 8) * 2); // a different interleaving each round
              const p = await entry.run([d.spec.name, 'prepare', 'begin', '-'], xml);
              preparedOne();
              fig.add('hookRuns');
              if (p.timedOut) failures.push(`round ${round}: prepare of ${d.spec.name} hung`);
              if (p.code === 0) {
                const from = tick();
                // while this domain runs, its VFs must exist (no other domain may lower the count)
                const doc = host.doc();
                for (const v of d.vfs) {
                  const n = simDevice(doc, v.pf)?.numVfs ?? 0;
                  if (n < v.need) {
                    fig.add('vfShortfalls');
                    failures.push(`round ${round}: ${d.spec.name} runs with ${n} VFs on ${v.pf}, needs ${v.need}`);
                  }
                }
                await (together ? barrier : pause((i * 5) % 17));
                holds.push({ domain: d, from, to: tick() });
              } else {
                fig.add('refusals');
                const line = p.stderr.trimEnd();
                if (refusalSample.length < 3 && !refusalSample.includes(line)) refusalSample.push(line);
                if (!line || line.includes('\n')) {
                  fig.add('badRefusals');
                  failures.push(`round ${round}: refusal of ${d.spec.name} is not one line: ${JSON.stringify(line)}`);
                }
              }
              // libvirt runs release after a stop and after a failed start alike
              const r = await entry.run([d.spec.name, 'release', 'end', '-'], xml);
              fig.add('hookRuns');
              if (r.code !== 0 || r.timedOut)
                failures.push(`round ${round}: release of ${d.spec.name} exited ${r.code}: ${r.stderr.trim()}`);
            }),
          );
          // exclusive resources held by two domains at overlapping times
          for (let a = 0; a < holds.length; a++) {
            for (let b = a + 1; b < holds.length; b++) {
              const x = holds[a]!;
              const y = holds[b]!;
              if (!(x.from < y.to && y.from < x.to)) continue;
              fig.add('overlappingHolds');
              const both = x.domain.exclusive.filter((r) => y.domain.exclusive.includes(r));
              for (const r of both) {
                fig.add(r.startsWith('mdev') ? 'duplicateMdevs' : 'groupSplits');
                failures.push(
                  `round ${round}: ${x.domain.spec.name} and ${y.domain.spec.name} held ${r} at the same time`,
                );
              }
            }
          }
          // an mdev UUID is never created again before it was removed
          const live = new Set<string>();
          for (const w of host.writes()) {
            const step = w.path.split('/').pop();
            const uuid =
              step === 'create' ? w.data.trim() : step === 'remove' ? (w.path.split('/').slice(-2, -1)[0] ?? '') : '';
            if (step === 'create') {
              if (live.has(uuid)) {
                fig.add('duplicateMdevs');
                failures.push(`round ${round}: mdev ${uuid} created twice`);
              }
              live.add(uuid);
            } else if (step === 'remove') live.delete(uuid);
          }
          if (holds.length === 0) failures.push(`round ${round}: no domain ever started`);
          fig.add('held', holds.length);
          fig.add('rounds');
          const left = host.journals();
          if (host.state() !== start || left.length) {
            fig.add('leftovers');
            failures.push(
              `round ${round}: host differs from its start${left.length ? ` (journals: ${left.join(', ')})` : ''}`,
            );
            break; // later rounds would start from a wrong host
          }
        }
        for (const f of failures.slice(0, 3)) fig.note(f);
        for (const l of refusalSample) fig.note(`refusal: ${l}`);
        expect(failures).toEqual([]);
        // the rounds did race: domains ran at the same time, and conflicting ones were turned away
        expect(fig.get('overlappingHolds')).toBeGreaterThan(0);
        expect(fig.get('refusals')).toBeGreaterThan(0);
      } finally {
        host.cleanup();
      }
    },
    { timeout: 240_000 },
  );
});
