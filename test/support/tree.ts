// A fingerprint of a directory tree (names, types, sizes, contents, link targets, modes), not
// following symlinks: taken before and after a run, two equal fingerprints mean nothing in the tree
// was created, removed or changed. Used on a materialized host and on the directory around it.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export function fingerprint(dir: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    const abs = rel ? join(dir, rel) : dir;
    let st;
    try {
      st = lstatSync(abs);
    } catch {
      return;
    }
    if (st.isSymbolicLink()) out.set(rel, `link ${readlinkSync(abs)}`);
    else if (st.isDirectory()) {
      out.set(rel, `dir ${st.mode.toString(8)}`);
      for (const n of readdirSync(abs).sort()) {
        const r = rel ? `${rel}/${n}` : n;
        if (!skip(r)) walk(r);
      }
    } else if (st.isFile()) {
      out.set(
        rel,
        `file ${st.mode.toString(8)} ${st.size} ${createHash('sha1').update(readFileSync(abs)).digest('hex')}`,
      );
    } else out.set(rel, `other ${st.mode.toString(8)}`);
  };
  walk('');
  return out;
}

/** The entries that differ between two fingerprints, as readable lines. */
export function treeDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(b.has(k) ? `changed ${k}` : `removed ${k}`);
  for (const k of b.keys()) if (!a.has(k)) out.push(`created ${k}`);
  return out.sort();
}
