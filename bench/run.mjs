// `npm run bench`: runs every bench/*.bench.mjs in one process run, one after another, so the
// ratios each prints compare peers measured on the same machine at the same time.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
// Node settings of this shell that change what every node start costs are left out, so each bench
// measures what a host's own shell or libvirt (which passes no such variables) would see: on the
// development machine NODE_EXTRA_CA_CERTS alone makes `node -e 0` load a CA bundle, ~50 ms and
// ~400M instructions, which hid the difference between a program and its `node -e 0` peer.
const env = { ...process.env };
for (const k of ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS', 'NODE_V8_COVERAGE', 'NODE_DEBUG']) delete env[k];
let failed = 0;
for (const file of benches) {
  console.log(`\n## ${file}`);
  const r = spawnSync(process.execPath, [join(here, file)], { stdio: 'inherit', env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
