// xmlfix against its peers, side by side in one run: one call vs `node -e 0` (start-up floor) and
// vs virt-xml (Debian's virtinst, reading the XML on stdin through the test driver); and 1000 files
// edited by one `xmlfix -i` call vs 10 single virt-xml calls.
//
// The machine these run on is shared, so three figures per command:
// - wall: median of runs taken round-robin (node, xmlfix, virt-xml, node, …), so load that comes
//   and goes hits every command alike;
// - cpu: user+system time of the children (from /proc/self/stat), which waiting for a core does
//   not inflate;
// - instructions: one run under callgrind (when valgrind is installed; BENCH_CALLGRIND=0 skips),
//   the figure that does not move with load at all.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fixture = 'fixtures/xml/domain-q35.xml';
const xml = readFileSync(fixture);
const node = process.execPath;
const runs = Number(process.env.BENCH_RUNS ?? 20);
const TICK_MS = 10; // USER_HZ = 100 on Linux

/** Children's CPU time so far (ms), as the kernel accounts it for waited-for children. */
function childCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS; // #16 cutime, #17 cstime
}

function runOnce(cmd) {
  const cpu0 = childCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd.argv[0], cmd.argv.slice(1), {
    input: cmd.input,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 1 << 26,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd.argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  if (cmd.expect && !r.stdout.toString().includes(cmd.expect))
    throw new Error(`${cmd.name}: output lacks ${cmd.expect}`);
  return { wall, cpu: childCpuMs() - cpu0 };
}

/** Round-robin runs of every command; per command the median wall time and mean CPU time (ms). */
function measure(cmds, n, warmup = 2) {
  const walls = cmds.map(() => []);
  const cpus = cmds.map(() => 0);
  for (let i = 0; i < warmup + n; i++) {
    cmds.forEach((c, j) => {
      // A slow peer runs every k-th round only, still spread over the whole measurement.
      if (i >= warmup && (i - warmup) % Math.ceil(n / (c.runs ?? n)) !== 0) return;
      const m = runOnce(c);
      if (i < warmup) return;
      walls[j].push(m.wall);
      cpus[j] += m.cpu;
    });
  }
  return cmds.map((c, j) => {
    const w = walls[j].sort((a, b) => a - b);
    return { wall: w[Math.floor(w.length / 2)], cpu: cpus[j] / w.length, n: w.length };
  });
}

/** Instructions executed by one run (callgrind), or undefined without valgrind. */
function instructions(cmd) {
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', ...cmd.argv], {
    input: cmd.input,
    stdio: ['pipe', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const m = /Collected : (\d+)/.exec(r.stderr ?? '');
  return r.status === 0 && m ? Number(m[1]) : undefined;
}

const base = { name: 'node -e 0', argv: [node, '-e', '0'] };
const one = {
  name: 'xmlfix FILE --add-hostdev 01:00.0',
  argv: [node, 'dist/xmlfix.js', fixture, '--add-hostdev', '01:00.0'],
  expect: "bus='0x01'",
};
// virt-xml cannot look up 01:00.0 on the test driver (it has no PCI node devices), so the same
// <source><address …/></source> is spelled with its xpath options; the output is the same hostdev.
const virtXml = {
  name: 'virt-xml --add-device --hostdev (stdin, test:///default)',
  argv: [
    'virt-xml',
    '--connect',
    'test:///default',
    '--add-device',
    '--hostdev',
    'type=pci,xpath1.create=./source/address,xpath2.set=./source/address/@domain=0x0000,xpath3.set=./source/address/@bus=0x01,xpath4.set=./source/address/@slot=0x00,xpath5.set=./source/address/@function=0x0',
  ],
  input: xml,
  expect: 'bus="0x01"',
  runs: Math.max(5, Math.floor(runs / 2)),
};
const hasVirtXml = spawnSync('sh', ['-c', 'command -v virt-xml']).status === 0;
if (!hasVirtXml) console.log('virt-xml: not installed (npm run test:setup installs virtinst); its rows are skipped');
const cmds = hasVirtXml ? [base, one, virtXml] : [base, one];
const res = measure(cmds, runs);

const dir = mkdtempSync(join(tmpdir(), 'xmlfix-bench-'));
const files = [];
for (let i = 0; i < 1000; i++) {
  const f = join(dir, `d${i}.xml`);
  copyFileSync(fixture, f);
  files.push(f);
}
const many = runOnce({ name: 'xmlfix -i', argv: [node, 'dist/xmlfix.js', '-i', ...files, '--add-hostdev', '01:00.0'] });
const edited = readFileSync(files[999], 'utf8').includes("bus='0x01' slot='0x00' function='0x0'/>\n      </source>");
rmSync(dir, { recursive: true, force: true });
if (!edited) throw new Error('xmlfix -i did not edit the files');

const callgrind = process.env.BENCH_CALLGRIND !== '0' && spawnSync('sh', ['-c', 'command -v valgrind']).status === 0;
const ins = callgrind ? [instructions(base), instructions(one)] : [];

const fmt = (v, w = 9) => (v === undefined ? '-' : v.toFixed(1)).padStart(w);
console.log(`${'command'.padEnd(58)} ${'wall ms'.padStart(9)} ${'cpu ms'.padStart(9)}  ratio (wall, cpu vs node -e 0)`);
cmds.forEach((c, j) => {
  const r = res[j];
  console.log(
    `${c.name.padEnd(58)} ${fmt(r.wall)} ${fmt(r.cpu)}  ${(r.wall / res[0].wall).toFixed(2)}x ${(r.cpu / res[0].cpu).toFixed(2)}x  (n=${r.n})`,
  );
});
console.log(`${'xmlfix -i 1000 files --add-hostdev 01:00.0 (one call)'.padEnd(58)} ${fmt(many.wall)} ${fmt(many.cpu)}`);
if (ins.length === 2 && ins[0] && ins[1]) {
  console.log(
    `instructions (callgrind): node -e 0 ${(ins[0] / 1e6).toFixed(1)}M, xmlfix ${(ins[1] / 1e6).toFixed(1)}M = ${(ins[1] / ins[0]).toFixed(3)}x`,
  );
}

console.log('');
const [b, o, v] = res;
console.log(
  `one call / node -e 0: ${(o.wall / b.wall).toFixed(2)}x wall, ${(o.cpu / b.cpu).toFixed(2)}x cpu${ins[1] ? `, ${(ins[1] / ins[0]).toFixed(2)}x instructions` : ''} (target <= 1.2x)`,
);
if (v) {
  console.log(
    `virt-xml / one call: ${(v.wall / o.wall).toFixed(2)}x wall, ${(v.cpu / o.cpu).toFixed(2)}x cpu (target >= 2.5x)`,
  );
  console.log(
    `1000 files in one call vs 10 virt-xml calls: ${many.wall.toFixed(0)} ms vs ${(10 * v.wall).toFixed(0)} ms wall; throughput ${(1000 / many.wall / (1 / v.wall)).toFixed(0)}x virt-xml's (target >= 100x)`,
  );
}
