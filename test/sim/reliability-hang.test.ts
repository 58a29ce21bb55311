// Release never hangs: for every host write release makes, a run where that write never returns
// (the simulator's hangOnWrite) with a small PASSTHRU_WRITE_TIMEOUT_MS. Release must exit 0 on its
// own, name the stuck step on stderr, and still undo everything of the other devices; a later
// `passthru recover --all` then finishes the job. Figures: .cache/guarantees/reliability-hang.json.
import { afterAll, describe, expect, it } from 'vitest';
import { figures, figureTest } from '../support/figures.js';
import { domainXml } from '../support/domains.js';
import { largestDomain, vfResolver } from '../support/scenarios.js';
import { SimHost, describeWrite, namesWrite } from '../support/simhost.js';

const fig = figures('reliability-hang');
for (const k of ['hung', 'leftovers', 'unreported', 'skippedRest', 'releaseFaults', 'releaseFaultExits']) fig.add(k, 0);
afterAll(() => fig.write());

const TIMEOUT_MS = '250';

for (const fixture of ['workstation', 'server']) {
  describe(`a stuck write during release (${fixture})`, () => {
    const d = largestDomain(fixture);
    const vfOf = vfResolver(fixture);

    figureTest(fig, `${d.name}: a failing write in release is reported, the rest undone, recover finishes`, async () => {
      const host = await SimHost.create(fixture);
      try {
        const start = host.state();
        const ok = await host.hook(d.name, 'prepare', domainXml(d));
        expect(ok.code, ok.stderr).toBe(0);
        const probe = host.copy();
        probe.clearLog();
        expect((await probe.hook(d.name, 'release', domainXml(d))).code).toBe(0);
        const writes = probe.writes();
        probe.cleanup();
        const failures: string[] = [];
        for (let k = 1; k <= writes.length; k++) {
          const w = writes[k - 1]!;
          const id = describeWrite(w, vfOf);
          const where = `${d.name} release write ${k}/${writes.length} failing (${w.path})`;
          const h = host.copy();
          try {
            h.clearLog();
            const r = await h.hook(d.name, 'release', domainXml(d), { faults: { failWrite: { n: k, errno: 'EBUSY' } } });
            fig.add('releaseFaults');
            if (r.code !== 0) {
              fig.add('releaseFaultExits');
              failures.push(`${where}: release exited ${r.code}`);
            }
            const named = namesWrite(r.stderr.split('EBUSY')[0] ?? '', id);
            if (!named.device || !named.step) {
              fig.add('unreported');
              failures.push(`${where}: stderr does not name the failed step: ${JSON.stringify(r.stderr.trim().slice(0, 300))}`);
            }
            const done = new Set(h.writes().map((x) => `${x.path}=${x.data}`));
            const missing = writes.filter((x) => describeWrite(x, vfOf).key !== id.key && !done.has(`${x.path}=${x.data}`));
            if (missing.length) {
              fig.add('skippedRest');
              failures.push(`${where}: release skipped ${missing.length} undo writes of other devices, first ${missing[0]!.path}`);
            }
            const rec = await h.passthru(['recover', '--all']);
            if (rec.code !== 0 || h.state() !== start || h.journals().length) {
              fig.add('leftovers');
              failures.push(`${where}: recover did not finish the job (exit ${rec.code}: ${rec.stderr.trim()})`);
            }
          } finally {
            h.cleanup();
          }
        }
        for (const f of failures.slice(0, 3)) fig.note(f);
        expect(failures).toEqual([]);
      } finally {
        host.cleanup();
      }
    }, { timeout: 300_000 });

    figureTest(fig, `${d.name}: release exits 0, reports the stuck step, undoes the rest`, async () => {
      const host = await SimHost.create(fixture);
      try {
        const start = host.state();
        const ok = await host.hook(d.name, 'prepare', domainXml(d));
        expect(ok.code, ok.stderr).toBe(0);
        // the writes a clean release makes, on a copy
        const probe = host.copy();
        probe.clearLog();
        const clean = await probe.hook(d.name, 'release', domainXml(d));
        expect(clean.code, clean.stderr).toBe(0);
        const writes = probe.writes();
        expect(probe.state(), 'a clean release restores the host').toBe(start);
        probe.cleanup();
        expect(writes.length).toBeGreaterThan(1);
        fig.add('scenarios');
        const failures: string[] = [];
        for (let k = 1; k <= writes.length; k++) {
          const w = writes[k - 1]!;
          const where = `${d.name} release write ${k}/${writes.length} (${w.path})`;
          const h = host.copy();
          try {
            h.clearLog();
            const r = await h.hook(d.name, 'release', domainXml(d), { faults: { hangOnWrite: k }, env: { PASSTHRU_WRITE_TIMEOUT_MS: TIMEOUT_MS }, limitMs: 60_000 });
            fig.add('runs');
            if (r.timedOut) {
              fig.add('hung');
              failures.push(`${where}: release hung`);
              continue;
            }
            if (r.code !== 0) failures.push(`${where}: release exited ${r.code}`);
            const id = describeWrite(w, vfOf);
            const line = r.stderr;
            const named = namesWrite(line, id);
            if (!/timed out/i.test(line) || !named.device || !named.step) {
              fig.add('unreported');
              failures.push(`${where}: stderr does not report the stuck step: ${JSON.stringify(line.trim().slice(0, 300))}`);
            }
            // every write of the clean release about another device still happened
            const done = new Set(h.writes().map((x) => `${x.path}=${x.data}`));
            const missing = writes.filter((x) => describeWrite(x, vfOf).key !== id.key).filter((x) => !done.has(`${x.path}=${x.data}`));
            if (missing.length) {
              fig.add('skippedRest');
              failures.push(`${where}: release skipped ${missing.length} later undo writes, first ${missing[0]!.path}`);
            }
            // what the stuck write left behind, recover finishes
            const rec = await h.passthru(['recover', '--all']);
            if (rec.code !== 0 || h.state() !== start || h.journals().length) {
              fig.add('leftovers');
              failures.push(`${where}: recover after the stuck release did not restore the host (exit ${rec.code}: ${rec.stderr.trim()})`);
            }
          } finally {
            h.cleanup();
          }
        }
        for (const f of failures.slice(0, 3)) fig.note(f);
        expect(failures).toEqual([]);
      } finally {
        host.cleanup();
      }
    }, { timeout: 300_000 });
  });
}
