// Shared timing helpers for benchmarks: run a command N times, report the median wall time.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Median wall time (ms) of `runs` executions of argv, after `warmup` unmeasured ones. */
export function timeCommand(argv, { runs = 20, warmup = 3, input, env } = {}) {
  const times = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { input, env: env ?? process.env, stdio: ['pipe', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (i >= warmup) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function row(name, ms, base) {
  const ratio = base ? `${(ms / base).toFixed(2)}x` : '';
  console.log(`${name.padEnd(58)} ${ms.toFixed(1).padStart(9)} ms  ${ratio}`);
}

/** Wall time (ms) of one run of argv; exit 0 or 1 only (1: `passthru list` marked a device). */
export function timed(argv, { input, env } = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { input, env: env ?? process.env, stdio: ['pipe', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** CPU time (user+sys, ms) of this process's waited-for children, from /proc/self/stat (Linux). */
export function childCpuMs() {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return ((Number(f[13]) + Number(f[14])) * 1000) / 100; // cutime, cstime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}
