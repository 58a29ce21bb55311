// Figures the reliability suites measure while they run (scenarios, steps tried, kills, rounds,
// hostile cases, runs that left anything behind). Each suite overwrites .cache/guarantees/<suite>.json
// at the end of its run; scripts/guarantees.mjs turns those files into docs/guarantees.md's figures.
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { it } from 'vitest';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export const guaranteesDir = join(repoRoot, '.cache', 'guarantees');

export interface Figures {
  /** Adds n (default 1) to a counter. */
  add(name: string, n?: number): void;
  /** Sets a value (counts that are known at once, lists of names). */
  set(name: string, value: number | string | string[]): void;
  /** Adds a short line describing something that went wrong (kept for the summary). */
  note(text: string): void;
  get(name: string): number;
  /** Declares how many tests of the suite record figures; each calls ran() when it starts. */
  plan(tests: number): void;
  ran(): void;
  /**
   * Writes the suite's file; call from afterAll. Only a complete run is written (every planned test
   * started): a run filtered with -t keeps the last complete figures instead of overwriting them
   * with a part. Returns the file, or undefined when the run was partial.
   */
  write(): string | undefined;
}

export function figures(suite: string): Figures {
  const values: Record<string, number | string | string[]> = {};
  const notes: string[] = [];
  let planned = 0;
  let started = 0;
  return {
    plan(tests) {
      planned += tests;
    },
    ran() {
      started++;
    },
    add(name, n = 1) {
      const v = values[name];
      values[name] = (typeof v === 'number' ? v : 0) + n;
    },
    set(name, value) {
      values[name] = value;
    },
    note(text) {
      const line = text.replace(/\s*\n\s*/g, ' ');
      if (notes.length < 50) notes.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
    },
    get(name) {
      const v = values[name];
      return typeof v === 'number' ? v : 0;
    },
    write() {
      if (started < planned || planned === 0) return undefined;
      mkdirSync(guaranteesDir, { recursive: true });
      const file = join(guaranteesDir, `${suite}.json`);
      const sorted = Object.fromEntries(Object.entries(values).sort(([a], [b]) => a.localeCompare(b)));
      const body = `${JSON.stringify({ suite, at: new Date().toISOString(), tests: started, figures: sorted, notes }, null, 2)}\n`;
      // write-then-rename: a suite killed mid-write never leaves half a file for the summary
      writeFileSync(`${file}.tmp`, body);
      renameSync(`${file}.tmp`, file);
      return file;
    },
  };
}

/**
 * `it` for a test that records figures: planned at collection, counted when it starts, so a run
 * filtered down to some tests never overwrites the suite's complete figures. `fails` = it.fails.
 */
export function figureTest(
  fig: Figures,
  name: string,
  fn: () => Promise<void> | void,
  opts: { timeout?: number; fails?: boolean } = {},
): void {
  fig.plan(1);
  (opts.fails ? it.fails : it)(
    name,
    async () => {
      fig.ran();
      await fn();
    },
    opts.timeout,
  );
}
