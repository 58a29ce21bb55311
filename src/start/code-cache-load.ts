// dist/hook.cjs and dist/xmlfix.js: start a program bundle (dist/hook-main.cjs, dist/xmlfix-main.cjs)
// with V8's compiled code for it taken from a cache written at build time (scripts/code-cache.mjs),
// so a run does not parse and compile its bundle again: libvirt starts a fresh node for every
// prepare and release, and xmlfix is one short call in a pipeline.
// Node 20 has no module compile cache; vm.Script takes `cachedData`. When V8 rejects the cache (a
// different node or V8 flags) or it is missing, V8 compiles from source: same program, only slower.
// The bundle is built wrapped in the CommonJS function wrapper, so it is compiled here as it is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';

/** The program's bundle, baked in by the build (one loader file per program). */
declare const START_BUNDLE: string;
/** The cache's file name, baked in by the build: it names the bundle's hash, so a cache can never be paired with another build's bundle. */
declare const START_CODE_CACHE: string;

const bundle = join(__dirname, START_BUNDLE);
let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(join(__dirname, START_CODE_CACHE));
} catch {
  // no cache (a build that could not make one): compile from source
}
const script = new Script(readFileSync(bundle, 'utf8'), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
const run = script.runInThisContext() as (exports: object, req: NodeRequire, module: object, filename: string, dirname: string) => void;
const mod = { exports: {} };
run(mod.exports, require, mod, bundle, __dirname);
