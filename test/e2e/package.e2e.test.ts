// The package as an administrator gets it: `npm pack` of a clean copy of the sources (its prepack
// builds dist/), `npm install -g` of that tarball into a temporary prefix (no build step, nothing
// fetched), then the installed commands, `passthru install` against a temp root and the entry it
// writes run as libvirtd runs it, the man pages through `man -l`, and the bash completions in bash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/paths.js';
import { domainXml } from '../support/domains.js';

const PATH = process.env.PATH ?? '/usr/bin:/bin';
let work: string;
let prefix: string;
let tarball: string;
let pkg: string;

function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 180_000, env: { PATH }, ...opts });
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}
const bin = (name: string): string => join(prefix, 'bin', name);

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'passthru-package-'));
  // the sources as a clone has them (tracked and new files, nothing ignored), with the dev dependencies
  const src = join(work, 'src');
  const files = sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot });
  expect(files.code, files.stderr).toBe(0);
  for (const f of files.stdout.split('\0').filter(Boolean))
    if (existsSync(join(repoRoot, f))) cpSync(join(repoRoot, f), join(src, f));
  symlinkSync(join(repoRoot, 'node_modules'), join(src, 'node_modules'));
  const pack = sh('npm', ['pack', '--json', '--pack-destination', work], { cwd: src, env: { PATH, HOME: work } });
  expect(pack.code, pack.stderr).toBe(0);
  tarball = join(
    work,
    (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string }[])[0]!.filename,
  );
  prefix = join(work, 'prefix');
  const inst = sh('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], {
    env: { PATH, HOME: work },
  });
  expect(inst.code, inst.stderr).toBe(0);
  pkg = join(prefix, 'lib', 'node_modules', 'passthru');
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('holds the built bundles, the hook entry template, the man pages and completions; no sources or tests', () => {
    const list = sh('tar', ['tzf', tarball]).stdout.split('\n').filter(Boolean);
    for (const f of [
      'dist/passthru.js',
      'dist/xmlfix.js',
      'dist/hook.cjs',
      'dist/hook-main.cjs',
      'hooks/qemu',
      'dist/man/xmlfix.1',
      'dist/man/passthru.8',
      'dist/completion/passthru',
      'dist/completion/xmlfix',
    ])
      expect(list).toContain(`package/${f}`);
    expect(list.filter((f) => /^package\/(src|test|bench|scripts)\//.test(f))).toEqual([]);
  });
});

describe('npm install -g of the tarball', () => {
  it('installs no dependencies (the bundles hold them) and links both commands and both man pages', () => {
    expect(existsSync(join(pkg, 'node_modules'))).toBe(false);
    expect(Object.hasOwn(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as object, 'dependencies')).toBe(
      false,
    );
    for (const p of ['bin/xmlfix', 'bin/passthru', 'share/man/man1/xmlfix.1', 'share/man/man8/passthru.8'])
      expect(existsSync(join(prefix, p)), p).toBe(true);
  });

  it('xmlfix and passthru work from there', () => {
    const x = sh(bin('xmlfix'), [join(repoRoot, 'fixtures/xml/domain-q35.xml'), '--add-hostdev', '0000:01:00.0']);
    expect(x.stderr).toBe('');
    expect(x.stdout).toMatch(/<hostdev mode='subsystem' type='pci' managed='yes'>/);
    const sim = join(work, 'host.json');
    expect(sh(bin('passthru'), ['sim', 'init', '--fixture', 'workstation', '-o', sim]).code).toBe(0);
    const list = sh(bin('passthru'), ['list'], { env: { PATH, PASSTHRU_SIM: sim } });
    expect(list.stderr).toBe('');
    expect(list.stdout).toContain('0000:01:00.0');
  });

  it('passthru install writes an entry that runs the installed hook; refused when others can write above it', () => {
    const sim = join(work, 'host-hook.json');
    expect(sh(bin('passthru'), ['sim', 'init', '--fixture', 'workstation', '-o', sim]).code).toBe(0);
    const root = join(work, 'root');
    mkdirSync(root);
    const args = ['install', '--root', root, '--sim', sim, '--state-dir', join(work, 'state')];
    chmodSync(work, 0o777);
    const refused = sh(bin('passthru'), args);
    chmodSync(work, 0o700);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${work} is writable by group and others (mode 0777): chmod go-w ${work}`);
    const r = sh(bin('passthru'), args);
    expect(r.code, r.stderr).toBe(0);
    const entry = join(root, 'etc', 'libvirt', 'hooks', 'qemu.d', 'passthru');
    expect(readFileSync(entry, 'utf8')).toContain(`'${join(pkg, 'dist', 'hook.cjs')}' "$@"`);
    const xml = domainXml({ name: 'vm', hostdevs: [{ address: '0000:01:00.0', managed: true }] });
    const libvirtd = { input: xml, env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } };
    const prepare = sh(entry, ['vm', 'prepare', 'begin', '-'], libvirtd);
    expect(prepare.stderr).toBe('');
    expect(prepare.code).toBe(0);
    const status = sh(bin('passthru'), ['status', '--json'], {
      env: { PATH, PASSTHRU_SIM: sim, PASSTHRU_STATE_DIR: join(work, 'state') },
    });
    expect(JSON.parse(status.stdout)).toMatchObject({ domains: [{ name: 'vm', state: 'running' }] });
    const release = sh(entry, ['vm', 'release', 'end', '-'], libvirtd);
    expect(release.stderr).toBe('');
    expect(release.code).toBe(0);
    expect(sh(bin('passthru'), ['install', '--uninstall', '--root', root]).code).toBe(0);
    expect(existsSync(join(root, 'etc', 'libvirt', 'hooks'))).toBe(false);
  });
});

describe('man pages', () => {
  const man = (page: string) =>
    sh('man', ['-l', join(prefix, 'share', 'man', page)], { env: { PATH, MANPAGER: 'cat', MANWIDTH: '100' } });

  it('passthru(8) renders with every command, its options and the hook', () => {
    const r = man('man8/passthru.8');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PASSTHRU\(8\)/);
    for (const s of ['passthru install [options]', '--uninstall', 'passthru doctor [options]', 'THE HOOK', 'chmod'])
      expect(r.stdout).toContain(s);
  });

  it('xmlfix(1) renders with its usage', () => {
    const r = man('man1/xmlfix.1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^XMLFIX\(1\)/);
    expect(r.stdout).toContain('--add-hostdev');
  });
});

describe('bash completion', () => {
  /** What bash offers for the words typed so far (the last one being completed). */
  function complete(program: string, words: string[]): string[] {
    const script = `source "$1"; shift; complete -p ${program} >/dev/null || exit 9
COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_${program}; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = sh(
      'bash',
      ['--norc', '--noprofile', '-c', script, 'bash', join(pkg, 'dist', 'completion', program), program, ...words],
      {
        cwd: work,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean);
  }

  it('passthru: subcommands, their options, a value after an option taking one', () => {
    expect(complete('passthru', ['ins'])).toEqual(['install']);
    expect(complete('passthru', ['install', '--un'])).toEqual(['--uninstall']);
    expect(complete('passthru', ['sim', 'i'])).toEqual(['init', 'in-use']);
    expect(complete('passthru', ['--sim', 'host.json', 'd'])).toEqual(['detach', 'doctor', 'demo']);
    expect(complete('passthru', ['install', '--root', 'pre'])).toEqual(['prefix']);
  });

  it('xmlfix: its options, pool, files', () => {
    expect(complete('xmlfix', ['vm.xml', '--add-h'])).toEqual(['--add-hostdev']);
    expect(complete('xmlfix', ['--in'])).toEqual(['--in-place']);
    expect(complete('xmlfix', ['po'])).toEqual(['pool']);
    expect(complete('xmlfix', ['host.j'])).toEqual(['host.json']);
  });
});
