// The libvirt hook's cost, beside its peers, in one run (budgets: docs/performance.md):
//  1. hooks/qemu on a domain without passthrough (libvirt calls it 5 times per start/stop for every
//     domain) vs `sh -c 'cat >/dev/null'`, the least a hook that reads its stdin can do. Budget <= 1.5x.
//  2. prepare, and separately release, of a domain with 4 PCI hostdevs, 1 mdev and 2 VFs (settings
//     and a VF count) on the simulated host, through hooks/qemu as libvirt runs it, vs `node -e 0`,
//     the least any node program costs. Budget <= 2x. The simulator's own share (its file load,
//     reads and writes with their saves, timed inside the hook's process) is printed beside it.
//  3. the same prepare on the real-host code path (NodeSysfs on a tree materialized from the
//     simulated host as prepare leaves it, so there is nothing to change; without the VF settings,
//     which need a real PF for `ip`): reading, planning and the journal, with no simulator.
// Runs are interleaved (baseline, prepare, release, ...) so load from other processes hits all alike.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { row, timeCommand } from './lib.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const hookJs = join(repo, 'dist', 'hook.cjs'); // what `passthru install` writes into the entry
// The journal's home on a real host is /run/passthru, a tmpfs: run the simulated host and its state
// dir on tmpfs too (/dev/shm) so the figures are not those of this machine's shared disk.
const work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'passthru-bench-hook-'));
const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

function entry(env) {
  const template = readFileSync(join(repo, 'hooks', 'qemu'), 'utf8');
  const envLines = Object.entries(env)
    .map(([k, v]) => `${k}=${q(v)}\nexport ${k}`)
    .join('\n');
  const file = join(work, `qemu-${Object.keys(env).length}`);
  writeFileSync(
    file,
    template
      .replace('@ENV@', () => envLines || ':')
      .replace('@NODE@', () => q(process.execPath))
      .replace('@HOOK_JS@', () => q(hookJs)),
  );
  chmodSync(file, 0o755);
  return file;
}

const minimalEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** CPU time (user+sys, ms) of this process's waited-for children, from /proc/self/stat (Linux). */
function childCpuMs() {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return ((Number(f[13]) + Number(f[14])) * 1000) / 100; // cutime, cstime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}
const cpu = { node0: 0, prep: 0, rel: 0 };

function timed(argv, opts) {
  return run(argv, opts).ms;
}

function run(argv, opts) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    input: opts.input ?? '',
    env: opts.env ?? minimalEnv,
    stdio: ['pipe', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stderr: r.stderr };
}

const verdict = (ratio, budget) => `${ratio.toFixed(2)}x, budget ${budget}x: ${ratio <= budget ? 'holds' : 'EXCEEDED'}`;

try {
  // ---- 1. the fast path ------------------------------------------------------------------------
  const plainXml = readFileSync(join(repo, 'bench', 'data', 'plain-domain.xml'), 'utf8');
  const fast = entry({ PASSTHRU_STATE_DIR: join(work, 'state') });
  const runs = 40;
  const base = timeCommand(['sh', '-c', 'cat >/dev/null'], { runs, input: plainXml, env: minimalEnv });
  let worstFast = 0;
  for (const [op, sub] of [
    ['prepare', 'begin'],
    ['release', 'end'],
    ['started', 'begin'],
  ]) {
    const ms = timeCommand([fast, 'plain', op, sub, '-'], { runs, input: plainXml, env: minimalEnv });
    if (op === 'prepare') row(`sh -c 'cat >/dev/null' (baseline)`, base);
    row(`hooks/qemu ${op} ${sub}, no passthrough`, ms, base);
    worstFast = Math.max(worstFast, ms / base);
  }

  // ---- 2. prepare / release on the simulator; 3. prepare on the real-host path -------------------
  const { setup } = await import('./data/hook-bench-setup.mjs');
  const s = await setup(work);
  const simEntry = entry({ PASSTHRU_SIM: s.simFile });
  const xml = s.domainXml;
  // the node side with the simulator's calls timed (bench/data/sim-share.ts), as dist/hook.cjs runs it
  const shareJs = join(work, 'sim-share.cjs');
  await build({
    entryPoints: [join(repo, 'bench', 'data', 'sim-share.ts')],
    outfile: shareJs,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  const directEnv = { ...minimalEnv, PASSTHRU_SIM: s.simFile, PASSTHRU_LOCKED: '1' };
  // the real-host path: the host as prepare leaves it, read by NodeSysfs
  s.reset();
  timed([simEntry, s.name, 'prepare', 'begin', '-'], { input: xml });
  const tree = join(work, 'tree');
  run([process.execPath, join(repo, 'dist', 'passthru.js'), 'sim', 'materialize', '-o', tree], {
    env: { ...minimalEnv, PASSTHRU_SIM: s.simFile },
  });
  timed([simEntry, s.name, 'release', 'end', '-'], { input: xml });
  const realState = join(work, 'real-state');
  const realEntry = entry({ PASSTHRU_ROOT: tree, PASSTHRU_STATE_DIR: realState });
  const realXml = xml.replace(/ *<passthru:(pf|vf) [^\n]*\n/g, '');
  const N = 15;
  const t = { node0: [], prep: [], rel: [], real: [], simShare: [], shareRun: [] };
  for (let i = 0; i < N + 2; i++) {
    const c0 = childCpuMs();
    const a = timed([process.execPath, '-e', '0'], {});
    // every cycle starts from the same file: the simulator's write log (test bookkeeping, not host
    // state) would otherwise grow and make each save slower than the last
    s.reset();
    const c1 = childCpuMs();
    const p = timed([simEntry, s.name, 'prepare', 'begin', '-'], { input: xml });
    const c2 = childCpuMs();
    const r = timed([simEntry, s.name, 'release', 'end', '-'], { input: xml });
    const c3 = childCpuMs();
    s.reset();
    const share = run([process.execPath, shareJs, s.name, 'prepare', 'begin', '-'], { input: xml, env: directEnv });
    timed([process.execPath, shareJs, s.name, 'release', 'end', '-'], { input: xml, env: directEnv });
    rmSync(realState, { recursive: true, force: true });
    const real = timed([realEntry, s.name, 'prepare', 'begin', '-'], { input: realXml });
    if (i >= 2) {
      cpu.node0 += c1 - c0;
      cpu.prep += c2 - c1;
      cpu.rel += c3 - c2;
      t.node0.push(a);
      t.prep.push(p);
      t.rel.push(r);
      t.real.push(real);
      t.simShare.push(Number(/sim-ms ([\d.]+)/.exec(share.stderr)?.[1] ?? Number.NaN));
    }
  }
  if (!s.isPristine())
    throw new Error('the simulated host did not return to its start state: the bench measured a broken cycle');
  const b = median(t.node0);
  const prep = median(t.prep);
  const simShare = median(t.simShare);
  row('node -e 0 (baseline)', b);
  row(`prepare on the simulator: ${s.summary}`, prep, b);
  row('  of which the simulator itself (its load, reads, writes)', simShare, b);
  row('  the hook without the simulator (prepare - its share)', prep - simShare, b);
  row('release of the same, on the simulator', median(t.rel), b);
  row('prepare on the real-host path (NodeSysfs, nothing to change)', median(t.real), b);
  // wall time swings with other load on the machine; CPU time (children's user+sys, mean per run) does less
  const cb = cpu.node0 / N;
  console.log(
    `CPU per run (mean): node -e 0 ${cb.toFixed(1)} ms, prepare ${(cpu.prep / N).toFixed(1)} ms (${(cpu.prep / N / cb).toFixed(2)}x), release ${(cpu.rel / N).toFixed(1)} ms (${(cpu.rel / N / cb).toFixed(2)}x)`,
  );
  console.log(`\nno-passthrough fast path (slowest op) vs sh -c 'cat >/dev/null': ${verdict(worstFast, 1.5)}`);
  console.log(`hook prepare without the simulator's share vs node -e 0: ${verdict((prep - simShare) / b, 2)}`);
  console.log(`hook prepare on the real-host path vs node -e 0: ${verdict(median(t.real) / b, 2)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
