// Bundles the operator CLI into one ESM file (dist/passthru.mjs) so a call loads one file; only
// rarely used parts are split into chunks loaded by import() when needed.
// The hook and xmlfix are built differently (libvirt starts a fresh node for each prepare/release,
// and xmlfix is one short call in a pipeline, so start-up is most of their cost): each is a
// CommonJS script (no ESM loader, no module facades) run by a small loader (dist/hook.cjs,
// dist/xmlfix.js) with V8's compiled code cached at build time (src/start/code-cache-load.ts).
// dist/ is a CommonJS package scope (dist/package.json): the package is "type": "module", and a .js
// file there would start node's ESM loader (~20M instructions, a quarter of `node -e 0`) before a
// line of xmlfix runs. The ESM bundles are .mjs; dist/passthru.js is the CLI's bin that imports its bundle.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

(await import('../src/config/generate-validators.mjs')).writeValidators(); // schemas -> standalone validators

const entries = {
  passthru: 'src/cli/passthru.ts',
};

// Build beside dist/ and swap it in, so a stale chunk never survives and a concurrent reader sees
// either the old tree or the new one.
const next = `dist.next-${process.pid}`;
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
};
await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      ...common,
      entryPoints: { [name]: entry },
      outdir: next,
      chunkNames: `chunks/${name}-[name]-[hash]`,
      outExtension: { '.js': '.mjs' },
      splitting: true,
      format: 'esm',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    }),
  ),
);

// ---- the hook and xmlfix: CommonJS scripts started with a V8 code cache -----------------------
// `ip` and xmllint's runner (execa, ~120 KB) serve only the real host and --validate: their own
// files, required when first used.
const apart = (filter, file) => ({
  name: `apart-${file}`,
  setup(b) {
    b.onResolve({ filter }, () => ({ path: `./${file}`, external: true }));
  },
});
const ipCommandApart = apart(/\/ip-command\.js$/, 'hook-ip.cjs');
const execaApart = apart(/^execa$/, 'execa.cjs');
const cjsProgram = (entry, name, plugins) =>
  build({
    ...common,
    entryPoints: [entry],
    outfile: `${next}/${name}-main.cjs`,
    format: 'cjs',
    // no whitespace: less to read on each start. Names are kept (not minified): measured, renaming
    // saves less than keeping the class names (keepNames) costs at each start
    minifyWhitespace: true,
    plugins,
    // import() becomes require(): a vm.Script has no module loader behind it
    supported: { 'dynamic-import': false },
    // the CommonJS function wrapper, spelled out so the loader compiles the file as it is
    banner: { js: '(function (exports, require, module, __filename, __dirname) {' },
    footer: { js: '\n})' },
  });
await Promise.all([
  cjsProgram('src/hook/main.ts', 'hook', [ipCommandApart]),
  cjsProgram('src/cli/xmlfix.ts', 'xmlfix', [ipCommandApart, execaApart]),
  build({
    ...common,
    entryPoints: ['src/host/ip-command.ts'],
    outfile: `${next}/hook-ip.cjs`,
    format: 'cjs',
    minify: true,
  }),
  build({
    ...common,
    stdin: { contents: "export { execa } from 'execa';", resolveDir: '.' },
    outfile: `${next}/execa.cjs`,
    format: 'cjs',
    minify: true,
  }),
]);

/** The loader of one program (dist/hook.cjs, which hooks/qemu runs; dist/xmlfix.js, the bin) and its V8 code cache, from training runs (scripts/code-cache.mjs). */
async function cachedStart(name, loader) {
  const bundleHash = createHash('sha256')
    .update(readFileSync(`${next}/${name}-main.cjs`))
    .digest('hex')
    .slice(0, 16);
  const cache = `${name}-main.${bundleHash}.v8cache`;
  await build({
    ...common,
    entryPoints: ['src/start/code-cache-load.ts'],
    outfile: `${next}/${loader}`,
    format: 'cjs',
    define: { START_BUNDLE: JSON.stringify(`${name}-main.cjs`), START_CODE_CACHE: JSON.stringify(cache) },
    ...(loader.endsWith('.js') ? { banner: { js: '#!/usr/bin/env node' } } : {}),
  });
  // a build where it cannot be made still works (compiled at each start)
  const train = spawnSync(process.execPath, [join('scripts', 'code-cache.mjs'), next, name, cache], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  if (train.status !== 0)
    console.warn(
      `build: no code cache for ${name} (its start-up stays slower): ${(train.stderr || train.stdout).trim().split('\n').pop()}`,
    );
}
writeFileSync(
  `${next}/package.json`,
  `${JSON.stringify({ '//': 'CommonJS scope for the bins and the hook (see scripts/build.mjs); the ESM bundles are .mjs', type: 'commonjs' })}\n`,
);
// dist/passthru.js: the operator CLI's bin, a door to its ESM bundle
const passthruDoor = [
  '#!/usr/bin/env node',
  '// passthru, the operator CLI: the program is the ESM bundle dist/passthru.mjs.',
  "import('./passthru.mjs');",
  '',
].join('\n');
writeFileSync(`${next}/passthru.js`, passthruDoor, { mode: 0o755 });
// the passthru CLI builds the simulated host the hook's training runs on
await cachedStart('hook', 'hook.cjs');
await cachedStart('xmlfix', 'xmlfix.js');

const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch {
  /* first build */
}
renameSync(next, 'dist');
rmSync(old, { recursive: true, force: true });
