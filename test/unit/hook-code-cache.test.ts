// dist/hook.cjs runs the hook bundle with V8's code cache from the build; a missing or foreign cache
// must change nothing but speed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Script } from 'node:vm';
import { distDir, nodeBin } from '../support/paths.js';

let dir: string;
const cacheName = (): string => {
  const names = readdirSync(dir).filter((n) => /^hook-main\.[0-9a-f]+\.v8cache$/.test(n));
  expect(names).toHaveLength(1);
  return names[0]!;
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
  it('is one the node that built it accepts, for the bundle beside it', () => {
    const bundle = join(dir, 'hook-main.cjs');
    const s = new Script(readFileSync(bundle, 'utf8'), {
      filename: bundle,
      cachedData: readFileSync(join(dir, cacheName())),
    });
    expect(s.cachedDataRejected).toBe(false);
  });

  it('runs the hook with the cache', () => {
    const r = run('hook.cjs');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("passthru: nothing to do for 'started begin'\n");
  });

  it('runs the same when V8 rejects the cache, or when it is missing', () => {
    const name = cacheName();
    const expectNothingToDo = (op: string, sub: string) => {
      const r = run('hook.cjs', op, sub);
      expect([r.status, r.stderr]).toEqual([0, `passthru: nothing to do for '${op} ${sub}'\n`]);
    };
    writeFileSync(join(dir, name), Buffer.alloc(4096, 7)); // not a V8 cache at all
    expectNothingToDo('started', 'begin');
    expectNothingToDo('release', 'begin');
    rmSync(join(dir, name));
    expectNothingToDo('started', 'begin');
    expectNothingToDo('release', 'begin');
  });
});
