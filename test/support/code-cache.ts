// The V8 code cache beside a program bundle in a copy of dist/ (src/start/code-cache-load.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';

/** The one cache file of `program` ('hook', 'xmlfix') in `dir`; throws unless there is exactly one. */
export function cacheFile(dir: string, program: string): string {
  const names = readdirSync(dir).filter((n) => new RegExp(`^${program}-main\\.[0-9a-f]+\\.v8cache$`).test(n));
  if (names.length !== 1) throw new Error(`expected one ${program} code cache in ${dir}, found ${names.join(', ')}`);
  return names[0]!;
}

/** Whether this node accepts the cache for the bundle beside it. */
export function cacheAccepted(dir: string, program: string): boolean {
  const bundle = join(dir, `${program}-main.cjs`);
  const s = new Script(readFileSync(bundle, 'utf8'), {
    filename: bundle,
    cachedData: readFileSync(join(dir, cacheFile(dir, program))),
  });
  return !s.cachedDataRejected;
}
