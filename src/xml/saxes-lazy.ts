// saxes, loaded when first needed. Plain libvirt XML is read by the simple scanner
// (src/xml/simple-scan.ts), so most hook and xmlfix runs never parse with saxes, yet a static
// import evaluated saxes and xmlchars (and deserialized their code) on every start: ~1.5M
// instructions of a hook run. require(), not import(): the parsers are synchronous; esbuild
// bundles the call in place (it stays a require of the bundled module, run on the first call).
import type * as Saxes from 'saxes';

let saxes: typeof Saxes | undefined;

/** saxes' parser class, loading saxes on the first call. */
export function saxesParser(): typeof Saxes.SaxesParser {
  saxes ??= require('saxes') as typeof Saxes;
  return saxes.SaxesParser;
}
