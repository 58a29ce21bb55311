#!/usr/bin/env node
// The real-kernel lab: boots Debian's stock kernel under qemu with a virtual IOMMU and virtual PCI
// devices, runs a guest test script against real sysfs, brings the results back and judges them.
//
//   node test/lab/run.mjs [--topology full|gpu|bare] [--test test/lab/guest/main.sh] [--only p1,p2]
//                         [--timeout 1500] [--verbose] [--strict]
// --strict: a skipped check (a project command not in the tree yet) fails the run.
//
// The guest sees the host's / read-only (virtio-9p, readonly=on, under a tmpfs overlay in guest RAM), so
// it runs this checkout and the host's node without being able to change either. Results come back
// through a second 9p share, a fresh directory under .cache/lab/runs/, the only host path the guest
// can write. qemu is killed on every way out (timeout, signal, error).
//
// Where the lab cannot run (no qemu, set-up failing, not x86_64 Linux) it says why and exits 1, unless
// PASSTHRU_SKIP_LAB=1, which turns that into a skip (exit 0). LAB_ACCEL=kvm tries KVM instead of TCG
// (this machine kind's /dev/kvm cannot boot a stock kernel, so TCG is the default).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { topologies } from './topologies.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cache = join(repo, '.cache/lab');
const t0 = Date.now();
const secs = (ms) => (ms / 1000).toFixed(1);
const log = (msg) => process.stderr.write(`lab: ${msg}\n`);

const { values: opt } = parseArgs({
  options: {
    topology: { type: 'string', default: 'full' },
    test: { type: 'string', default: 'test/lab/guest/main.sh' },
    only: { type: 'string', default: '' },
    timeout: { type: 'string', default: '1500' },
    verbose: { type: 'boolean', short: 'v', default: false },
    strict: { type: 'boolean', default: false },
  },
});

/** The lab cannot run here: a failure, unless the caller said skipping is fine. */
function cannotRun(reason) {
  if (process.env.PASSTHRU_SKIP_LAB === '1') {
    log(`skipped (PASSTHRU_SKIP_LAB=1): ${reason}`);
    process.exit(0);
  }
  log(`cannot run: ${reason}`);
  log('set PASSTHRU_SKIP_LAB=1 to skip the lab tier where it cannot run');
  process.exit(1);
}

function usage(msg) {
  log(msg);
  process.exit(2);
}

const topology = topologies[opt.topology];
if (!topology) usage(`unknown topology '${opt.topology}' (known: ${Object.keys(topologies).join(', ')})`);
const only = opt.only || (topology.phases ?? []).join(',');
const timeoutSec = Number(opt.timeout);
if (!Number.isInteger(timeoutSec) || timeoutSec < 10 || timeoutSec > 3600)
  usage(`--timeout '${opt.timeout}' is not a whole number of seconds in 10..3600`);
const testPath = resolve(repo, opt.test);
if (!testPath.startsWith(`${repo}/`) || !existsSync(testPath))
  usage(`--test '${opt.test}' is not a file inside the checkout`);
if (opt.only !== '' && !/^[a-z0-9-]+(,[a-z0-9-]+)*$/.test(opt.only))
  usage(`--only '${opt.only}' is not a comma list of phase names`);
const accel = process.env.LAB_ACCEL ?? 'tcg';
if (accel !== 'tcg' && accel !== 'kvm') usage(`LAB_ACCEL '${accel}' is not tcg or kvm`);

// --- can the lab run here at all? ---
if (process.platform !== 'linux' || process.arch !== 'x64')
  cannotRun(`needs x86_64 Linux, this is ${process.platform}/${process.arch}`);
const qemuVersion = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
if (qemuVersion.error || qemuVersion.status !== 0)
  cannotRun('qemu-system-x86_64 is not installed (scripts/install-deps.sh lab)');
if (accel === 'kvm' && !existsSync('/dev/kvm')) cannotRun('LAB_ACCEL=kvm but there is no /dev/kvm');
const setupStart = Date.now();
const setup = spawnSync('sh', [join(repo, 'scripts/lab-setup.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
if (setup.status !== 0) cannotRun(`scripts/lab-setup.sh failed (exit ${setup.status ?? setup.signal})`);
const setupSec = secs(Date.now() - setupStart);
const kver = readFileSync(join(cache, 'kver'), 'utf8').trim();
const modulesDir = join(cache, 'root/lib/modules', kver);
for (const f of [join(cache, 'vmlinuz'), join(cache, 'initramfs.cpio.gz'), modulesDir]) {
  if (!existsSync(f)) cannotRun(`${relative(repo, f)} is missing after set-up`);
}

// --- a fresh results directory: the guest's only writable host path ---
const runsDir = join(cache, 'runs');
mkdirSync(runsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
const runDir = join(runsDir, `${stamp}-${process.pid}`);
const shareDir = join(runDir, 'share');
mkdirSync(shareDir, { recursive: true });
// The guest runs the bundles of this moment: a copy, since dist/ is rebuilt by anyone's `npm run build`
// and a bundle half-written under a running guest fails in ways that look like bugs.
const distDir = join(runDir, 'dist');
if (!existsSync(join(repo, 'dist/passthru.js'))) cannotRun('dist/ is not built (npm run build)');
cpSync(join(repo, 'dist'), distDir, { recursive: true });
// Keep the last few runs for post-mortems, not all of them.
for (const old of readdirSync(runsDir).sort().slice(0, -5))
  rmSync(join(runsDir, old), { recursive: true, force: true });

const cmdline = [
  'console=ttyS0',
  'intel_iommu=on',
  'iommu=pt',
  'panic=-1',
  'loglevel=4',
  `lab.init=${join(repo, 'test/lab/guest/init.sh')}`,
  `lab.modules=${modulesDir}`,
  `lab.test=${testPath}`,
  `lab.repo=${repo}`,
  `lab.bin=${join(cache, 'bin')}`,
  `lab.dist=${distDir}`,
  ...(only ? [`lab.only=${only}`] : []),
].join(' ');
for (const p of [repo, cache])
  if (/\s/.test(p)) cannotRun(`path '${p}' contains white space, which the kernel command line cannot carry`);

const qemuArgs = [
  '-accel',
  accel,
  // kernel-irqchip=split + intremap: the interrupt remapping vfio wants without allow_unsafe_interrupts.
  '-M',
  'q35,kernel-irqchip=split',
  '-m',
  '1024',
  '-smp',
  '2',
  '-nodefaults',
  '-display',
  'none',
  '-no-reboot',
  '-nic',
  'none',
  '-device',
  'intel-iommu,intremap=on,caching-mode=on',
  '-kernel',
  join(cache, 'vmlinuz'),
  '-initrd',
  join(cache, 'initramfs.cpio.gz'),
  '-append',
  cmdline,
  '-serial',
  'stdio',
  '-virtfs',
  'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
  '-virtfs',
  `local,path=${shareDir},mount_tag=results,security_model=none`,
  ...topology.args,
];
// The guarantee that no guest NIC reaches a host network, checked rather than hoped for.
const hostNet = qemuArgs.filter(
  (a, i) => a === '-netdev' || a === '-net' || /(^|,)netdev=/.test(a) || (a === '-nic' && qemuArgs[i + 1] !== 'none'),
);
if (hostNet.length) {
  log(`refusing qemu arguments that could attach a NIC to a host network: ${hostNet.join(' ')}`);
  process.exit(1);
}
writeFileSync(join(runDir, 'qemu-args.json'), `${JSON.stringify(qemuArgs, null, 2)}\n`);

// --- boot ---
log(`booting ${kver} (${accel}, topology '${opt.topology}'), results in ${relative(repo, runDir)}`);
const bootStart = Date.now();
const qemu = spawn('qemu-system-x86_64', qemuArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
let qemuAlive = true;
const killQemu = () => {
  if (!qemuAlive) return;
  try {
    process.kill(-qemu.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
};
process.on('exit', killQemu);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    killQemu();
    log(`interrupted by ${sig}`);
    process.exit(130);
  });
}
let timedOut = false;
const timer = setTimeout(() => {
  timedOut = true;
  log(`timeout after ${timeoutSec} s: killing qemu`);
  killQemu();
}, timeoutSec * 1000);

const marks = {};
let consoleText = '';
let pending = '';
qemu.stdout.on('data', (chunk) => {
  const s = chunk.toString('utf8');
  consoleText += s;
  pending += s;
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl).replace(/\r$/, '');
    pending = pending.slice(nl + 1);
    const m = /^(LAB-[A-Z-]+)/.exec(line);
    if (m && !(m[1] in marks)) marks[m[1]] = { at: Date.now() - bootStart, line };
    if (opt.verbose || /^LAB-(GUEST|INITRAMFS)-FAIL/.test(line)) process.stderr.write(`  | ${line}\n`);
    else if (line.startsWith('LAB-TAP not ok')) process.stderr.write(`  ${line.slice(8)}\n`);
  }
});
let qemuStderr = '';
qemu.stderr.on('data', (c) => {
  qemuStderr += c.toString('utf8');
});
const exit = await new Promise((res) => qemu.on('exit', (code, signal) => res({ code, signal })));
qemuAlive = false;
clearTimeout(timer);
const bootWall = Date.now() - bootStart;
writeFileSync(join(runDir, 'console.log'), consoleText);
writeFileSync(join(runDir, 'qemu-stderr.log'), qemuStderr);

// --- judge ---
const read = (name) => {
  try {
    return readFileSync(join(shareDir, name), 'utf8');
  } catch {
    return undefined;
  }
};
const tap = read('results.tap') ?? '';
const status = read('exit-status')?.trim();
const lines = tap.split('\n');
const oks = lines.filter((l) => /^ok \d+/.test(l));
const notOks = lines.filter((l) => /^not ok \d+/.test(l));
const skips = oks.filter((l) => / # SKIP /.test(l));
const plan = lines.find((l) => /^1\.\.\d+$/.test(l));
const problems = [];
if (timedOut) problems.push(`the guest did not finish within ${timeoutSec} s`);
const noise = qemuStderr.split('\n').filter((l) => l && !/warning: nic \S+ has no peer/.test(l));
if (exit.code !== 0 && !timedOut) problems.push(`qemu exited with ${exit.code ?? exit.signal}: ${noise.join(' | ')}`);
if (!marks['LAB-GUEST-UP']) problems.push('the guest never reached its init (see console.log)');
if (status === undefined && !timedOut) problems.push('the guest test left no exit status');
if (status !== undefined && status !== '0') problems.push(`the guest test script exited ${status}`);
if (!plan) problems.push('no TAP plan line: the guest test did not run to its end');
else if (Number(plan.slice(3)) !== oks.length + notOks.length)
  problems.push(`plan says ${plan.slice(3)} checks, ${oks.length + notOks.length} ran`);
if (oks.length + notOks.length === 0) problems.push('no checks ran');
if (notOks.length) problems.push(`${notOks.length} check(s) failed`);
if (opt.strict && skips.length) problems.push(`${skips.length} check(s) skipped, and --strict allows none`);

const uptimeOf = (mark) => Number(/LAB-[A-Z-]+ (?:rc=\d+ )?([\d.]+)/.exec(marks[mark]?.line ?? '')?.[1]);
const figures = {
  kernel: kver,
  accel,
  topology: opt.topology,
  setupSec: Number(setupSec),
  guestUptimeAtInitSec: uptimeOf('LAB-GUEST-UP'),
  guestUptimeAtTestStartSec: uptimeOf('LAB-GUEST-TEST-START'),
  guestUptimeAtTestEndSec: uptimeOf('LAB-GUEST-TEST-END'),
  qemuWallSec: Number(secs(bootWall)),
  totalWallSec: Number(secs(Date.now() - t0)),
  checks: oks.length + notOks.length,
  failed: notOks.length,
  skipped: skips.length,
};
writeFileSync(join(runDir, 'figures.json'), `${JSON.stringify(figures, null, 2)}\n`);

for (const l of notOks) {
  const i = lines.indexOf(l);
  process.stderr.write(`  ${l}\n`);
  for (let j = i + 1; j < lines.length && lines[j].startsWith('#'); j++) process.stderr.write(`    ${lines[j]}\n`);
}
for (const l of skips) process.stderr.write(`  ${l}\n`);
const testsSec = figures.guestUptimeAtTestEndSec - figures.guestUptimeAtTestStartSec;
const fmt = (n) => (Number.isFinite(n) ? n.toFixed(1) : '-');
log(
  `${oks.length + notOks.length} checks, ${notOks.length} failed, ${skips.length} skipped; set-up ${setupSec} s, ` +
    `guest init at ${fmt(figures.guestUptimeAtInitSec)} s (guest uptime), tests ${fmt(testsSec)} s, qemu ${secs(bootWall)} s, total ${figures.totalWallSec} s`,
);
if (problems.length) {
  for (const p of problems) log(`FAIL: ${p}`);
  log(`logs: ${relative(repo, runDir)}/{console.log,share/test.log,share/results.tap,share/dmesg.txt}`);
  process.exit(1);
}
log('PASS');
