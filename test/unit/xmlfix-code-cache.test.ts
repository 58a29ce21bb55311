// dist/xmlfix.cjs runs the xmlfix bundle with V8's code cache from the build; a missing or foreign
// cache must change nothing but speed, and dist/xmlfix.js (the bin) must reach the same program.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Script } from 'node:vm';
import { distDir, nodeBin } from '../support/paths.js';
import { applyEdits } from '../../src/cli/xmlfix/apply.js';

const fixture = resolve('fixtures/xml/domain-q35.xml');
let dir: string;
const cacheName = (): string => {
  const names = readdirSync(dir).filter((n) => /^xmlfix-main\..*\.v8cache$/.test(n));
  expect(names).toHaveLength(1);
  return names[0]!;
};
const run = (script: string, ...args: string[]) => {
  const r = spawnSync(nodeBin, [join(dir, script), fixture, '--add-hostdev', '01:00.0', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
let expected: ReturnType<typeof run>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'passthru-xmlfix-cache-'));
  // the bin, its loader, bundle and cache, and the files it requires when first used
  for (const n of readdirSync(distDir)) if (/^xmlfix|^execa\.cjs$|^hook-ip\.cjs$|^package\.json$/.test(n)) copyFileSync(join(distDir, n), join(dir, n));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n'); // as the package's own, for dist/xmlfix.js
  expected = run('xmlfix.cjs');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the xmlfix code cache', () => {
  it('is one the node that built it accepts, for the bundle beside it', () => {
    const bundle = join(dir, 'xmlfix-main.cjs');
    const s = new Script(readFileSync(bundle, 'utf8'), { filename: bundle, cachedData: readFileSync(join(dir, cacheName())) });
    expect(s.cachedDataRejected).toBe(false);
  });

  it('runs the edit with the cache, through dist/xmlfix.js too', async () => {
    expect(expected.status).toBe(0);
    expect(expected.stderr).toBe('');
    const noHost = { all: false, host: () => Promise.reject(new Error('no host in this test')) };
    expect(expected.stdout).toBe(await applyEdits(readFileSync(fixture, 'utf8'), [{ flag: 'add-hostdev', value: '01:00.0' }], noHost));
    expect(expected.stdout).toContain("<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>");
    expect(run('xmlfix.js')).toEqual(expected);
  });

  it('loads the parts a plain edit leaves out (diff, check) when asked', () => {
    const diff = run('xmlfix.cjs', '--diff');
    expect([diff.status, diff.stderr]).toEqual([0, '']);
    expect(diff.stdout).toMatch(/^--- .*\n\+\+\+ .*\n@@ /);
    expect(diff.stdout).toContain("+        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>");
    expect(run('xmlfix.cjs', '--check').status).toBe(1);
  });

  it('runs the same when V8 rejects the cache, or when it is missing', () => {
    const name = cacheName();
    writeFileSync(join(dir, name), Buffer.alloc(4096, 7)); // not a V8 cache at all
    expect(run('xmlfix.cjs')).toEqual(expected);
    expect(run('xmlfix.js')).toEqual(expected);
    rmSync(join(dir, name));
    expect(run('xmlfix.cjs')).toEqual(expected);
  });
});
