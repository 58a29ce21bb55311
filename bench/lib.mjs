// Shared timing helpers for benchmarks: run a command N times, report the median wall time.
import { spawnSync } from 'node:child_process';

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
