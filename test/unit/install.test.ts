// `passthru install [--uninstall]` in temp roots, through the built CLI (what an operator runs), plus
// the pure decisions (restart notice, marker) on their own.
import { describe, expect, it } from 'vitest';
import { suiteTemp } from '../support/suite-temp.js';
import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { dist, nodeBin } from '../support/paths.js';
import {
  MARKER,
  decideInstall,
  decideUninstall,
  isOurs,
  renderEntry,
  type HookFacts,
} from '../../src/install/entry.js';

const temp = suiteTemp('passthru-install-');

function freshRoot(): string {
  const root = temp.fresh('root');
  mkdirSync(root);
  return root;
}

function passthru(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  // a clean environment: no PASSTHRU_* of the test runner leaks into what is installed
  const r = spawnSync(nodeBin, [dist.passthru, ...args], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const entryOf = (root: string): string => join(root, 'etc', 'libvirt', 'hooks', 'qemu.d', 'passthru');

/** Everything under a dir: relative path -> mode and bytes (to prove nothing else changed). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, `${rel}${name}/`);
      else out[`${rel}${name}`] = `${(st.mode & 0o7777).toString(8)} ${readFileSync(p, 'utf8')}`;
    }
  };
  if (existsSync(dir)) walk(dir, '');
  return out;
}

/** The values the entry's export lines give the hook, read by a real sh. */
function exportedEnv(entryText: string): Record<string, string> {
  const head = entryText.slice(0, entryText.indexOf('case "$2 $3"'));
  const keys = ['PASSTHRU_SIM', 'PASSTHRU_ROOT', 'PASSTHRU_CONFIG', 'PASSTHRU_STATE_DIR'];
  const script = `${head}\n${keys.map((k) => `printf '%s=%s\\0' ${k} "\${${k}-<unset>}"`).join('\n')}\n`;
  const r = spawnSync('sh', ['-c', script], { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return Object.fromEntries(
    r.stdout
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

describe('passthru install', () => {
  it('writes qemu.d/passthru (0755, shebang first, our marker, absolute node and hook paths) and says libvirtd must restart when no hook existed', () => {
    const root = freshRoot();
    const sim = join(root, 'host.json');
    writeFileSync(sim, '{}');
    const r = passthru(['install', '--root', root, '--sim', sim, '--state-dir', join(root, 'state')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`installed ${entryOf(root)}`);
    expect(r.stdout).toMatch(/restart libvirtd/);
    const st = statSync(entryOf(root));
    expect(st.mode & 0o777).toBe(0o755);
    const text = readFileSync(entryOf(root), 'utf8');
    expect(text.split('\n')[0]).toBe('#!/bin/sh');
    expect(text.split('\n')[1]).toBe(MARKER);
    expect(text).not.toMatch(/@(ENV|NODE|HOOK_JS)@/);
    expect(text).toContain(`'${nodeBin}' '${dist.hook}' "$@"`);
    expect(exportedEnv(text)).toEqual({
      PASSTHRU_SIM: sim,
      PASSTHRU_ROOT: root,
      PASSTHRU_STATE_DIR: join(root, 'state'),
      PASSTHRU_CONFIG: '<unset>',
    });
    // the temp file of the atomic write is gone
    expect(readdirSync(join(root, 'etc', 'libvirt', 'hooks')).sort()).toEqual(['qemu.d']);
  });

  it('the installed entry is a working sh script: an operation we do not act on exits 0', () => {
    const root = freshRoot();
    expect(passthru(['install', '--root', root]).code).toBe(0);
    const r = spawnSync(entryOf(root), ['dom', 'started', 'begin', '-'], {
      input: '<domain/>',
      env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('is idempotent: a second identical install changes nothing (same inode, same bytes)', () => {
    const root = freshRoot();
    expect(passthru(['install', '--root', root]).code).toBe(0);
    const before = statSync(entryOf(root));
    const r = passthru(['install', '--root', root]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/already installed as wanted; nothing changed/);
    expect(r.stdout).not.toMatch(/restart/);
    expect(statSync(entryOf(root)).ino).toBe(before.ino);
  });

  it('leaves an existing hooks/qemu and other qemu.d scripts alone, and then needs no restart', () => {
    const root = freshRoot();
    const hooks = join(root, 'etc', 'libvirt', 'hooks');
    mkdirSync(join(hooks, 'qemu.d'), { recursive: true });
    writeFileSync(join(hooks, 'qemu'), "#!/bin/sh\n# the admin's own hook\nexit 0\n", { mode: 0o750 });
    writeFileSync(join(hooks, 'qemu.d', '10-other'), '#!/bin/sh\nexit 0\n', { mode: 0o700 });
    writeFileSync(join(hooks, 'daemon'), '#!/bin/sh\n', { mode: 0o755 });
    const before = snapshot(hooks);
    const r = passthru(['install', '--root', root]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/restart/);
    const after = snapshot(hooks);
    const { 'qemu.d/passthru': ours, ...rest } = after;
    expect(ours).toBeDefined();
    expect(rest).toEqual(before);
  });

  it('updates its own entry when the settings change (no restart needed: the entry existed)', () => {
    const root = freshRoot();
    expect(passthru(['install', '--root', root, '--state-dir', join(root, 'a')]).code).toBe(0);
    const r = passthru(['install', '--root', root, '--state-dir', join(root, 'b')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`updated ${entryOf(root)}`);
    expect(r.stdout).not.toMatch(/restart/);
    expect(exportedEnv(readFileSync(entryOf(root), 'utf8')).PASSTHRU_STATE_DIR).toBe(join(root, 'b'));
  });

  it('--uninstall removes only our entry; a second --uninstall has nothing to do', () => {
    const root = freshRoot();
    const hooks = join(root, 'etc', 'libvirt', 'hooks');
    mkdirSync(join(hooks, 'qemu.d'), { recursive: true });
    writeFileSync(join(hooks, 'qemu.d', '20-other'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    expect(passthru(['install', '--root', root]).code).toBe(0);
    const r = passthru(['install', '--uninstall', '--root', root]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`removed ${entryOf(root)}`);
    expect(readdirSync(join(hooks, 'qemu.d'))).toEqual(['20-other']);
    const again = passthru(['install', '--uninstall', '--root', root]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/not installed; nothing to remove/);
  });

  it('refuses to overwrite or remove a qemu.d/passthru it did not write (no marker), and a symlink there', () => {
    const root = freshRoot();
    const dropIn = join(root, 'etc', 'libvirt', 'hooks', 'qemu.d');
    mkdirSync(dropIn, { recursive: true });
    writeFileSync(
      join(dropIn, 'passthru'),
      "#!/bin/sh\n# someone else's script that happens to be called passthru\nexit 0\n",
      { mode: 0o755 },
    );
    const before = snapshot(dropIn);
    for (const args of [
      ['install', '--root', root],
      ['install', '--uninstall', '--root', root],
    ]) {
      const r = passthru(args);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`${join(dropIn, 'passthru')} `);
      expect(r.stderr).toMatch(/not written by passthru install/);
      expect(snapshot(dropIn)).toEqual(before);
    }
    const root2 = freshRoot();
    const dropIn2 = join(root2, 'etc', 'libvirt', 'hooks', 'qemu.d');
    mkdirSync(dropIn2, { recursive: true });
    writeFileSync(join(root2, 'target'), 'x');
    symlinkSync(join(root2, 'target'), join(dropIn2, 'passthru'));
    const r = passthru(['install', '--root', root2]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is a symlink/);
    expect(readFileSync(join(root2, 'target'), 'utf8')).toBe('x');
  });

  it('quotes every path safely for sh (spaces, quotes, $, backticks, newline) and makes relative paths absolute', () => {
    const root = freshRoot();
    const odd = join(root, `it's a $HOME \`id\` "dir"\nx`);
    mkdirSync(odd);
    const sim = join(odd, 'host.json');
    writeFileSync(sim, '{}');
    const cfg = join(odd, 'config.json');
    writeFileSync(cfg, '{}');
    const r = passthru(['install', '--root', '.', '--sim', sim, '--config', cfg, '--state-dir', 'rel/state'], {
      cwd: root,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(exportedEnv(readFileSync(entryOf(root), 'utf8'))).toEqual({
      PASSTHRU_SIM: sim,
      PASSTHRU_ROOT: root,
      PASSTHRU_CONFIG: cfg,
      PASSTHRU_STATE_DIR: join(root, 'rel', 'state'),
    });
  });

  it('takes the settings from PASSTHRU_* in the environment when no flag is given (flags win)', () => {
    const root = freshRoot();
    const r = passthru(['install', '--state-dir', join(root, 'flag')], {
      env: { PASSTHRU_ROOT: root, PASSTHRU_STATE_DIR: join(root, 'env') },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(exportedEnv(readFileSync(entryOf(root), 'utf8'))).toMatchObject({
      PASSTHRU_ROOT: root,
      PASSTHRU_STATE_DIR: join(root, 'flag'),
    });
  });

  describe('bad input: one line on stderr naming the value, exit 2, nothing written', () => {
    const cases: [string, (root: string) => string[], RegExp][] = [
      ['missing --root', (root) => ['install', '--root', join(root, 'nope')], /--root .*nope: no such directory/],
      ['--root is a file', (root) => ['install', '--root', join(root, 'f')], /--root .*\/f: not a directory/],
      ['empty --root', () => ['install', '--root', ''], /--root: empty path/],
      [
        'missing --sim',
        (root) => ['install', '--root', root, '--sim', join(root, 'none.json')],
        /--sim .*none\.json: no such file/,
      ],
      [
        '--sim not JSON',
        (root) => ['install', '--root', root, '--sim', join(root, 'f')],
        /--sim .*\/f: not a simulated host/,
      ],
      [
        '--config not JSON',
        (root) => ['install', '--root', root, '--config', join(root, 'f')],
        /config .*\/f is not valid JSON/,
      ],
      [
        '--config against the schema',
        (root) => ['install', '--root', root, '--config', join(root, 'bad.json')],
        /config .*bad\.json/,
      ],
      [
        '--state-dir is a file',
        (root) => ['install', '--root', root, '--state-dir', join(root, 'f')],
        /--state-dir .*\/f: exists and is not a directory/,
      ],
      [
        '--uninstall with --sim',
        (root) => ['install', '--uninstall', '--root', root, '--sim', join(root, 'f')],
        /--uninstall takes only --root \(not --sim\)/,
      ],
      ['unknown option', (root) => ['install', '--root', root, '--frobnicate'], /unknown option '--frobnicate'/],
    ];
    for (const [name, args, why] of cases) {
      it(name, () => {
        const root = freshRoot();
        writeFileSync(join(root, 'f'), 'not json {');
        writeFileSync(join(root, 'bad.json'), '{"no-such-setting": 1}');
        const before = snapshot(root);
        const r = passthru(args(root));
        expect(r.code).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(/^passthru: /);
        expect(r.stderr).toMatch(why);
        expect(r.stdout).toBe('');
        expect(snapshot(root)).toEqual(before);
      });
    }
  });
});

describe('install decisions (pure)', () => {
  const wanted = renderEntry('#!/bin/sh\n@ENV@\n@NODE@ @HOOK_JS@ "$@"\n', {
    node: '/usr/bin/node',
    hookJs: '/opt/p/dist/hook.js',
    env: {},
  });
  const facts = (f: Partial<HookFacts>): HookFacts => ({
    entry: { kind: 'absent' },
    qemuHook: false,
    otherEntries: [],
    ...f,
  });

  it('restart is needed exactly when no hook of any kind existed', () => {
    expect(decideInstall(facts({}), wanted)).toEqual({ kind: 'write', restartNeeded: true });
    expect(decideInstall(facts({ qemuHook: true }), wanted)).toEqual({ kind: 'write', restartNeeded: false });
    expect(decideInstall(facts({ otherEntries: ['10-x'] }), wanted)).toEqual({ kind: 'write', restartNeeded: false });
    expect(
      decideInstall(
        facts({ entry: { kind: 'file', text: wanted.replace('hook.js', 'old.js'), mode: 0o100755 } }),
        wanted,
      ),
    ).toEqual({ kind: 'write', restartNeeded: false });
  });

  it('an entry with the wanted bytes but the wrong mode is rewritten', () => {
    expect(decideInstall(facts({ entry: { kind: 'file', text: wanted, mode: 0o100644 } }), wanted).kind).toBe('write');
    expect(decideInstall(facts({ entry: { kind: 'file', text: wanted, mode: 0o100755 } }), wanted).kind).toBe(
      'unchanged',
    );
  });

  it('the marker goes after the shebang and identifies our file; a file without it is refused', () => {
    expect(wanted.startsWith(`#!/bin/sh\n${MARKER}\n`)).toBe(true);
    expect(isOurs(wanted)).toBe(true);
    expect(isOurs(`#!/bin/sh\n# ${MARKER}\n`)).toBe(false);
    expect(decideUninstall(facts({ entry: { kind: 'file', text: '#!/bin/sh\n', mode: 0o100755 } })).kind).toBe(
      'refuse',
    );
    expect(decideUninstall(facts({ entry: { kind: 'other', what: 'a directory' } })).kind).toBe('refuse');
    expect(decideUninstall(facts({ entry: { kind: 'file', text: wanted, mode: 0o100755 } })).kind).toBe('remove');
  });
});
