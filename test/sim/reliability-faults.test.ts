// Fault at every step: for each scenario, every host write prepare makes is made to fail in turn
// (real hook processes on a simulated host). Prepare must fail with one line naming the device and
// the step, release must then exit 0, and the host must be byte-identical (canonical JSON) to its
// start. Figures go to .cache/guarantees/reliability-faults.json.
import { afterAll, describe, expect, it } from 'vitest';
import { figures, figureTest } from '../support/figures.js';
import { domainXml } from '../support/domains.js';
import { expectScenarios, scenarios, vfResolver } from '../support/scenarios.js';
import { SimHost, describeWrite, errnoFor, namesWrite } from '../support/simhost.js';
import { eachWrite, enumerateWrites, prepareFirst, releaseFirst, trialsOnCopies } from '../support/cycle.js';

const fig = figures('reliability-faults');
fig.add('leftovers', 0);
fig.add('badErrors', 0);
afterAll(() => fig.write());

for (const fixture of ['workstation', 'server']) {
  describe(`fault at every write of prepare (${fixture})`, () => {
    const all = scenarios(fixture);
    const vfOf = vfResolver(fixture);

    it('the fixture yields the expected scenarios', () => {
      expect(all.map((s) => s.name)).toEqual(expect.arrayContaining(expectScenarios[fixture]!));
    });

    it('control: a prepare without its release leaves the host different (the comparison can fail)', async () => {
      const h = await SimHost.create(fixture);
      try {
        const start = h.state();
        await prepareFirst(h, all[0]!, 1);
        expect(h.state()).not.toBe(start);
        expect(h.journals()).toHaveLength(1);
      } finally {
        h.cleanup();
      }
    });

    for (const sc of all) {
      figureTest(
        fig,
        `${sc.name}: every failing write is undone and reported`,
        async () => {
          await trialsOnCopies(
            fig,
            fixture,
            async (host) => {
              const perDomain = await enumerateWrites(host, sc);
              const total = perDomain.reduce((n, w) => n + w.length, 0);
              expect(total, 'prepare makes host writes').toBeGreaterThan(0);
              fig.add('scenarios');
              fig.add('steps', total);
              return eachWrite(perDomain);
            },
            async (h, { di, k, of, w }, fail, start) => {
              const errno = errnoFor(w, k);
              // the domains before this one prepare cleanly; this one meets the fault at its write k
              await prepareFirst(h, sc, di);
              const d = sc.domains[di]!;
              const r = await h.hook(d.name, 'prepare', domainXml(d), { faults: { failWrite: { n: k, errno } } });
              fig.add('runs');
              const where = `${sc.name} ${d.name} write ${k}/${of} (${w.path} <- ${JSON.stringify(w.data)}, ${errno})`;
              const line = r.stderr.trimEnd();
              // judge the hook's own words: the injected error's text (which quotes the path) comes after the errno
              const own = line.includes(errno) ? line.slice(0, line.indexOf(errno)) : line;
              const named = namesWrite(own, describeWrite(w, vfOf));
              if (r.code === 0) fail(`${where}: prepare succeeded despite the fault`);
              else if (line.includes('\n') || !line) {
                fig.add('badErrors');
                fail(`${where}: error is not one line: ${JSON.stringify(line)}`);
              } else if (!named.device || !named.step || !line.includes(errno)) {
                fig.add('badErrors');
                fail(
                  `${where}: error does not name ${!named.device ? 'the device' : !named.step ? 'the step' : 'the errno'}: ${line}`,
                );
              }
              for (const p of await releaseFirst(h, sc, di + 1)) fail(`${where}: ${p}`);
              const left = h.journals();
              if (h.state() !== start || left.length) {
                fig.add('leftovers');
                fail(
                  `${where}: host differs from its start${left.length ? ` (journals left: ${left.join(', ')})` : ''}`,
                );
              }
            },
          );
        },
        { timeout: 300_000 },
      );
    }
  });
}
