// Hostile input to the hook (real processes on a simulated host): domain XML on stdin that attacks
// the parser, values that attack the paths they become, hostile argv, config and journal files.
// Every case must be refused with one line, a non-zero exit, and no host write at all.
// Figures: .cache/guarantees/hostile-hook.json.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { figures, figureTest } from '../support/figures.js';
import { domainXml, domainUuid } from '../support/domains.js';
import {
  carrierDomain,
  hostileArgs,
  hostileDocuments,
  hostileContext,
  hostileValueCases,
  knownFindings,
} from '../support/hostile.js';
import { gpusWithPeers, loadFixture } from '../support/scenarios.js';
import { SimHost } from '../support/simhost.js';
import { installedHostForSuite } from '../support/entry.js';
import { before, refusalProblems } from '../support/refusal.js';

const fig = figures('hostile-hook');
for (const k of ['cases', 'accepted', 'wroteSomething', 'badErrors']) fig.add(k, 0);
afterAll(() => fig.write());

const fx = loadFixture('workstation');
const gpu = gpusWithPeers(fx)[0]!;
const ctx = hostileContext(fx);

let h: SimHost;
beforeAll(async () => {
  h = await SimHost.create('workstation');
});
afterAll(() => h?.cleanup());

/** Runs one case on a fresh copy of the host (a case that wrongly changed the host cannot taint the next). */
async function refused(
  name: string,
  run: (c: SimHost) => ReturnType<SimHost['hook']>,
  opts: { exitZeroOk?: boolean; silentOk?: boolean } = {},
): Promise<void> {
  const c = h.copy();
  try {
    const b = before(c);
    const r = await run(c);
    fig.add('cases');
    const problems = refusalProblems(c, b, r, fig, opts);
    if (problems.length) fig.note(`${name}: ${problems.join('; ')}`);
    expect(problems, `${name}: stderr ${JSON.stringify(r.stderr.slice(0, 300))}`).toEqual([]);
  } finally {
    c.cleanup();
  }
}

describe('domain XML on stdin that attacks the parser', () => {
  for (const c of hostileDocuments(carrierDomain(gpu.address))) {
    figureTest(fig, `prepare refuses ${c.name}`, async () => {
      await refused(`stdin ${c.name}`, (host) => host.hook('hostile', 'prepare', c.body));
    });
    figureTest(fig, `release of ${c.name} writes nothing and says why`, async () => {
      await refused(`release stdin ${c.name}`, (host) => host.hook('hostile', 'release', c.body), { exitZeroOk: true });
    });
  }
});

describe('the same documents through hooks/qemu, as libvirtd runs it (installed with passthru install)', () => {
  const suite = installedHostForSuite('workstation');
  for (const c of hostileDocuments(carrierDomain(gpu.address))) {
    const known = knownFindings[`hooks/qemu ${c.name}`];
    figureTest(
      fig,
      `hooks/qemu prepare refuses ${c.name}${known ? ` (known finding: ${known})` : ''}`,
      async () => {
        const b = before(suite.host);
        const r = await suite.entry.run(['hostile', 'prepare', 'begin', '-'], c.body);
        fig.add('cases');
        // the sh fast path may let a document without passthrough through untouched (exit 0, silent)
        const problems = refusalProblems(suite.host, b, r, fig, {
          exitZeroOk: !c.body.includes('<hostdev'),
          silentOk: true,
        });
        // a case that wrongly prepared must not taint the next one: put the host back
        if (problems.length) await suite.host.passthru(['recover', '--all']);
        if (problems.length) fig.note(`hooks/qemu ${c.name}: ${problems.join('; ')}`);
        expect(problems, r.stderr.slice(0, 300)).toEqual([]);
      },
      { fails: known !== undefined },
    );
  }
});

describe('values that attack the paths they become', () => {
  for (const c of hostileValueCases(ctx)) {
    const known = knownFindings[c.name];
    figureTest(
      fig,
      `prepare refuses ${c.name}${known ? ` (known finding: ${known})` : ''}`,
      async () => {
        const xml = c.xml ?? domainXml(c.spec);
        await refused(`value ${c.name}`, (host) => host.hook(c.spec.name, 'prepare', xml));
      },
      { fails: known !== undefined },
    );
  }
});

describe('hostile hook arguments', () => {
  const xml = domainXml({ name: 'vm', hostdevs: [{ address: gpu.address, managed: true }] });
  for (const c of hostileArgs) {
    figureTest(fig, `${c.name}: ${c.mayIgnore ? 'ignored or refused' : 'refused'}, nothing written`, async () => {
      // an operation the hook does not act on may be ignored silently, as hooks/qemu does
      await refused(`argv ${c.name}`, (host) => host.hook('vm', 'prepare', xml, { args: c.args }), {
        exitZeroOk: c.mayIgnore,
        silentOk: c.mayIgnore,
      });
    });
  }
  figureTest(fig, 'a bad PASSTHRU_WRITE_TIMEOUT_MS is refused', async () => {
    for (const v of ['0', '-1', 'soon', '1e9', '99999999999']) {
      await refused(`PASSTHRU_WRITE_TIMEOUT_MS=${v}`, (host) =>
        host.hook('vm', 'prepare', xml, { env: { PASSTHRU_WRITE_TIMEOUT_MS: v } }),
      );
    }
  });
});

describe('config and journal files', () => {
  const spec = { name: 'files', hostdevs: [{ address: gpu.address, managed: true }] };
  const xml = domainXml(spec);
  const cfgCases: [string, (file: string) => void][] = [
    ['corrupt JSON', (f) => writeFileSync(f, '{"protected": [')],
    ['wrong schema', (f) => writeFileSync(f, JSON.stringify({ protected: 'all', writeTimeoutMs: 'x' }))],
    ['unknown field', (f) => writeFileSync(f, JSON.stringify({ rootDir: '/' }))],
    ['malformed protected entry', (f) => writeFileSync(f, JSON.stringify({ protected: ['../../etc'] }))],
    ['not a file (a directory)', (f) => mkdirSync(f)],
    ['missing explicit file', () => {}],
    ['binary garbage', (f) => writeFileSync(f, Buffer.from([0xff, 0x00, 0xfe, 0x7b]))],
  ];
  for (const [name, make] of cfgCases) {
    figureTest(fig, `config ${name}: refused before any write`, async () => {
      const file = join(h.dir, `config-${name.replace(/\W+/g, '-')}.json`);
      make(file);
      try {
        await refused(`config ${name}`, (host) =>
          host.hook(spec.name, 'prepare', xml, { env: { PASSTHRU_CONFIG: file } }),
        );
      } finally {
        rmSync(file, { recursive: true, force: true });
      }
    });
  }

  const other = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
  const journalCases: [string, (stateDir: string) => void][] = [
    [
      'another domain has a corrupt journal',
      (s) => writeFileSync(join(s, `${other}.json`), '{"schema": "passthru-journal/1", "hol'),
    ],
    [
      'another domain has a journal of a wrong schema',
      (s) =>
        writeFileSync(join(s, `${other}.json`), JSON.stringify({ schema: 'passthru-journal/1', holds: 'everything' })),
    ],
    [
      'this domain has a symlink in place of its journal',
      (s) => {
        writeFileSync(join(s, '..', 'victim.json'), 'do not touch\n');
        symlinkSync(join(s, '..', 'victim.json'), join(s, `${domainUuid(spec)}.json`));
      },
    ],
    [
      'another domain has a symlink in place of its journal',
      (s) => {
        writeFileSync(join(s, '..', 'victim.json'), 'do not touch\n');
        symlinkSync(join(s, '..', 'victim.json'), join(s, `${other}.json`));
      },
    ],
  ];
  for (const [name, make] of journalCases) {
    figureTest(fig, `${name}: prepare refuses before any write, the file is left alone`, async () => {
      rmSync(h.stateDir, { recursive: true, force: true });
      mkdirSync(h.stateDir, { recursive: true });
      make(h.stateDir);
      try {
        await refused(`journal: ${name}`, (host) => host.hook(spec.name, 'prepare', xml));
        if (name.includes('symlink'))
          expect(readFileSync(join(h.stateDir, '..', 'victim.json'), 'utf8')).toBe('do not touch\n');
      } finally {
        rmSync(h.stateDir, { recursive: true, force: true });
        rmSync(join(h.stateDir, '..', 'victim.json'), { force: true });
      }
    });
  }
  figureTest(fig, 'release with a corrupt journal of its own: says so, writes nothing, keeps the journal', async () => {
    mkdirSync(h.stateDir, { recursive: true });
    const file = join(h.stateDir, `${domainUuid(spec)}.json`);
    writeFileSync(file, '{"schema": "passthru-jou');
    try {
      await refused('journal: own corrupt journal on release', (host) => host.hook(spec.name, 'release', xml), {
        exitZeroOk: true,
      });
      expect(readFileSync(file, 'utf8')).toBe('{"schema": "passthru-jou');
    } finally {
      rmSync(h.stateDir, { recursive: true, force: true });
    }
  });
});
