// Hostile input against a real directory tree: the workstation fixture materialized as sysfs files
// and symlinks, the hook on NodeSysfs (PASSTHRU_ROOT) instead of the simulator. Every hostile case
// must be refused, and nothing in the tree, beside it (the directory holding the root, the state
// dir) may be created or changed: nothing outside the configured roots is opened for writing.
// `ip` is kept off PATH so no case can reach this machine's network devices.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimKernel } from '../../src/sim/kernel.js';
import { materialize } from '../../src/sim/materialize.js';
import { figures, figureTest } from '../support/figures.js';
import { domainXml } from '../support/domains.js';
import {
  carrierDomain,
  hostileDocuments,
  hostileContext,
  hostileValueCases,
  knownFindings,
} from '../support/hostile.js';
import { gpusWithPeers, loadFixture } from '../support/scenarios.js';
import { SimHost } from '../support/simhost.js';
import { dist, nodeBin } from '../support/paths.js';
import { run } from '../support/proc.js';
import { fingerprint, treeDiff } from '../support/tree.js';

const fig = figures('hostile-materialized');
for (const k of ['cases', 'accepted', 'changedTree']) fig.add(k, 0);
afterAll(() => fig.write());

const fx = loadFixture('workstation');
const gpu = gpusWithPeers(fx)[0]!;
const ctx = hostileContext(fx);

let outer: string; // holds the root and the state dir: the whole of what a run may touch
let root: string;
let stateDir: string;
beforeAll(async () => {
  outer = mkdtempSync(join(tmpdir(), 'passthru-materialized-'));
  root = join(outer, 'root');
  stateDir = join(outer, 'state');
  mkdirSync(stateDir);
  const sim = await SimHost.create('workstation');
  try {
    await materialize(SimKernel.load(sim.file, {}), root);
  } finally {
    sim.cleanup();
  }
});
afterAll(() => rmSync(outer, { recursive: true, force: true }));

async function refusedOnTree(name: string, args: string[], input: Buffer | string): Promise<void> {
  const before = fingerprint(outer);
  const r = await run(nodeBin, [dist.hook, ...args], {
    input,
    env: {
      PATH: join(outer, 'no-tools'),
      LC_ALL: 'C',
      PASSTHRU_ROOT: root,
      PASSTHRU_STATE_DIR: stateDir,
      PASSTHRU_LOCKED: '1',
    },
  });
  fig.add('cases');
  const changes = treeDiff(before, fingerprint(outer));
  if (r.code === 0) fig.add('accepted');
  if (changes.length) {
    fig.add('changedTree');
    fig.note(`${name}: ${changes.slice(0, 3).join(', ')}`);
  }
  expect(
    {
      code: r.code === 0 ? 0 : 'non-zero',
      oneLine: r.stderr.trimEnd() !== '' && !r.stderr.trimEnd().includes('\n'),
      changes,
    },
    `${name}: ${r.stderr.slice(0, 200)}`,
  ).toEqual({
    code: 'non-zero',
    oneLine: true,
    changes: [],
  });
}

describe('hostile input on a materialized host (NodeSysfs)', () => {
  figureTest(fig, 'the tree holds the fixture in the kernel layout (so refusals below are about the input)', () => {
    const tree = fingerprint(root);
    expect(tree.get(`sys/bus/pci/devices/${gpu.address}`)).toMatch(/^link /);
    expect(tree.has(`sys/kernel/iommu_groups/${gpu.iommuGroup}/devices/${gpu.address}`)).toBe(true);
  });
  for (const c of hostileDocuments(carrierDomain(gpu.address))) {
    figureTest(fig, `stdin ${c.name}`, async () => {
      await refusedOnTree(`stdin ${c.name}`, ['hostile', 'prepare', 'begin', '-'], c.body);
    });
  }
  for (const c of hostileValueCases(ctx)) {
    const known = knownFindings[c.name];
    figureTest(
      fig,
      `value ${c.name}${known ? ` (known finding: ${known})` : ''}`,
      async () => {
        await refusedOnTree(`value ${c.name}`, [c.spec.name, 'prepare', 'begin', '-'], c.xml ?? domainXml(c.spec));
      },
      { fails: known !== undefined },
    );
  }
});
