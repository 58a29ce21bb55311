// dist/xmlfix.js (the bin) runs the xmlfix bundle with V8's code cache from the build, as a
// CommonJS script (dist/package.json); a missing or foreign cache must change nothing but speed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cacheAccepted, cacheFile } from '../support/code-cache.js';
import { distDir, nodeBin } from '../support/paths.js';
import { applyEdits } from '../../src/cli/xmlfix/apply.js';

const fixture = resolve('fixtures/xml/domain-q35.xml');
let root: string;
let dir: string; // root/dist
const run = (script: string, ...args: string[]) => {
  const r = spawnSync(nodeBin, [join(dir, script), fixture, '--add-hostdev', '01:00.0', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
let expected: ReturnType<typeof run>;

beforeAll(() => {
  // as in the package: a "type": "module" package.json above dist/, and in dist/ the bin (the
  // loader), its bundle and cache, the files it requires when first used, and the package.json
  // that makes dist/ a CommonJS scope
  root = mkdtempSync(join(tmpdir(), 'passthru-xmlfix-cache-'));
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  dir = join(root, 'dist');
  mkdirSync(dir);
  for (const n of readdirSync(distDir))
    if (/^xmlfix|^execa\.cjs$|^hook-ip\.cjs$|^package\.json$/.test(n)) copyFileSync(join(distDir, n), join(dir, n));
  expected = run('xmlfix.js');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the xmlfix code cache', () => {
  it('is one the node that built it accepts, for the bundle beside it', () => {
    expect(cacheAccepted(dir, 'xmlfix')).toBe(true);
  });

  it('runs the edit with the cache', async () => {
    expect(expected.status).toBe(0);
    expect(expected.stderr).toBe('');
    const noHost = { all: false, host: () => Promise.reject(new Error('no host in this test')) };
    expect(expected.stdout).toBe(
      await applyEdits(readFileSync(fixture, 'utf8'), [{ flag: 'add-hostdev', value: '01:00.0' }], noHost),
    );
    expect(expected.stdout).toContain("<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>");
  });

  it('loads the parts a plain edit leaves out (diff, check) when asked', () => {
    const diff = run('xmlfix.js', '--diff');
    expect([diff.status, diff.stderr]).toEqual([0, '']);
    expect(diff.stdout).toMatch(/^--- .*\n\+\+\+ .*\n@@ /);
    expect(diff.stdout).toContain("+        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>");
    expect(run('xmlfix.js', '--check').status).toBe(1);
  });

  it('runs the same when V8 rejects the cache, or when it is missing', () => {
    const name = cacheFile(dir, 'xmlfix');
    writeFileSync(join(dir, name), Buffer.alloc(4096, 7)); // not a V8 cache at all
    expect(run('xmlfix.js')).toEqual(expected);
    rmSync(join(dir, name));
    expect(run('xmlfix.js')).toEqual(expected);
  });
});
