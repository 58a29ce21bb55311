// Root's alone (src/host/root-owned.ts): the rule install, the hook and doctor apply to what the hook
// runs and reads. Owners and modes through an injected stat (any uid, without being that user), and
// the same on real temp dirs with chmod/chown (chown needs root: skipped otherwise).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstUntrusted, hookTrustedPaths, notRootsAlone, type Owner } from '../../src/host/root-owned.js';

const DIR = 0o40000;
const FILE = 0o100000;
/** A fake file system of owners and modes; every path not listed is missing. */
function fakeStat(tree: Record<string, Owner>) {
  return (p: string): Owner | undefined => tree[p];
}
const rootDir = (mode = 0o755): Owner => ({ uid: 0, mode: DIR | mode });
const base = { '/': rootDir(), '/usr': rootDir(), '/usr/bin': rootDir() };
const noLinks = (p: string): string => p;

describe('notRootsAlone (injected stat)', () => {
  const check = (tree: Record<string, Owner>, path: string, uid = 0) =>
    notRootsAlone(path, { stat: fakeStat(tree), uid, realpath: noLinks });

  it("passes a root-owned file whose directories are root's and not writable by others", () => {
    expect(check({ ...base, '/usr/bin/node': { uid: 0, mode: FILE | 0o755 } }, '/usr/bin/node')).toBeUndefined();
  });

  it('names the file and the chmod when the file is writable by its group or others', () => {
    expect(check({ ...base, '/usr/bin/node': { uid: 0, mode: FILE | 0o775 } }, '/usr/bin/node')).toBe(
      '/usr/bin/node is writable by its group (mode 0775): chmod go-w /usr/bin/node',
    );
    expect(check({ ...base, '/usr/bin/node': { uid: 0, mode: FILE | 0o757 } }, '/usr/bin/node')).toBe(
      '/usr/bin/node is writable by others (mode 0757): chmod go-w /usr/bin/node',
    );
  });

  it('names the topmost directory at fault, not the file below it', () => {
    const tree = { ...base, '/usr': rootDir(0o777), '/usr/bin': rootDir(0o777), '/usr/bin/node': rootDir() };
    expect(check(tree, '/usr/bin/node')).toBe('/usr is writable by group and others (mode 0777): chmod go-w /usr');
  });

  it('names the chown when a file or a directory above it belongs to another user', () => {
    const tree = { ...base, '/opt': { uid: 1000, mode: DIR | 0o755 }, '/opt/node': { uid: 0, mode: FILE | 0o755 } };
    expect(check(tree, '/opt/node')).toBe('/opt is owned by uid 1000, not root: chown root /opt');
  });

  it("accepts the running user's own files beside root's (sshd's rule), not a third user's", () => {
    const tree = { ...base, '/home': rootDir(), '/home/u': { uid: 1000, mode: DIR | 0o700 } };
    expect(check(tree, '/home/u', 1000)).toBeUndefined();
    expect(check(tree, '/home/u', 1001)).toMatch(/^\/home\/u is owned by uid 1000/);
  });

  it('accepts a root-owned sticky directory above the path (/tmp), never as the path itself', () => {
    const tree = { ...base, '/tmp': rootDir(0o1777), '/tmp/state': rootDir(0o700) };
    expect(check(tree, '/tmp/state')).toBeUndefined();
    expect(check(tree, '/tmp')).toBe('/tmp is writable by group and others (mode 1777): chmod go-w /tmp');
    const userSticky = { ...base, '/tmp': { uid: 1000, mode: DIR | 0o1777 }, '/tmp/state': rootDir(0o700) };
    expect(check(userSticky, '/tmp/state')).toMatch(/^\/tmp is owned by uid 1000/);
  });

  it("checks a missing path's existing directories (whoever can create it there)", () => {
    expect(check({ ...base, '/run': rootDir() }, '/run/passthru')).toBeUndefined();
    expect(check({ ...base, '/run': rootDir(0o775) }, '/run/passthru')).toMatch(/^\/run is writable by its group/);
  });

  it("follows a symlink: the target's way is checked too", () => {
    const tree = {
      ...base,
      '/usr/bin/node': { uid: 0, mode: FILE | 0o755 },
      '/opt': { uid: 0, mode: DIR | 0o777 },
      '/opt/node': { uid: 0, mode: FILE | 0o755 },
    };
    const why = notRootsAlone('/usr/bin/node', { stat: fakeStat(tree), uid: 0, realpath: () => '/opt/node' });
    expect(why).toBe('/opt is writable by group and others (mode 0777): chmod go-w /opt');
  });
});

describe('what the hook runs and reads', () => {
  it('node, the bundle and its program file, the state dir and the config (ROOT/etc/passthru/config.json or PASSTHRU_CONFIG)', () => {
    expect(hookTrustedPaths({}, '/usr/bin/node', '/p/dist/hook.cjs', '/run/passthru')).toEqual([
      '/usr/bin/node',
      '/p/dist/hook.cjs',
      '/p/dist/hook-main.cjs',
      '/run/passthru',
      '/etc/passthru/config.json',
    ]);
    expect(hookTrustedPaths({ PASSTHRU_ROOT: '/r' }, 'n', '/h.cjs', 's').at(-1)).toBe('/r/etc/passthru/config.json');
    expect(hookTrustedPaths({ PASSTHRU_CONFIG: '/c.json', PASSTHRU_SIM: '/s' }, 'n', '/h.cjs', 's').at(-1)).toBe(
      '/c.json',
    );
    // a simulated host's config lives in the simulation
    expect(hookTrustedPaths({ PASSTHRU_SIM: '/s' }, 'n', '/h.cjs', 's')).toHaveLength(4);
  });

  it('firstUntrusted answers for the first path at fault', () => {
    const stat = fakeStat({
      ...base,
      '/usr/bin/a': { uid: 0, mode: FILE | 0o644 },
      '/usr/bin/b': { uid: 5, mode: FILE },
    });
    expect(firstUntrusted(['/usr/bin/a', '/usr/bin/b'], { stat, uid: 0, realpath: noLinks })).toBe(
      '/usr/bin/b is owned by uid 5, not root: chown root /usr/bin/b',
    );
  });
});

describe('on real directories', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'passthru-root-owned-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a temp dir of ours under /tmp passes; chmod g+w or o+w on it or a file fails, naming it', () => {
    const f = join(dir, 'config.json');
    writeFileSync(f, '{}', { mode: 0o644 });
    chmodSync(f, 0o644);
    expect(notRootsAlone(f)).toBeUndefined();
    chmodSync(f, 0o666);
    expect(notRootsAlone(f)).toBe(`${f} is writable by group and others (mode 0666): chmod go-w ${f}`);
    chmodSync(f, 0o644);
    chmodSync(dir, 0o770);
    expect(notRootsAlone(f)).toBe(`${dir} is writable by its group (mode 0770): chmod go-w ${dir}`);
    chmodSync(dir, 0o700);
  });

  it('a symlink to a file in a group-writable directory fails on the target', () => {
    const open = join(dir, 'open');
    mkdirSync(open, { mode: 0o775 });
    chmodSync(open, 0o775);
    writeFileSync(join(open, 'node'), '');
    chmodSync(join(open, 'node'), 0o755);
    symlinkSync(join(open, 'node'), join(dir, 'node-link'));
    expect(notRootsAlone(join(dir, 'node-link'))).toMatch(new RegExp(`^${open} is writable by its group`));
  });

  it.skipIf(process.getuid?.() !== 0)('a directory chowned to another user fails with the chown', () => {
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, 65534, 65534);
    expect(notRootsAlone(join(theirs, 'hook.cjs'))).toBe(
      `${theirs} is owned by uid 65534, not root: chown root ${theirs}`,
    );
  });
});
