// One temp dir per test file (or describe block): made before its tests, removed after them, with
// fresh numbered names inside it so that no two tests share a path.
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SuiteTemp {
  /** The temp dir (read it inside tests and hooks: it exists from beforeAll on). */
  readonly dir: string;
  /** A path in the dir no earlier call returned: `${stem}${n}`, not created. */
  fresh(stem: string): string;
}

export function suiteTemp(prefix: string): SuiteTemp {
  let dir: string | undefined;
  let n = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const temp: SuiteTemp = {
    get dir() {
      if (!dir) throw new Error('suiteTemp: the dir exists only once the suite runs');
      return dir;
    },
    fresh: (stem) => join(temp.dir, `${stem}${n++}`),
  };
  return temp;
}
