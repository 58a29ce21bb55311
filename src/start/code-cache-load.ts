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
/**
 * The cache files, baked in by the build, by the value of argv[START_CACHE_ARG] ('' for any other
 * value, and always when START_CACHE_ARG is 0): the hook has one per operation (argv[3]), so a run
 * deserializes only the code its operation runs. Each name holds the bundle's hash, so a cache can
 * never be paired with another build's bundle.
 */
declare const START_CODE_CACHES: Record<string, string>;
declare const START_CACHE_ARG: number;

const bundle = join(__dirname, START_BUNDLE);
let cachedData: Buffer | undefined;
try {
  const key = START_CACHE_ARG > 0 ? (process.argv[START_CACHE_ARG] ?? '') : '';
  cachedData = readFileSync(
    join(__dirname, Object.hasOwn(START_CODE_CACHES, key) ? START_CODE_CACHES[key]! : START_CODE_CACHES['']!),
  );
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
