// Bundles the operator CLI into one ESM file so a call loads one file; only rarely used parts are
// split into chunks loaded by import() when needed.
// The hook and xmlfix are built differently (libvirt starts a fresh node for each prepare/release,
// and xmlfix is one short call in a pipeline, so start-up is most of their cost): each is a
// CommonJS script (no ESM loader, no module facades) run by a small loader (dist/hook.cjs,
// dist/xmlfix.cjs) with V8's compiled code cached at build time (src/start/code-cache-load.ts).
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
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: false, minifySyntax: true, legalComments: 'none', logLevel: 'warning' };
await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      ...common,
      entryPoints: { [name]: entry },
      outdir: next,
      chunkNames: `chunks/${name}-[name]-[hash]`,
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
  build({ ...common, entryPoints: ['src/host/ip-command.ts'], outfile: `${next}/hook-ip.cjs`, format: 'cjs', minify: true }),
  build({ ...common, stdin: { contents: "export { execa } from 'execa';", resolveDir: '.' }, outfile: `${next}/execa.cjs`, format: 'cjs', minify: true }),
]);

/** The loader of one program (dist/NAME.cjs) and its V8 code cache, from a training run (scripts/code-cache.mjs). */
async function cachedStart(name) {
  const bundleHash = createHash('sha256').update(readFileSync(`${next}/${name}-main.cjs`)).digest('hex').slice(0, 16);
  const cacheName = `${name}-main.${bundleHash}.v8cache`;
  await build({
    ...common,
    entryPoints: ['src/start/code-cache-load.ts'],
    outfile: `${next}/${name}.cjs`,
    format: 'cjs',
    define: { START_BUNDLE: JSON.stringify(`${name}-main.cjs`), START_CODE_CACHE: JSON.stringify(cacheName) },
    ...(name === 'xmlfix' ? { banner: { js: '#!/usr/bin/env node' } } : {}),
  });
  // a build where it cannot be made still works (compiled at each start)
  const train = spawnSync(process.execPath, [join('scripts', 'code-cache.mjs'), next, name, cacheName], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  if (train.status !== 0) console.warn(`build: no code cache for ${name} (its start-up stays slower): ${(train.stderr || train.stdout).trim().split('\n').pop()}`);
}
// dist/hook.js: the door older entries and scripts call; the hook itself is hook.cjs
writeFileSync(
  `${next}/hook.js`,
  "// passthru's libvirt hook (prepare, start, release): the program is dist/hook.cjs, which `passthru install`\n// writes into hooks/qemu; this ESM door to it stays for callers of dist/hook.js.\nimport { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./hook.cjs');\n",
);
// dist/xmlfix.js: the package's bin. The package is "type": "module", so a .js file starts node's
// ESM loader (~20M instructions, a quarter of `node -e 0`); dist/xmlfix.cjs is the same program
// without it, for callers that want the fastest start.
writeFileSync(
  `${next}/xmlfix.js`,
  "#!/usr/bin/env node\n// xmlfix: the program is dist/xmlfix.cjs (started with a V8 code cache); this is the package's bin.\nimport { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./xmlfix.cjs');\n",
  { mode: 0o755 },
);
// the passthru CLI builds the simulated host the hook's training runs on
await cachedStart('hook');
await cachedStart('xmlfix');

const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch {
  /* first build */
}
renameSync(next, 'dist');
rmSync(old, { recursive: true, force: true });
