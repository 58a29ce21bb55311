// Where the built programs and fixtures are, for tests that run them as real processes.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = {
  hook: join(repoRoot, 'dist', 'hook.js'),
  passthru: join(repoRoot, 'dist', 'passthru.js'),
  xmlfix: join(repoRoot, 'dist', 'xmlfix.js'),
};
export const hookTemplate = join(repoRoot, 'hooks', 'qemu');
export const hostFixture = (name: string): string => join(repoRoot, 'fixtures', 'hosts', `${name}.json`);
export const nodeBin = process.execPath;

export function have(path: string): boolean {
  return existsSync(path);
}
