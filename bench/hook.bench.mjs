// The libvirt hook's cost, beside its peers, in one run:
//  1. hooks/qemu on a domain without passthrough (libvirt calls it 5 times per start/stop for every
//     domain) vs `sh -c 'cat >/dev/null'`, the least a hook that reads its stdin can do. Target <= 1.5x.
//  2. prepare, and separately release, of a domain with 4 PCI hostdevs, 1 mdev and 2 VFs (settings
//     and a VF count) on the simulated host, through hooks/qemu as libvirt runs it, vs `node -e 0`,
//     the least any node program costs. Target <= 1.3x.
// Runs are interleaved (baseline, prepare, release, ...) so load from other processes hits all alike.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    input: opts.input ?? '',
    env: opts.env ?? minimalEnv,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

try {
  // ---- 1. the fast path ------------------------------------------------------------------------
  const plainXml = readFileSync(join(repo, 'bench', 'data', 'plain-domain.xml'), 'utf8');
  const fast = entry({ PASSTHRU_STATE_DIR: join(work, 'state') });
  const runs = 40;
  const base = timeCommand(['sh', '-c', 'cat >/dev/null'], { runs, input: plainXml, env: minimalEnv });
  for (const [op, sub] of [
    ['prepare', 'begin'],
    ['release', 'end'],
    ['started', 'begin'],
  ]) {
    const ms = timeCommand([fast, 'plain', op, sub, '-'], { runs, input: plainXml, env: minimalEnv });
    if (op === 'prepare') row(`sh -c 'cat >/dev/null' (baseline)`, base);
    row(`hooks/qemu ${op} ${sub}, no passthrough`, ms, base);
  }

  // ---- 2. prepare / release on the simulator ---------------------------------------------------
  const { setup } = await import('./data/hook-bench-setup.mjs');
  const s = await setup(work);
  const simEntry = entry({ PASSTHRU_SIM: s.simFile });
  const xml = s.domainXml;
  const N = 15;
  const node0 = [];
  const prep = [];
  const rel = [];
  // the node side alone, as hooks/qemu starts it once it holds the lock: what the sh entry adds (tr,
  // flock, a pipe) is the difference to the row above
  const direct = [];
  const directEnv = { ...minimalEnv, PASSTHRU_SIM: s.simFile, PASSTHRU_LOCKED: '1' };
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
    const d = timed([process.execPath, hookJs, s.name, 'prepare', 'begin', '-'], { input: xml, env: directEnv });
    timed([process.execPath, hookJs, s.name, 'release', 'end', '-'], { input: xml, env: directEnv });
    if (i >= 2) {
      cpu.node0 += c1 - c0;
      cpu.prep += c2 - c1;
      cpu.rel += c3 - c2;
      node0.push(a);
      prep.push(p);
      rel.push(r);
      direct.push(d);
    }
  }
  if (!s.isPristine())
    throw new Error('the simulated host did not return to its start state: the bench measured a broken cycle');
  const b = median(node0);
  row('node -e 0 (baseline)', b);
  row(`prepare: ${s.summary}`, median(prep), b);
  row('release of the same', median(rel), b);
  row('prepare, node side only (dist/hook.cjs, lock held)', median(direct), b);
  // wall time swings with other load on the machine; CPU time (children's user+sys, mean per run) does less
  const cb = cpu.node0 / N;
  console.log(
    `CPU per run (mean): node -e 0 ${cb.toFixed(1)} ms, prepare ${(cpu.prep / N).toFixed(1)} ms (${(cpu.prep / N / cb).toFixed(2)}x), release ${(cpu.rel / N).toFixed(1)} ms (${(cpu.rel / N / cb).toFixed(2)}x)`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
