// dist/hook.cjs runs the hook bundle with V8's code cache from the build, one cache per operation
// (release has its own; prepare's serves every other); a missing or foreign cache must change
// nothing but speed, and dist/hook.js must still reach the same program.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Script } from 'node:vm';
import { distDir, nodeBin } from '../support/paths.js';

let dir: string;
const cacheNames = (): string[] => {
  const names = readdirSync(dir).filter((n) => n.endsWith('.v8cache'));
  expect(names.map((n) => n.replace(/^hook-main\.[0-9a-f]+\./, '')).sort()).toEqual([
    'prepare.v8cache',
    'release.v8cache',
  ]);
  return names;
};
const run = (script: string, op = 'started', sub = 'begin') =>
  spawnSync(nodeBin, [join(dir, script), 'dom', op, sub, '-'], {
    input: '',
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'passthru-code-cache-'));
  for (const n of readdirSync(distDir)) if (/^hook/.test(n)) copyFileSync(join(distDir, n), join(dir, n));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the hook code cache', () => {
  it('is one the node that built it accepts, for the bundle beside it, for each operation', () => {
    const bundle = join(dir, 'hook-main.cjs');
    for (const name of cacheNames()) {
      const s = new Script(readFileSync(bundle, 'utf8'), {
        filename: bundle,
        cachedData: readFileSync(join(dir, name)),
      });
      expect(s.cachedDataRejected, name).toBe(false);
    }
  });

  it('runs the hook with the cache, through dist/hook.js too', () => {
    for (const script of ['hook.cjs', 'hook.js']) {
      const r = run(script);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe("passthru: nothing to do for 'started begin'\n");
    }
  });

  it('runs the same when V8 rejects the cache, or when it is missing', () => {
    const names = cacheNames();
    const expectNothingToDo = (op: string, sub: string) => {
      const r = run('hook.cjs', op, sub);
      expect([r.status, r.stderr]).toEqual([0, `passthru: nothing to do for '${op} ${sub}'\n`]);
    };
    for (const name of names) writeFileSync(join(dir, name), Buffer.alloc(4096, 7)); // not a V8 cache at all
    expectNothingToDo('started', 'begin');
    expectNothingToDo('release', 'begin'); // the release cache is read for any 'release'
    for (const name of names) rmSync(join(dir, name));
    expectNothingToDo('started', 'begin');
    expectNothingToDo('release', 'begin');
  });
});
