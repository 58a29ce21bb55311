// Output options write through what they are given and never replace it: `xmlfix -i` on a symlink
// edits the file it names and keeps the link; `-o` into a FIFO, a descriptor (a link to
// /proc/self/fd/1 stands in for /dev/stdout: the real /dev is never touched) or `-` writes into it;
// a regular file is replaced atomically; bad targets are one line, exit 2, nothing written.
// `passthru sim init -o` follows the same rules.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeFd } from '../../src/cli/stdout.js';
import { dist, nodeBin } from '../support/paths.js';
import { run } from '../support/proc.js';

const q35 = readFileSync('fixtures/xml/domain-q35.xml', 'utf8');
const EDIT = ['--add-hostdev', '01:00.0'];
const ADDED = "<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'passthru-output-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// the edits are checked against a simulated workstation (where 01:00.0 is a GPU), kept outside `dir`
let simDir: string;
beforeAll(() => {
  simDir = mkdtempSync(join(tmpdir(), 'passthru-output-sim-'));
  execFileSync(nodeBin, [dist.passthru, 'sim', 'init', '--fixture', 'workstation', '-o', join(simDir, 'host.json')]);
});
afterAll(() => rmSync(simDir, { recursive: true, force: true }));
const env = () => ({ PATH: process.env.PATH, LC_ALL: 'C', PASSTHRU_SIM: join(simDir, 'host.json') });
const xmlfix = (args: string[], input = '') =>
  run(nodeBin, [dist.xmlfix, ...args], { input, env: env(), cwd: dir, limitMs: 15_000 });
const passthru = (args: string[]) => run(nodeBin, [dist.passthru, ...args], { env: env(), cwd: dir, limitMs: 15_000 });
const mkfifo = (path: string) => execFileSync('mkfifo', [path]);
/** What a reader of the FIFO gets (killed after a while, so a writer that never opens it fails the test instead of hanging it). */
const readFifo = (path: string) => run('cat', [path], { limitMs: 10_000 });

describe('xmlfix -i on a symlink', () => {
  it('edits the file the link names, keeps the link, and puts --backup beside the name given', async () => {
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'vm.xml'), q35);
    symlinkSync('real/vm.xml', join(dir, 'hop.xml'));
    symlinkSync('hop.xml', join(dir, 'vm.xml')); // two links deep, relative targets
    const r = await xmlfix(['-i', 'vm.xml', ...EDIT, '--backup', '.orig']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(readlinkSync(join(dir, 'vm.xml'))).toBe('hop.xml');
    expect(readlinkSync(join(dir, 'hop.xml'))).toBe('real/vm.xml');
    expect(readFileSync(join(dir, 'real', 'vm.xml'), 'utf8')).toContain(ADDED);
    expect(lstatSync(join(dir, 'vm.xml.orig')).isFile()).toBe(true);
    expect(readFileSync(join(dir, 'vm.xml.orig'), 'utf8')).toBe(q35);
    expect(readdirSync(join(dir, 'real'))).toEqual(['vm.xml']); // no temp file left
  });

  it('a link and its target named together are written once', async () => {
    writeFileSync(join(dir, 'vm.xml'), q35);
    symlinkSync('vm.xml', join(dir, 'link.xml'));
    const r = await xmlfix(['-i', 'vm.xml', 'link.xml', ...EDIT]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(lstatSync(join(dir, 'link.xml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'vm.xml'), 'utf8').split(ADDED)).toHaveLength(2);
  });
});

describe('xmlfix -o', () => {
  it('writes into an existing FIFO and leaves it a FIFO', async () => {
    const fifo = join(dir, 'out.fifo');
    mkfifo(fifo);
    const reader = readFifo(fifo);
    const r = await xmlfix(['-', ...EDIT, '-o', fifo], q35);
    const got = await reader;
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(got.timedOut).toBe(false);
    expect(got.stdout).toContain(ADDED);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['out.fifo']);
  });

  it('writes into the descriptor a link to /proc/self/fd/1 names (as /dev/stdout does), keeping the link', async () => {
    const link = join(dir, 'stdout');
    symlinkSync('/proc/self/fd/1', link);
    const r = await xmlfix(['-', ...EDIT, '-o', link], q35);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain(ADDED);
    expect(readlinkSync(link)).toBe('/proc/self/fd/1');
    expect(readdirSync(dir)).toEqual(['stdout']);
  });

  it("'-o -' is standard output", async () => {
    const r = await xmlfix(['-', ...EDIT, '-o', '-'], q35);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain(ADDED);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('replaces the regular file a symlink names (a dangling link gets its file), keeping the link', async () => {
    writeFileSync(join(dir, 'old.xml'), 'old');
    symlinkSync('old.xml', join(dir, 'out.xml'));
    symlinkSync('new.xml', join(dir, 'dangling.xml'));
    for (const out of ['out.xml', 'dangling.xml']) {
      const r = await xmlfix(['-', ...EDIT, '-o', out], q35);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(lstatSync(join(dir, out)).isSymbolicLink()).toBe(true);
    }
    expect(readFileSync(join(dir, 'old.xml'), 'utf8')).toContain(ADDED);
    expect(readFileSync(join(dir, 'new.xml'), 'utf8')).toContain(ADDED);
    expect(readdirSync(dir).sort()).toEqual(['dangling.xml', 'new.xml', 'old.xml', 'out.xml']);
  });

  it('keeps the mode of a replaced file; a new file gets 0666 less the umask', async () => {
    writeFileSync(join(dir, 'kept.xml'), q35, { mode: 0o640 });
    expect((await xmlfix(['-', ...EDIT, '-o', 'kept.xml'], q35)).code).toBe(0);
    expect(statSync(join(dir, 'kept.xml')).mode & 0o777).toBe(0o640);
    const umask = process.umask();
    expect((await xmlfix(['-', ...EDIT, '-o', 'new.xml'], q35)).code).toBe(0);
    expect(statSync(join(dir, 'new.xml')).mode & 0o777).toBe(0o666 & ~umask);
  });
});

describe('bad output targets: one line naming the value and the fix, exit 2, nothing written', () => {
  const setup = () => {
    mkdirSync(join(dir, 'adir'));
    symlinkSync('loop-b', join(dir, 'loop-a'));
    symlinkSync('loop-a', join(dir, 'loop-b'));
    mkfifo(join(dir, 'in.fifo'));
    writeFileSync(join(dir, 'vm.xml'), q35);
  };
  it.each([
    [['-', '-o', 'adir'], "-o 'adir' is a directory: give a file name"],
    [['-', '-o', 'nodir/out.xml'], "-o 'nodir/out.xml': no directory"],
    [['-', '-o', 'vm.xml/out.xml'], "-o 'vm.xml/out.xml': no directory"],
    [['-', '-o', 'loop-a'], "-o 'loop-a': too many levels of symbolic links"],
    [['-i', 'in.fifo'], "-i 'in.fifo' is a FIFO: -i edits regular files"],
    [['-i', 'missing.xml'], "-i 'missing.xml' does not exist"],
    [['-i', 'vm.xml', 'adir'], "-i 'adir' is a directory"],
  ])('xmlfix %j', async (args, message) => {
    setup();
    const before = readdirSync(dir).sort();
    const r = await xmlfix([...args, ...EDIT], q35);
    expect(r.timedOut).toBe(false); // a FIFO given to -i is refused, not read
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readFileSync(join(dir, 'vm.xml'), 'utf8')).toBe(q35);
  });
});

describe('passthru sim init -o', () => {
  it('writes to stdout, into a FIFO, and through a symlink, never replacing them', async () => {
    const out = await passthru(['sim', 'init', '--fixture', 'workstation', '-o', '-']);
    expect([out.code, out.stderr]).toEqual([0, '']);
    const text = out.stdout;
    expect(JSON.parse(text)).toHaveProperty('devices');

    const fifo = join(dir, 'host.fifo');
    mkfifo(fifo);
    const reader = readFifo(fifo);
    expect((await passthru(['sim', 'init', '--fixture', 'workstation', '-o', fifo])).code).toBe(0);
    expect((await reader).stdout).toBe(text);
    expect(lstatSync(fifo).isFIFO()).toBe(true);

    writeFileSync(join(dir, 'host.json'), '');
    symlinkSync('host.json', join(dir, 'host-link.json'));
    expect((await passthru(['sim', 'init', '--fixture', 'workstation', '-o', 'host-link.json'])).code).toBe(0);
    expect(lstatSync(join(dir, 'host-link.json')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'host.json'), 'utf8')).toBe(text);
  });

  it('refuses a directory with one line, exit 2', async () => {
    const r = await passthru(['sim', 'init', '--fixture', 'workstation', '-o', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`passthru: -o '${dir}' is a directory: give a file name (or - for stdout)\n`);
  });
});

describe('writeFd', () => {
  it('waits out a full non-blocking pipe (EAGAIN) and writes everything', async () => {
    const fifo = join(dir, 'nb.fifo');
    mkfifo(fifo);
    const out = join(dir, 'got');
    // the reader opens the FIFO, then waits before reading, so the pipe is full (EAGAIN) for a while;
    // it writes to a file: this process is blocked while it writes, so it cannot drain a pipe
    const reader = run('sh', ['-c', 'exec 3<"$1"; sleep 0.3; cat <&3 > "$2"', 'sh', fifo, out], { limitMs: 20_000 });
    let fd: number | undefined;
    for (let i = 0; fd === undefined && i < 500; i++) {
      try {
        fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK); // ENXIO until cat has it open
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    const text = 'x'.repeat(1 << 20); // 16 pipe buffers
    expect(writeFd(fd!, text)).toBe(true);
    closeSync(fd!);
    expect((await reader).timedOut).toBe(false);
    expect(statSync(out).size).toBe(text.length);
  });
});
