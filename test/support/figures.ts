// Figures the reliability suites measure while they run (scenarios, steps tried, kills, rounds,
// hostile cases, runs that left anything behind). Each suite overwrites .cache/guarantees/<suite>.json
// at the end of its run; scripts/guarantees.mjs turns those files into the README's "Guarantees" lines.
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
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
  /** Writes the suite's file; call from afterAll. */
  write(): string;
}

export function figures(suite: string): Figures {
  const values: Record<string, number | string | string[]> = {};
  const notes: string[] = [];
  return {
    add(name, n = 1) {
      const v = values[name];
      values[name] = (typeof v === 'number' ? v : 0) + n;
    },
    set(name, value) {
      values[name] = value;
    },
    note(text) {
      if (notes.length < 50) notes.push(text);
    },
    get(name) {
      const v = values[name];
      return typeof v === 'number' ? v : 0;
    },
    write() {
      mkdirSync(guaranteesDir, { recursive: true });
      const file = join(guaranteesDir, `${suite}.json`);
      const sorted = Object.fromEntries(Object.entries(values).sort(([a], [b]) => a.localeCompare(b)));
      const body = JSON.stringify({ suite, at: new Date().toISOString(), figures: sorted, notes }, null, 2) + '\n';
      // write-then-rename: a suite killed mid-write never leaves half a file for the summary
      writeFileSync(`${file}.tmp`, body);
      renameSync(`${file}.tmp`, file);
      return file;
    },
  };
}
