// dist/hook.cjs and dist/xmlfix.js: run a program bundle (dist/hook-main.cjs, dist/xmlfix-main.cjs)
// with V8's compiled code for it from a cache written at build time (scripts/code-cache.mjs).
// Measured with and without (interleaved, 25 runs): a hook prepare on the real-host path takes 43
// instead of 52 ms CPU, an xmlfix edit 34 instead of 41; libvirt starts a fresh node for every call.
// Node 20 has no module compile cache; vm.Script takes `cachedData`. When V8 rejects the cache (a
// different node or V8 flags) or it is missing, V8 compiles from source: same program, only slower.
// The bundle is built wrapped in the CommonJS function wrapper, so it is compiled here as it is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';

/** The program's bundle and its cache file, baked in by the build (the cache's name holds the bundle's hash). */
declare const START_BUNDLE: string;
declare const START_CODE_CACHE: string;

const bundle = join(__dirname, START_BUNDLE);
let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(join(__dirname, START_CODE_CACHE));
} catch {
  // no cache (a build that could not make one): compile from source
}
const script = new Script(readFileSync(bundle, 'utf8'), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
const run = script.runInThisContext() as (
  exports: object,
  req: NodeRequire,
  module: object,
  filename: string,
  dirname: string,
) => void;
const mod = { exports: {} };
run(mod.exports, require, mod, bundle, __dirname);
