// dist/hook.cjs runs the hook bundle with V8's code cache from the build; a missing or foreign cache
// must change nothing but speed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cacheAccepted, cacheFile } from '../support/code-cache.js';
import { distDir, nodeBin } from '../support/paths.js';

let dir: string;
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
    expect(cacheAccepted(dir, 'hook')).toBe(true);
  });

  it('runs the hook with the cache', () => {
    const r = run('hook.cjs');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("passthru: nothing to do for 'started begin'\n");
  });

  it('runs the same when V8 rejects the cache, or when it is missing', () => {
    const name = cacheFile(dir, 'hook');
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
