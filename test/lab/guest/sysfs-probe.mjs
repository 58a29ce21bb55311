// Records exactly what Node's fs sees on the guest's real sysfs (what NodeSysfs sees): file contents with
// their trailing newlines, raw symlink targets, sorted listings, and the errno code of a write.
//   node sysfs-probe.mjs LABEL OP...   OP = read:PATH | readlink:PATH | list:PATH | exists:PATH | write:PATH=DATA
// DATA may spell a newline as \n. One JSON line per op goes to stdout and to $LAB_RESULTS/facts.jsonl,
// the raw material of test/lab/FINDINGS.md.
import { appendFileSync, existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';

const [label, ...ops] = process.argv.slice(2);
const out = [];
for (const op of ops) {
  const colon = op.indexOf(':');
  const kind = op.slice(0, colon);
  let path = op.slice(colon + 1);
  const fact = { label, op: kind };
  try {
    if (kind === 'read') fact.value = readFileSync(path, 'utf8');
    else if (kind === 'readlink') fact.value = readlinkSync(path);
    else if (kind === 'list') fact.value = readdirSync(path).sort();
    else if (kind === 'exists') fact.value = existsSync(path);
    else if (kind === 'write') {
      const eq = path.indexOf('=');
      const data = path.slice(eq + 1).replace(/\\n/g, '\n');
      path = path.slice(0, eq);
      fact.data = data;
      writeFileSync(path, data);
      fact.value = 'ok';
    } else throw new Error(`unknown op '${kind}'`);
  } catch (err) {
    fact.error = err.code ?? String(err.message);
  }
  fact.path = path;
  out.push(JSON.stringify(fact));
}
const text = `${out.join('\n')}\n`;
process.stdout.write(text);
if (process.env.LAB_RESULTS) appendFileSync(`${process.env.LAB_RESULTS}/facts.jsonl`, text);
