// Where the built programs and fixtures are, for tests that run them as real processes.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The bundles under test: dist/, or a private copy (PASSTHRU_TEST_DIST) so a rebuild elsewhere cannot pull chunks from under a long run. */
export const distDir = process.env.PASSTHRU_TEST_DIST || join(repoRoot, 'dist');
export const dist = {
  /** What `passthru install` puts into hooks/qemu . */
  hook: join(distDir, 'hook.cjs'),
  passthru: join(distDir, 'passthru.js'),
  xmlfix: join(distDir, 'xmlfix.js'),
};
export const hookTemplate = join(repoRoot, 'hooks', 'qemu');
export const hostFixture = (name: string): string => join(repoRoot, 'fixtures', 'hosts', `${name}.json`);
export const nodeBin = process.execPath;

export function have(path: string): boolean {
  return existsSync(path);
}
