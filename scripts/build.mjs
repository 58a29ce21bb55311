// Bundles each CLI into one ESM file so a call loads one file: start-up time matters for a pipeline
// tool and a libvirt hook. Each entry is built on its own, so the code it always needs sits in its
// own file instead of chunks shared with the other entries; only rarely used parts (validation,
// diff, host lookups) are split into chunks loaded by import() when needed.
import { build } from 'esbuild';
import { renameSync, rmSync } from 'node:fs';

(await import('../src/config/generate-validators.mjs')).writeValidators(); // schemas -> standalone validators

const entries = {
  xmlfix: 'src/cli/xmlfix.ts',
  passthru: 'src/cli/passthru.ts',
  hook: 'src/hook/main.ts',
};

// Build beside dist/ and swap it in, so a stale chunk never survives and a concurrent reader sees
// either the old tree or the new one.
const next = `dist.next-${process.pid}`;
await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      entryPoints: { [name]: entry },
      outdir: next,
      chunkNames: `chunks/${name}-[name]-[hash]`,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: false,
      minifySyntax: true,
      legalComments: 'none',
      logLevel: 'warning',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    }),
  ),
);
const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch {
  /* first build */
}
renameSync(next, 'dist');
rmSync(old, { recursive: true, force: true });
