// The hook program (bundled as dist/hook-main.cjs, started by dist/hook.cjs): what hooks/qemu runs
// for the operations we act on. Exits explicitly so that no timed-out host write left pending can
// keep the process (and libvirt, waiting on it) alive. That covers work left in JavaScript, not a
// write or read stuck in the kernel: its thread-pool thread sleeps there, and Node's exit waits for
// it (see src/host/node-sysfs.ts); the report is out first. No top-level await and no import.meta:
// this is bundled as a CommonJS script so that its compiled code can be cached (see src/start/code-cache-load.ts).
import { readFileSync } from 'node:fs';
import { runHook } from './run.js';

void runHook(process.argv.slice(2), process.env, {
  readStdin: () => readFileSync(0),
  stderr: (line) => process.stderr.write(`${line}\n`),
  stdout: (text) => process.stdout.write(text),
  // the script node was started with (dist/hook.cjs): re-run under the lock
  hookJs: process.argv[1]!,
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`passthru: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1); // as an uncaught error would; runHook itself catches everything it expects
  },
);
