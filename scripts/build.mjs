// Bundles each CLI into one ESM file so a call loads one file: start-up time matters for a pipeline
// tool and a libvirt hook. Each entry is built on its own, so the code it always needs sits in its
// own file instead of chunks shared with the other entries; only rarely used parts (validation,
// diff, host lookups) are split into chunks loaded by import() when needed.
// The hook is built differently (libvirt starts a fresh node for each prepare/release, so its
// start-up is most of its cost): a CommonJS script (no ESM loader, no module facades) run by the
// small dist/hook.cjs with V8's compiled code cached at build time (src/hook/load.ts).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

(await import('../src/config/generate-validators.mjs')).writeValidators(); // schemas -> standalone validators

const entries = {
  xmlfix: 'src/cli/xmlfix.ts',
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

// ---- the hook ----------------------------------------------------------------------------------
// `ip` (through execa, ~120 KB) serves only the real host: its own file, required when first used.
const ipCommandApart = {
  name: 'ip-command-apart',
  setup(b) {
    b.onResolve({ filter: /\/ip-command\.js$/ }, () => ({ path: './hook-ip.cjs', external: true }));
  },
};
await Promise.all([
  build({
    ...common,
    entryPoints: ['src/hook/main.ts'],
    outfile: `${next}/hook-main.cjs`,
    format: 'cjs',
    // no whitespace: less to read on each start. Names are kept (not minified): measured, renaming
    // saves less than keeping the class names (keepNames) costs at each start
    minifyWhitespace: true,
    plugins: [ipCommandApart],
    // import() becomes require(): a vm.Script has no module loader behind it
    supported: { 'dynamic-import': false },
    // the CommonJS function wrapper, spelled out so dist/hook.cjs compiles the file as it is
    banner: { js: '(function (exports, require, module, __filename, __dirname) {' },
    footer: { js: '\n})' },
  }),
  build({ ...common, entryPoints: ['src/host/ip-command.ts'], outfile: `${next}/hook-ip.cjs`, format: 'cjs', minify: true }),
]);
const bundleHash = createHash('sha256').update(readFileSync(`${next}/hook-main.cjs`)).digest('hex').slice(0, 16);
const cacheName = `hook-main.${bundleHash}.v8cache`;
await build({ ...common, entryPoints: ['src/hook/load.ts'], outfile: `${next}/hook.cjs`, format: 'cjs', define: { HOOK_CODE_CACHE: JSON.stringify(cacheName) } });
// dist/hook.js: the door older entries and scripts call; the hook itself is hook.cjs
writeFileSync(
  `${next}/hook.js`,
  "// passthru's libvirt hook (prepare, start, release): the program is dist/hook.cjs, which `passthru install`\n// writes into hooks/qemu; this ESM door to it stays for callers of dist/hook.js.\nimport { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./hook.cjs');\n",
);
// V8's code for the functions a prepare and a release run, from a training run on a simulated host;
// a build where it cannot be made still works (compiled at each start)
const train = spawnSync(process.execPath, [join('scripts', 'hook-code-cache.mjs'), next, cacheName], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
if (train.status !== 0) console.warn(`build: no code cache for the hook (its start-up stays slower): ${(train.stderr || train.stdout).trim().split('\n').pop()}`);

const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch {
  /* first build */
}
renameSync(next, 'dist');
rmSync(old, { recursive: true, force: true });
