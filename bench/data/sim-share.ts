// The hook's node side (as dist/hook.cjs runs it, lock held) with the simulator's own time counted:
// every SimKernel call (loading the file, each read and write with its save) is timed, and the sum
// is printed on stderr as `sim-ms N` when the process exits. Bundled by bench/hook.bench.mjs only.
import { readFileSync } from 'node:fs';
import { runHook } from '../../src/hook/run.js';
import { SimKernel } from '../../src/sim/kernel.js';

let simNs = 0n;
const timed = <A extends unknown[], R>(f: (...a: A) => R) =>
  function (this: unknown, ...args: A): R {
    const t0 = process.hrtime.bigint();
    try {
      return f.apply(this, args); // the simulator's work is synchronous: an async method returns once it is done
    } finally {
      simNs += process.hrtime.bigint() - t0;
    }
  };
const proto = SimKernel.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const name of ['read', 'list', 'readlink', 'exists', 'write', 'listVfs', 'setVf'])
  proto[name] = timed(proto[name]!);
SimKernel.load = timed(SimKernel.load);

process.on('exit', () => process.stderr.write(`sim-ms ${(Number(simNs) / 1e6).toFixed(2)}\n`));
void runHook(process.argv.slice(2), process.env, {
  readStdin: () => readFileSync(0),
  stderr: (line) => process.stderr.write(`${line}\n`),
  hookJs: process.argv[1]!,
}).then((code) => process.exit(code));
