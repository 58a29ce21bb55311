#!/usr/bin/env node
// Prints the README's "Guarantees" section from the figures the reliability suites wrote during
// their last run (.cache/guarantees/<suite>.json). Only measured numbers: a suite that did not run
// is listed as such, never filled in.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '.cache', 'guarantees');
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
if (files.length === 0) {
  console.error(`guarantees: no figures in ${dir}; run the suites first (npx vitest run test/sim test/unit/hostile-*)`);
  process.exit(1);
}

// How each suite's figures read as one sentence; unknown suites print their raw figures.
const sentences = {
  'reliability-faults': (f) =>
    `Fault at every step: ${f.scenarios} scenarios, ${f.runs} prepares each with one host write failing (${f.steps} distinct steps); ` +
    `${f.leftovers} left the host different from its start, ${f.badErrors} gave an error not naming the device and step.`,
  'kill-recover': (f) =>
    `Kill at every step: ${f.kills} hook processes SIGKILLed right after write k across ${f.scenarios} scenarios, then \`passthru recover --all\`; ` +
    `${f.leftovers} left anything behind, ${f.secondRecoverChanged} second recovers changed something; ${f.badJournals} corrupt/empty state dir cases, ${f.badJournalChanged} changed something.`,
  'race-concurrent': (f) =>
    `Races: ${f.rounds} rounds of ${f.domainsPerRound} domains started/stopped at once through hooks/qemu (${f.hookRuns} hook runs, ${f.refusals} refusals); ` +
    `${f.groupSplits} group splits, ${f.duplicateMdevs} duplicate mdev creations, ${f.leftovers} rounds ending different from the start.`,
  'hostile-input': (f) =>
    `Hostile input: ${f.cases} hand-written and ${f.generated} generated (fast-check) cases; ${f.accepted} accepted, ${f.wroteSomething} wrote anything, ${f.badErrors} without a one-line error.`,
  'reliability-hang': (f) =>
    `Release never hangs: ${f.runs} releases with a stuck write; ${f.hung} hung, ${f.leftovers} skipped the rest of the undo.`,
};

const lines = ['## Guarantees', '', 'Figures from the last run of the reliability suites (`npm test`):', ''];
for (const file of files) {
  const { suite, at, figures, notes } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const say = sentences[suite];
  const text = say && Object.keys(figures).length ? say(new Proxy(figures, { get: (o, k) => (k in o ? o[k] : 'n/a') })) : `${suite}: ${JSON.stringify(figures)}`;
  lines.push(`- ${text} _(run ${at.slice(0, 16).replace('T', ' ')} UTC)_`);
  for (const n of (notes ?? []).slice(0, 3)) lines.push(`  - ${n}`);
}
console.log(lines.join('\n'));
