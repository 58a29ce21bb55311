// bounded(): every host access settles as its promise does or fails with OpTimeout after its own
// bound (src/host/bounded.ts), whatever other bounds are pending; a settled access leaves no timer
// that keeps the process alive.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { bounded, OpTimeout } from '../../src/host/bounded.js';
import { nodeBin } from '../support/paths.js';

const never = <T>(): Promise<T> => new Promise<T>(() => {});

describe('bounded host accesses', () => {
  it('settle as their promise does', async () => {
    await expect(bounded('reading a', 5000, Promise.resolve('x'))).resolves.toBe('x');
    const err = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    await expect(bounded('reading b', 5000, Promise.reject(err))).rejects.toBe(err);
  });

  it('a short bound fires while a longer one is armed, and the longer one keeps waiting for its promise', async () => {
    let letGo!: (v: string) => void;
    const slow = bounded('reading slow', 60_000, new Promise<string>((r) => (letGo = r)));
    const stuck = bounded('writing stuck', 30, never<void>());
    await expect(stuck).rejects.toBeInstanceOf(OpTimeout);
    await expect(stuck).rejects.toThrow('timed out after 30 ms: writing stuck');
    letGo('done');
    await expect(slow).resolves.toBe('done');
  });

  it('several stuck accesses each time out, with their own message', async () => {
    const results = await Promise.allSettled([
      bounded('a', 20, never()),
      bounded('b', 40, never()),
      bounded('c', 20, Promise.resolve(3)),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'timed out after 20 ms: a',
      'timed out after 40 ms: b',
      3,
    ]);
  });

  it('a process whose accesses all settled exits at once; one stuck access keeps it until its bound fires', () => {
    // src/host/bounded.ts bundled for a plain node child (as the hook bundle holds it)
    const dir = mkdtempSync(join(tmpdir(), 'passthru-bounded-'));
    try {
      buildSync({
        entryPoints: ['src/host/bounded.ts'],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        outfile: join(dir, 'bounded.cjs'),
        logLevel: 'error',
      });
      const run = (body: string) =>
        spawnSync(
          nodeBin,
          [
            '-e',
            `const { bounded } = require(${JSON.stringify(join(dir, 'bounded.cjs'))}); (async () => { ${body} })();`,
          ],
          { encoding: 'utf8', timeout: 30_000 },
        );
      // settled: its 60 s timer must not keep the process alive
      const done = run("await bounded('x', 60000, Promise.resolve(1)); process.stdout.write('settled')");
      expect([done.status, done.stdout, done.error]).toEqual([0, 'settled', undefined]);
      // stuck: the process lives until the bound fires and reports it
      const stuck = run("await bounded('y', 50, new Promise(() => {})).catch((e) => process.stdout.write(e.message))");
      expect([stuck.status, stuck.stdout, stuck.error]).toEqual([0, 'timed out after 50 ms: y', undefined]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
