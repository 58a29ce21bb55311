// Kill at every step: the hook process SIGKILLs itself right after host write k of prepare (the
// simulator's killAfterWrite), for every k of every scenario. `passthru recover --all` must then put
// the host back exactly; a second recover must change nothing; recover on an empty state dir or a
// corrupt journal must say so and change nothing. Figures: .cache/guarantees/kill-recover.json.
import { afterAll, describe, expect } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { figures, figureTest } from '../support/figures.js';
import { domainXml, domainUuid } from '../support/domains.js';
import { largestDomain, scenarios } from '../support/scenarios.js';
import { SimHost } from '../support/simhost.js';
import { preparedReleaseWrites, prepareFirst, prepareWriteTrials, trialsOnCopies } from '../support/cycle.js';

const fig = figures('kill-recover');
for (const k of ['leftovers', 'secondRecoverChanged', 'badJournals', 'badJournalChanged', 'releaseKills'])
  fig.add(k, 0);
afterAll(() => fig.write());

for (const fixture of ['workstation', 'server']) {
  describe(`kill after every write of prepare, then recover (${fixture})`, () => {
    for (const sc of scenarios(fixture)) {
      figureTest(
        fig,
        `${sc.name}: recover --all restores the host exactly, and a second recover changes nothing`,
        async () => {
          await trialsOnCopies(
            fig,
            fixture,
            async (host) => {
              fig.add('scenarios');
              return prepareWriteTrials(host, sc);
            },
            async (h, { di, k, of, w }, fail, start) => {
              const d = sc.domains[di]!;
              const where = `${sc.name} ${d.name} kill after write ${k}/${of} (${w.path})`;
              await prepareFirst(h, sc, di);
              h.clearLog();
              const r = await h.hook(d.name, 'prepare', domainXml(d), { faults: { killAfterWrite: k } });
              fig.add('kills');
              if (r.signal !== 'SIGKILL')
                return fail(`${where}: the hook was not killed (exit ${r.code}, ${r.signal}): ${r.stderr.trim()}`);
              // the write k happened and nothing after it: the journal must already name it
              expect(h.writes().length, where).toBe(k);
              expect(h.journals(), `${where}: a journal survives the kill`).toContain(`${domainUuid(d)}.json`);

              const rec = await h.passthru(['recover', '--all']);
              if (rec.code !== 0) fail(`${where}: recover --all exited ${rec.code}: ${rec.stderr.trim()}`);
              const left = h.journals();
              if (h.state() !== start || left.length) {
                fig.add('leftovers');
                fail(
                  `${where}: host differs from its start after recover${left.length ? ` (journals left: ${left.join(', ')})` : ''}`,
                );
              }
              const before = h.state();
              h.clearLog();
              const again = await h.passthru(['recover', '--all']);
              if (again.code !== 0 || h.writes().length || h.state() !== before) {
                fig.add('secondRecoverChanged');
                fail(`${where}: second recover exited ${again.code} and wrote ${h.writes().length} times`);
              }
            },
          );
        },
        { timeout: 300_000 },
      );
    }
  });
}

for (const fixture of ['workstation', 'server']) {
  describe(`kill after every write of release, then recover (${fixture})`, () => {
    const d = largestDomain(fixture);
    figureTest(
      fig,
      `${d.name}: recover --all finishes what the killed release started`,
      async () => {
        let writes = 0;
        await trialsOnCopies(
          fig,
          fixture,
          async (host, start) => {
            writes = (await preparedReleaseWrites(host, d, start)).length;
            return Array.from({ length: writes }, (_, i) => i + 1);
          },
          async (h, k, fail, start) => {
            const where = `${d.name} release killed after write ${k}/${writes}`;
            const r = await h.hook(d.name, 'release', domainXml(d), { faults: { killAfterWrite: k } });
            fig.add('releaseKills');
            if (r.signal !== 'SIGKILL') return fail(`${where}: not killed (exit ${r.code})`);
            const rec = await h.passthru(['recover', '--all']);
            if (rec.code !== 0 || h.state() !== start || h.journals().length) {
              fig.add('leftovers');
              fail(
                `${where}: recover exited ${rec.code} and left the host different (journals: ${h.journals().join(', ')})`,
              );
            }
          },
        );
      },
      { timeout: 300_000 },
    );
  });
}

describe('recover with nothing usable to recover', () => {
  const uuid = '0b5d2c1e-7a3f-4e8d-9c6b-1f2e3d4c5b6a';
  const cases: [string, (stateDir: string) => void, RegExp, boolean][] = [
    ['no state dir', () => {}, /nothing|no journal|no domain/i, true],
    ['an empty state dir', (s) => mkdirSync(s, { recursive: true }), /nothing|no journal|no domain/i, true],
    [
      'an empty journal',
      (s) => (mkdirSync(s, { recursive: true }), writeFileSync(join(s, `${uuid}.json`), '')),
      /empty/i,
      false,
    ],
    [
      'a corrupt journal',
      (s) => (
        mkdirSync(s, { recursive: true }),
        writeFileSync(join(s, `${uuid}.json`), '{"schema":"passthru-journal/1","domain":{"na')
      ),
      /corrupt|not JSON/i,
      false,
    ],
    [
      'a journal of another schema',
      (s) => (
        mkdirSync(s, { recursive: true }),
        writeFileSync(join(s, `${uuid}.json`), JSON.stringify({ schema: 'other/1', actions: 'all' }))
      ),
      /schema/i,
      false,
    ],
    [
      'a symlink in place of the journal',
      (s) => {
        mkdirSync(s, { recursive: true });
        writeFileSync(join(s, '..', 'elsewhere.json'), '{}');
        symlinkSync(join(s, '..', 'elsewhere.json'), join(s, `${uuid}.json`));
      },
      /symbolic link|symlink/i,
      false,
    ],
  ];
  for (const [name, setUp, says, ok] of cases) {
    figureTest(fig, `${name}: says so, exits ${ok ? '0' : 'non-zero'}, changes nothing`, async () => {
      const h = await SimHost.create('workstation');
      try {
        setUp(h.stateDir);
        const start = h.state();
        const files = h.journals().map((f) => [f, readFileSync(join(h.stateDir, f), 'utf8')]);
        h.clearLog();
        const r = await h.passthru(['recover', '--all']);
        fig.add('badJournals');
        const text = (r.stdout + r.stderr).trim();
        expect(text).toMatch(says);
        if (ok) expect(r.code).toBe(0);
        else {
          expect(r.code).not.toBe(0);
          expect(r.stderr.trim().split('\n')).toHaveLength(1);
        }
        const changed =
          h.writes().length > 0 ||
          h.state() !== start ||
          JSON.stringify(h.journals().map((f) => [f, readFileSync(join(h.stateDir, f), 'utf8')])) !==
            JSON.stringify(files);
        if (changed) fig.add('badJournalChanged');
        expect(changed).toBe(false);
      } finally {
        h.cleanup();
      }
    });
  }
});
