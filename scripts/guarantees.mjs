#!/usr/bin/env node
// Prints docs/guarantees.md's figures from what the reliability suites wrote during their last run
// (.cache/guarantees/<suite>.json); `--write` puts them into docs/guarantees.md between its markers.
// Only measured numbers: a suite that did not run is listed as such, never filled in.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '.cache', 'guarantees');
const files = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];
if (files.length === 0) {
  console.error(`guarantees: no figures in ${dir}; run the suites first (npx vitest run test/sim test/unit/hostile-*)`);
  process.exit(1);
}

// How each suite's figures read as one sentence; unknown suites print their raw figures.
const sentences = {
  'reliability-faults': (f) =>
    `Fault at every step: ${f.scenarios} scenarios (workstation and server hosts), ${f.runs} prepares each with one host write failing (EIO/EBUSY/ENODEV/EACCES), then release: ` +
    `${f.leftovers} left the host different from its start; ${f.badErrors} errors failed to name the device and the step in one line.`,
  'kill-recover': (f) =>
    `Kill at every step: ${f.kills} hook processes SIGKILLed right after host write k (${f.scenarios} scenarios), then \`passthru recover --all\`, and ${f.releaseKills} releases killed the same way: ` +
    `${f.leftovers} left anything behind; ${f.secondRecoverChanged} second recovers changed anything; ${f.badJournals} empty/corrupt/symlinked journal cases, ${f.badJournalChanged} changed anything.`,
  'race-concurrent': (f) =>
    `Races: ${f.rounds} rounds of ${f.domainsPerRound} domains started and stopped at once through hooks/qemu (installed with ${f.entry}), sharing an IOMMU group, a PF and an mdev: ` +
    `${f.hookRuns} hook runs, ${f.refusals} refusals, ${f.overlappingHolds} pairs running side by side; ${f.groupSplits} group splits, ${f.duplicateMdevs} mdevs held or created twice, ${f.vfShortfalls} VF shortfalls, ${f.leftovers} rounds not ending where they began.`,
  'reliability-hang': (f) =>
    `Release never fails or hangs: ${f.releaseFaults} releases with one host write failing and ${f.runs} with one stuck forever (write timeout 250 ms): ` +
    `${f.releaseFaultExits} exited non-zero, ${f.hung} hung, ${f.unreported} did not report the step, ${f.skippedRest} skipped the undo of other devices, ${f.leftovers} were not finished by recover.`,
  'hostile-hook': (f) =>
    `Hostile input to the hook (XML on stdin, metadata values, argv, config and journal files): ${f.cases} cases; ${f.accepted} accepted, ${f.wroteSomething} wrote anything, ${f.badErrors} without a one-line error.`,
  'hostile-materialized': (f) =>
    `The same on a materialized sysfs tree (NodeSysfs): ${f.cases} cases; ${f.changedTree} changed anything in or beside the root.`,
  'hostile-xmlfix': (f) =>
    `Hostile input to xmlfix: ${f.cases} cases; ${f.accepted} accepted, ${f.wroteSomething} wrote output, ${f.badErrors} without a one-line error naming the value.`,
  'hostile-generated': (f) =>
    `Generated hostile input (fast-check, seed ${f.seed}): ${f.generated} cases; ${f.accepted} happened to be valid and were prepared and released; ${f.wroteSomething} refused cases wrote anything, ${f.unsafeWrites} wrote outside well-formed host paths, ${f.notRestored} not restored.`,
};

// a fixed reading order: failures first, then crashes, hangs, races, hostile input
const order = Object.keys(sentences);
const rank = (f) => {
  const i = order.indexOf(f.replace(/\.json$/, ''));
  return i < 0 ? order.length : i;
};
files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

const lines = [];
for (const file of files) {
  const { suite, figures, notes } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const say = sentences[suite];
  const text =
    say && Object.keys(figures).length
      ? say(new Proxy(figures, { get: (o, k) => (k in o ? o[k] : 'n/a') }))
      : `${suite}: ${JSON.stringify(figures)}`;
  lines.push(`- ${text}`);
  for (const n of (notes ?? []).slice(0, 3)) lines.push(`  - ${n}`);
}
const figures = lines.join('\n');
if (!process.argv.includes('--write')) {
  console.log(figures);
  process.exit(0);
}
// the figures live between two markers, so the prose around them stays hand-written
const doc = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'guarantees.md');
const [begin, end] = ['<!-- figures: npm run -s guarantees -- --write -->', '<!-- end of figures -->'];
const text = readFileSync(doc, 'utf8');
const from = text.indexOf(begin);
const to = text.indexOf(end);
if (from < 0 || to < from) {
  console.error(`guarantees: ${doc} lacks the markers '${begin}' and '${end}'`);
  process.exit(1);
}
writeFileSync(doc, `${text.slice(0, from + begin.length)}\n${figures}\n${text.slice(to)}`);
