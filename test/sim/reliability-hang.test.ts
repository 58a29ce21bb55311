// Release never hangs: for every host write release makes, a run where that write never returns
// (the simulator's hangOnWrite) with a small PASSTHRU_WRITE_TIMEOUT_MS. Release must exit 0 on its
// own, name the stuck step on stderr, and still undo everything of the other devices; a later
// `passthru recover --all` then finishes the job. Figures: .cache/guarantees/reliability-hang.json.
import { afterAll, describe } from 'vitest';
import { figures, figureTest } from '../support/figures.js';
import { domainXml } from '../support/domains.js';
import { largestDomain, vfResolver } from '../support/scenarios.js';
import { describeWrite, namesWrite, type SimHost, type SimWrite, type WriteIdentity } from '../support/simhost.js';
import { releaseWriteTrials, trialsOnCopies } from '../support/cycle.js';

const fig = figures('reliability-hang');
for (const k of ['hung', 'leftovers', 'unreported', 'skippedRest', 'releaseFaults', 'releaseFaultExits']) fig.add(k, 0);
afterAll(() => fig.write());

const TIMEOUT_MS = '250';

/** Writes of a clean release about devices other than `id`'s that this release did not make. */
function undoneOfOthers(
  h: SimHost,
  clean: SimWrite[],
  id: WriteIdentity,
  vfOf?: (netdev: string, k: number) => string | undefined,
): SimWrite[] {
  const done = new Set(h.writes().map((x) => `${x.path}=${x.data}`));
  return clean.filter((x) => describeWrite(x, vfOf).key !== id.key && !done.has(`${x.path}=${x.data}`));
}

for (const fixture of ['workstation', 'server']) {
  describe(`a stuck write during release (${fixture})`, () => {
    const d = largestDomain(fixture);
    const vfOf = vfResolver(fixture);

    figureTest(
      fig,
      `${d.name}: a failing write in release is reported, the rest undone, recover finishes`,
      async () => {
        await trialsOnCopies(
          fig,
          fixture,
          (host, start) => releaseWriteTrials(host, d, start),
          async (h, { w, k, of, clean }, fail, start) => {
            const id = describeWrite(w, vfOf);
            const where = `${d.name} release write ${k}/${of} failing (${w.path})`;
            h.clearLog();
            const r = await h.hook(d.name, 'release', domainXml(d), {
              faults: { failWrite: { n: k, errno: 'EBUSY' } },
            });
            fig.add('releaseFaults');
            if (r.code !== 0) {
              fig.add('releaseFaultExits');
              fail(`${where}: release exited ${r.code}`);
            }
            const named = namesWrite(r.stderr.split('EBUSY')[0] ?? '', id);
            if (!named.device || !named.step) {
              fig.add('unreported');
              fail(`${where}: stderr does not name the failed step: ${JSON.stringify(r.stderr.trim().slice(0, 300))}`);
            }
            const missing = undoneOfOthers(h, clean, id, vfOf);
            if (missing.length) {
              fig.add('skippedRest');
              fail(
                `${where}: release skipped ${missing.length} undo writes of other devices, first ${missing[0]!.path}`,
              );
            }
            const rec = await h.passthru(['recover', '--all']);
            if (rec.code !== 0 || h.state() !== start || h.journals().length) {
              fig.add('leftovers');
              fail(`${where}: recover did not finish the job (exit ${rec.code}: ${rec.stderr.trim()})`);
            }
          },
        );
      },
      { timeout: 300_000 },
    );

    figureTest(
      fig,
      `${d.name}: release exits 0, reports the stuck step, undoes the rest`,
      async () => {
        await trialsOnCopies(
          fig,
          fixture,
          async (host, start) => {
            fig.add('scenarios');
            return releaseWriteTrials(host, d, start);
          },
          async (h, { w, k, of, clean }, fail, start) => {
            const where = `${d.name} release write ${k}/${of} (${w.path})`;
            h.clearLog();
            const r = await h.hook(d.name, 'release', domainXml(d), {
              faults: { hangOnWrite: k },
              env: { PASSTHRU_WRITE_TIMEOUT_MS: TIMEOUT_MS },
              limitMs: 60_000,
            });
            fig.add('runs');
            if (r.timedOut) {
              fig.add('hung');
              return fail(`${where}: release hung`);
            }
            if (r.code !== 0) fail(`${where}: release exited ${r.code}`);
            const id = describeWrite(w, vfOf);
            const line = r.stderr;
            const named = namesWrite(line, id);
            if (!/timed out/i.test(line) || !named.device || !named.step) {
              fig.add('unreported');
              fail(`${where}: stderr does not report the stuck step: ${JSON.stringify(line.trim().slice(0, 300))}`);
            }
            // every write of the clean release about another device still happened
            const missing = undoneOfOthers(h, clean, id, vfOf);
            if (missing.length) {
              fig.add('skippedRest');
              fail(`${where}: release skipped ${missing.length} later undo writes, first ${missing[0]!.path}`);
            }
            // what the stuck write left behind, recover finishes
            const rec = await h.passthru(['recover', '--all']);
            if (rec.code !== 0 || h.state() !== start || h.journals().length) {
              fig.add('leftovers');
              fail(
                `${where}: recover after the stuck release did not restore the host (exit ${rec.code}: ${rec.stderr.trim()})`,
              );
            }
          },
        );
      },
      { timeout: 300_000 },
    );
  });
}
