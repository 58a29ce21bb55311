// Hostile input to xmlfix (the real bundled CLI): documents that attack the parser, and edit values
// that attack what they become. Each must be refused with exit 2, one line on stderr, nothing on
// stdout, and no output file created or changed. Figures: .cache/guarantees/hostile-xmlfix.json.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figures, figureTest } from '../support/figures.js';
import { carrierDomain, hostileDocuments } from '../support/hostile.js';
import { dist, nodeBin } from '../support/paths.js';
import { run, type RunResult } from '../support/proc.js';
import { fingerprint, treeDiff } from '../support/tree.js';
import { SimHost } from '../support/simhost.js';

const fig = figures('hostile-xmlfix');
for (const k of ['cases', 'accepted', 'wroteSomething', 'badErrors']) fig.add(k, 0);
afterAll(() => fig.write());

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'passthru-hostile-xmlfix-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// host-aware edits read a simulated host, never this machine's
let sim: SimHost | undefined;
const xmlfix = (args: string[], input?: Buffer | string): Promise<RunResult> =>
  run(nodeBin, [dist.xmlfix, ...args], {
    input: input ?? '',
    env: { PATH: process.env.PATH, LC_ALL: 'C', PASSTHRU_SIM: sim?.file ?? join(dir, 'no-such-sim.json') },
    cwd: dir,
  });

/** Runs xmlfix with `-o OUT` in a fresh sub-dir; refused = exit 2, one line naming `names`, no stdout, no file made. */
async function refused(name: string, args: string[], input?: Buffer | string, names?: string): Promise<void> {
  const work = mkdtempSync(join(dir, 'case-'));
  const out = join(work, 'out.xml');
  const fpBefore = fingerprint(work);
  const r = await xmlfix([...args, '-o', out], input);
  fig.add('cases');
  const problems: string[] = [];
  const line = r.stderr.trimEnd();
  if (r.code !== 2) {
    if (r.code === 0) fig.add('accepted');
    problems.push(`exit ${r.code} (want 2)`);
  }
  if (!line || line.includes('\n') || line.length > 400) {
    fig.add('badErrors');
    problems.push(`error is not one short line: ${JSON.stringify(line.slice(0, 300))}`);
  } else if (names !== undefined && !line.includes(names)) {
    fig.add('badErrors');
    problems.push(`error does not name the offending value ${JSON.stringify(names)}`);
  }
  if (r.timedOut) problems.push('hung');
  const changes = treeDiff(fpBefore, fingerprint(work));
  if (r.stdout !== '' || changes.length || existsSync(out)) {
    fig.add('wroteSomething');
    problems.push(`wrote something: stdout ${r.stdout.length} bytes, ${changes.join(', ')}`);
  }
  if (problems.length) fig.note(`${name}: ${problems.join('; ')}`);
  rmSync(work, { recursive: true, force: true });
  expect(problems, `${name}: ${line.slice(0, 300)}`).toEqual([]);
}

describe('xmlfix: documents that attack the parser', () => {
  for (const c of hostileDocuments(carrierDomain())) {
    figureTest(fig, `refuses ${c.name} on stdin`, async () => {
      // no edit: a document is checked before anything else, edit or not
      await refused(`stdin ${c.name}`, ['-'], c.body);
    });
  }
  figureTest(fig, 'refuses a hostile file given by name, and leaves it as it was (-i)', async () => {
    for (const c of hostileDocuments(carrierDomain()).filter((c) => c.body.length < 1_000_000)) {
      const file = join(dir, `in-${c.name}.xml`);
      writeFileSync(file, c.body);
      const r = await xmlfix([file, '-i']);
      fig.add('cases');
      expect(r.code, c.name).toBe(2);
      expect(readFileSync(file).equals(c.body), `${c.name}: file unchanged`).toBe(true);
    }
  });
});

describe('xmlfix: edit values that attack what they become', () => {
  beforeAll(async () => {
    sim = await SimHost.create('workstation');
  });
  afterAll(() => sim?.cleanup());
  // [case, args, a piece of the offending value the error must show]
  const edits: [string, string[], string?][] = [
    ['hostdev address traversal', ['--add-hostdev', '../../0000:01:00.0'], '../../0000:01:00.0'],
    ['hostdev slot 0x20', ['--add-hostdev', '0000:01:20.0'], '0000:01:20.0'],
    ['hostdev function 8', ['--add-hostdev', '01:00.8'], '01:00.8'],
    ['hostdev romfile with newline', ['--add-hostdev', '01:00.0,romfile=/x\n/y']],
    ['hostdev unknown option', ['--add-hostdev', '01:00.0,evil=1']],
    ['hostdev bootindex not a number', ['--add-hostdev', '01:00.0,bootindex=first']],
    ['mdev type traversal', ['--add-mdev', '../../../etc/passwd'], '../../../etc/passwd'],
    ['mdev type with slash', ['--add-mdev', 'i915/GVTg'], 'i915/GVTg'],
    ['mdev type with NUL-like escape', ['--add-mdev', 'i915\u0001GVTg']],
    ['mdev type overlong', ['--add-mdev', 'x'.repeat(5000)]],
    ['mdev bad uuid', ['--add-mdev', 'i915-GVTg_V5_4,uuid=../../x'], '../../x'],
    ['mdev bad parent', ['--add-mdev', 'i915-GVTg_V5_4,parent=../..'], '../..'],
    ['vf broadcast mac', ['--add-vf', '03:10.0,mac=ff:ff:ff:ff:ff:ff'], 'ff:ff:ff:ff:ff:ff'],
    ['vf short mac', ['--add-vf', '03:10.0,mac=00:11:22:33:44'], '00:11:22:33:44'],
    ['vf vlan 4096', ['--add-vf', '03:10.0,vlan=4096'], '4096'],
    ['vf vlan negative', ['--add-vf', '03:10.0,vlan=-1'], '-1'],
    ['vf trust maybe', ['--add-vf', '03:10.0,trust=maybe'], 'maybe'],
    ['vf state bogus', ['--add-vf', '03:10.0,state=bogus'], 'bogus'],
    ['vf rate negative', ['--add-vf', '03:10.0,max-rate=-5'], '-5'],
    ['vf as something', ['--add-vf', '03:10.0,as=../x'], '../x'],
    ['remove-hostdev garbage', ['--remove-hostdev', '../../x'], '../../x'],
  ];
  figureTest(
    fig,
    'control: the same edits with sane values are accepted (so the refusals below are about the values)',
    async () => {
      for (const args of [
        ['--add-hostdev', '0000:04:00.0'],
        ['--add-mdev', 'i915-GVTg_V5_4,parent=0000:00:02.0'],
        ['--add-vf', '0000:03:10.0,mac=52:54:00:12:34:56,vlan=10,trust=on'],
      ]) {
        const r = await xmlfix(['-', ...args], carrierDomain());
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        expect(r.stdout).not.toBe(carrierDomain());
      }
    },
  );
  for (const [name, args, names] of edits) {
    figureTest(fig, `refuses ${name}`, async () => {
      await refused(`edit ${name}`, ['-', ...args], carrierDomain(), names);
    });
  }
});
