// Scenario runs shared by the fault, kill and hang suites: the dry run that enumerates the host
// writes each domain's prepare (or release) makes, preparing/releasing a scenario's domains in order,
// and the trial loop all of them run.
import { expect } from 'vitest';
import { domainXml, type DomainSpec } from './domains.js';
import type { Figures } from './figures.js';
import { bridges, type Scenario } from './scenarios.js';
import { SimHost, type SimWrite } from './simhost.js';

/** Reports one failure line of a trial; the test fails once all trials have run. */
export type Fail = (line: string) => void;

/**
 * The loop every reliability suite runs: a fresh host of `fixture` (`start` = its state then),
 * `setup` on it (prepare a domain, enumerate writes) returning the trials, then each trial on its
 * own copy of that host, removed afterwards. Failures are collected rather than thrown so one run
 * reports every bad step; the first three go into the figures, and any fails the test.
 */
export async function trialsOnCopies<T>(
  fig: Figures,
  fixture: string,
  setup: (host: SimHost, start: string) => Promise<T[]>,
  trial: (h: SimHost, t: T, fail: Fail, start: string) => Promise<void>,
): Promise<void> {
  const host = await SimHost.create(fixture);
  try {
    const start = host.state();
    const trials = await setup(host, start);
    const failures: string[] = [];
    for (const t of trials) {
      const h = host.copy();
      try {
        await trial(h, t, (line) => failures.push(line), start);
      } finally {
        h.cleanup();
      }
    }
    for (const f of failures.slice(0, 3)) fig.note(f);
    expect(failures).toEqual([]);
  } finally {
    host.cleanup();
  }
}

/**
 * Prepares `d` on `host`, then returns the writes a clean release of it makes, measured on a copy
 * (which must exit 0 and restore `start`): the steps a release suite breaks one at a time.
 */
export async function preparedReleaseWrites(host: SimHost, d: DomainSpec, start: string): Promise<SimWrite[]> {
  const ok = await host.hook(d.name, 'prepare', domainXml(d));
  expect(ok.code, ok.stderr).toBe(0);
  const probe = host.copy();
  try {
    probe.clearLog();
    const clean = await probe.hook(d.name, 'release', domainXml(d));
    expect(clean.code, clean.stderr).toBe(0);
    expect(probe.state(), 'a clean release restores the host').toBe(start);
    const writes = probe.writes();
    expect(writes.length).toBeGreaterThan(1);
    return writes;
  } finally {
    probe.cleanup();
  }
}

/** Every (domain index, write number k, write) of a scenario's enumerated prepare writes. */
export function eachWrite(perDomain: SimWrite[][]): { di: number; k: number; of: number; w: SimWrite }[] {
  return perDomain.flatMap((writes, di) => writes.map((w, i) => ({ di, k: i + 1, of: writes.length, w })));
}

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
    expect(perDomain.flat().filter((w) => untouchable.some((b) => w.path.includes(b) || w.data.includes(b)))).toEqual(
      [],
    );
    return perDomain;
  } finally {
    probe.cleanup();
  }
}

/** The trials of a suite that breaks a scenario's prepare at each of its writes in turn. */
export async function prepareWriteTrials(
  host: SimHost,
  sc: Scenario,
): Promise<{ di: number; k: number; of: number; w: SimWrite }[]> {
  return eachWrite(await enumerateWrites(host, sc));
}

/** The trials of a suite that breaks a prepared domain's release at each of its writes in turn. */
export async function releaseWriteTrials(
  host: SimHost,
  d: DomainSpec,
  start: string,
): Promise<{ k: number; of: number; w: SimWrite; clean: SimWrite[] }[]> {
  const clean = await preparedReleaseWrites(host, d, start);
  return clean.map((w, i) => ({ k: i + 1, of: clean.length, w, clean }));
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
    if (r.code !== 0 || r.timedOut)
      problems.push(`release of ${d.name} exited ${r.code}${r.timedOut ? ' (hung)' : ''}: ${r.stderr.trim()}`);
  }
  return problems;
}
