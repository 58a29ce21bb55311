// dist/hook.js: what hooks/qemu runs for the operations we act on. Exits explicitly so that no
// timed-out host write left pending can keep the process (and libvirt, waiting on it) alive. That
// covers work left in JavaScript, not a write or read stuck in the kernel: its thread-pool thread
// sleeps there, and Node's exit waits for it (see src/host/node-sysfs.ts); the report is out first.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runHook } from './run.js';

const code = await runHook(process.argv.slice(2), process.env, {
  readStdin: () => readFileSync(0),
  stderr: (line) => process.stderr.write(`${line}\n`),
  hookJs: fileURLToPath(import.meta.url),
});
process.exit(code);
