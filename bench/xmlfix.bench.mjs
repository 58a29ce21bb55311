// xmlfix against its peers, side by side in one run: one call vs `node -e 0` (start-up floor) and
// vs virt-xml (Debian's virtinst, reading the XML on stdin through the test driver); and 1000 files
// edited by one `xmlfix -i` call vs 10 single virt-xml calls.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { row, timeCommand } from './lib.mjs';

const fixture = 'fixtures/xml/domain-q35.xml';
const xml = readFileSync(fixture);
const node = process.execPath;
const runs = Number(process.env.BENCH_RUNS ?? 20);

const base = timeCommand([node, '-e', '0'], { runs });
row('node -e 0', base);
const one = timeCommand([node, 'dist/xmlfix.js', fixture, '--add-hostdev', '01:00.0'], { runs });
row('xmlfix FILE --add-hostdev 01:00.0', one, base);

const hasVirtXml = spawnSync('sh', ['-c', 'command -v virt-xml']).status === 0;
const virtXmlArgs = [
  'virt-xml', '--connect', 'test:///default', '--add-device', '--hostdev',
  'type=pci,xpath1.create=./source/address,xpath2.set=./source/address/@domain=0x0000,xpath3.set=./source/address/@bus=0x01,xpath4.set=./source/address/@slot=0x00,xpath5.set=./source/address/@function=0x0',
];
let vx;
if (hasVirtXml) {
  vx = timeCommand(virtXmlArgs, { runs: Math.max(5, Math.floor(runs / 2)), warmup: 1, input: xml });
  row('virt-xml --add-device --hostdev (stdin, test:///default)', vx, base);
} else console.log('virt-xml: not installed (npm run test:setup installs virtinst); skipped');

const dir = mkdtempSync(join(tmpdir(), 'xmlfix-bench-'));
const files = [];
for (let i = 0; i < 1000; i++) {
  const f = join(dir, `d${i}.xml`);
  copyFileSync(fixture, f);
  files.push(f);
}
const t0 = process.hrtime.bigint();
const r = spawnSync(node, ['dist/xmlfix.js', '-i', ...files, '--add-hostdev', '01:00.0']);
const many = Number(process.hrtime.bigint() - t0) / 1e6;
rmSync(dir, { recursive: true, force: true });
if (r.status !== 0) throw new Error(`xmlfix -i failed: ${r.stderr}`);
row('xmlfix -i 1000 files --add-hostdev (one call)', many, base);

console.log('');
console.log(`one call / node -e 0: ${(one / base).toFixed(2)}x (target <= 1.2x)`);
if (vx) {
  console.log(`virt-xml / one call: ${(vx / one).toFixed(2)}x faster (target >= 2.5x)`);
  console.log(`1000 files in one call vs 10 virt-xml calls: ${many.toFixed(0)} ms vs ${(10 * vx).toFixed(0)} ms; throughput ${((1000 / many) / (1 / vx)).toFixed(0)}x virt-xml's (target >= 100x)`);
}
