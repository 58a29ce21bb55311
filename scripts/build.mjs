// Bundles each CLI into one ESM file so a call loads (almost) one file: start-up time matters for a
// pipeline tool and a libvirt hook. Rarely used parts are split into lazily imported chunks.
import { build } from 'esbuild';

(await import('../src/config/generate-validators.mjs')).writeValidators(); // schemas -> standalone validators

await build({
  entryPoints: {
    xmlfix: 'src/cli/xmlfix.ts',
    passthru: 'src/cli/passthru.ts',
    hook: 'src/hook/main.ts',
  },
  outdir: 'dist',
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
});
