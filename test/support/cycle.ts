// Scenario runs shared by the fault, kill and hang suites: the dry run that enumerates the host
// writes each domain's prepare makes, and preparing/releasing a scenario's domains in order.
import { expect } from 'vitest';
import { domainXml } from './domains.js';
import { bridges, type Scenario } from './scenarios.js';
import type { SimHost, SimWrite } from './simhost.js';

/** Writes each domain's prepare makes, in order, on a copy of `host` (the dry run of a scenario). */
export async function enumerateWrites(host: SimHost, sc: Scenario): Promise<SimWrite[][]> {
  const probe = host.copy();
  try {
    const perDomain: SimWrite[][] = [];
    for (const d of sc.domains) {
      probe.clearLog();
      const r = await probe.hook(d.name, 'prepare', domainXml(d));
      expect(r.stderr, `dry run of ${d.name}`).toBe('');
      expect(r.code, `dry run of ${d.name}`).toBe(0);
      perDomain.push(probe.writes());
    }
    // bridges and ports are never detached, whatever the scenario
    const untouchable = bridges(sc.fixture);
    expect(perDomain.flat().filter((w) => untouchable.some((b) => w.path.includes(b) || w.data.includes(b)))).toEqual([]);
    return perDomain;
  } finally {
    probe.cleanup();
  }
}

/** Prepares the first `n` domains of a scenario; each must succeed. */
export async function prepareFirst(h: SimHost, sc: Scenario, n: number): Promise<void> {
  for (const d of sc.domains.slice(0, n)) {
    const r = await h.hook(d.name, 'prepare', domainXml(d));
    expect(r.code, `prepare of ${d.name}: ${r.stderr}`).toBe(0);
  }
}

/** Releases the first `n` domains, newest first, as libvirt does; returns each problem as a line. */
export async function releaseFirst(h: SimHost, sc: Scenario, n: number): Promise<string[]> {
  const problems: string[] = [];
  for (const d of sc.domains.slice(0, n).reverse()) {
    const r = await h.hook(d.name, 'release', domainXml(d));
    if (r.code !== 0 || r.timedOut) problems.push(`release of ${d.name} exited ${r.code}${r.timedOut ? ' (hung)' : ''}: ${r.stderr.trim()}`);
  }
  return problems;
}
