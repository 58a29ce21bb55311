// Every command whose reader has gone (`… | head`) ends quietly: no stack trace, nothing on stderr,
// the exit status it has with a reader. The closed pipe is made deterministic: a FIFO opened for
// writing while a reader held it, the reader then closed, so the command's first write gets EPIPE.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dist, nodeBin, repoRoot } from '../support/paths.js';

let dir: string;
const NAT_NETWORK = "<network>\n  <name>default</name>\n  <forward mode='nat'/>\n</network>\n";
let env: Record<string, string>;
const q35 = join(repoRoot, 'fixtures/xml/domain-q35.xml');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'passthru-epipe-'));
  mkdirSync(join(dir, 'tmp'));
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LC_ALL: 'C',
    PASSTHRU_SIM: join(dir, 'host.json'),
    PASSTHRU_STATE_DIR: join(dir, 'state'),
    TMPDIR: join(dir, 'tmp'), // the demo's scratch dir lands here: it must be gone afterwards
    PASSTHRU_ROOT: join(dir, 'root'), // libvirt's files: the domain's network 'default'
  };
  mkdirSync(join(dir, 'root/etc/libvirt/qemu/networks'), { recursive: true });
  writeFileSync(join(dir, 'root/etc/libvirt/qemu/networks/default.xml'), NAT_NETWORK);
  execFileSync(nodeBin, [dist.passthru, 'sim', 'init', '--fixture', 'workstation', '-o', env.PASSTHRU_SIM!]);
  writeFileSync(
    join(dir, 'vm.xml'),
    execFileSync(nodeBin, [dist.xmlfix, q35, '--add-hostdev', '01:00.0'], { env, encoding: 'utf8' }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `argv` with stdout on a pipe nobody reads any more. */
function withClosedPipe(argv: string[]) {
  const fifo = join(dir, `pipe-${process.hrtime.bigint()}`);
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  closeSync(reader);
  try {
    return spawnSync(nodeBin, argv, {
      stdio: ['ignore', writer, 'pipe'],
      env,
      cwd: dir, // a regression that writes a file named '-' writes it there
      encoding: 'utf8',
      timeout: 30_000,
    });
  } finally {
    closeSync(writer);
    rmSync(fifo);
  }
}

const withReader = (argv: string[]) => spawnSync(nodeBin, argv, { env, cwd: dir, encoding: 'utf8', timeout: 30_000 });

const vm = () => join(dir, 'vm.xml');
const cases: [string, () => string[]][] = [
  ['xmlfix FILE', () => [dist.xmlfix, q35]],
  ['xmlfix --diff', () => [dist.xmlfix, q35, '--add-hostdev', '01:00.0', '--diff']],
  ['xmlfix --list --json', () => [dist.xmlfix, vm(), '--list', '--json']],
  ['xmlfix -o -', () => [dist.xmlfix, q35, '-o', '-']],
  ['xmlfix --help', () => [dist.xmlfix, '--help']],
  ['passthru list', () => [dist.passthru, 'list']],
  ['passthru list --json', () => [dist.passthru, 'list', '--json']],
  ['passthru doctor', () => [dist.passthru, 'doctor']],
  ['passthru doctor --json --domain', () => [dist.passthru, 'doctor', '--json', '--domain', vm()]],
  ['passthru status', () => [dist.passthru, 'status']],
  ['passthru hook --dry-run', () => [dist.passthru, 'hook', '--dry-run', vm()]],
  ['passthru hook --dry-run --json', () => [dist.passthru, 'hook', '--dry-run', '--json', vm()]],
  ['passthru sim init -o -', () => [dist.passthru, 'sim', 'init', '--fixture', 'server', '-o', '-']],
  ['passthru --help', () => [dist.passthru, '--help']],
  ['passthru demo', () => [dist.passthru, 'demo']],
];

describe('a command whose reader has gone ends quietly', () => {
  it.each(cases)('%s', (_name, argv) => {
    const normal = withReader(argv());
    expect(normal.stdout.length).toBeGreaterThan(0); // it does print something to lose
    const closed = withClosedPipe(argv());
    expect(closed.error).toBeUndefined(); // not timed out
    expect(closed.stderr).toBe('');
    expect(closed.status).toBe(normal.status);
    expect(readdirSync(env.TMPDIR!)).toEqual([]);
  });

  it('passthru list | head -n 1 on a large host: the first line, then quiet', () => {
    const big = join(dir, 'big.json');
    execFileSync(nodeBin, [dist.passthru, 'sim', 'init', '--generate', '3000', '-o', big]);
    const r = spawnSync('sh', ['-c', '"$@" | head -n 1', 'sh', nodeBin, dist.passthru, '--sim', big, 'list'], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(r.stderr).toBe('');
  });
});
