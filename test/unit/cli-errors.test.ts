// Bad input to the CLIs' entry and output options: one line on stderr naming the value and the fix,
// exit 2, nothing on stdout, nothing created. The lines are a golden file (cli-errors.golden,
// regenerate with UPDATE_GOLDEN=1), so a changed message is a reviewed diff.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { dist, nodeBin } from '../support/paths.js';
import { run } from '../support/proc.js';
import { suiteTemp } from '../support/suite-temp.js';

const goldenFile = join(dirname(fileURLToPath(import.meta.url)), 'cli-errors.golden');
const temp = suiteTemp('passthru-errors-');
let dir: string;

beforeAll(() => {
  dir = temp.dir;
  execFileSync(nodeBin, [dist.passthru, 'sim', 'init', '--fixture', 'workstation', '-o', join(dir, 'host.json')]);
  writeFileSync(join(dir, 'vm.xml'), readFileSync('fixtures/xml/domain-q35.xml'));
  execFileSync('mkfifo', [join(dir, 'in.fifo')]);
  symlinkSync('loop-b', join(dir, 'loop-a'));
  symlinkSync('loop-a', join(dir, 'loop-b'));
  mkdirSync(join(dir, 'adir'));
});

// every case runs against a simulated host (none touches the real one), in `dir`, with relative names
const CASES: { cmd: 'passthru' | 'xmlfix'; args: string[]; env?: Record<string, string> }[] = [
  { cmd: 'passthru', args: ['frob'] },
  { cmd: 'passthru', args: ['lst'] },
  { cmd: 'passthru', args: ['list', '--frob'] },
  { cmd: 'passthru', args: ['status', 'extra'] },
  { cmd: 'passthru', args: ['--sim', 'missing.json', 'list'] },
  { cmd: 'passthru', args: ['doctor'], env: { PASSTHRU_SIM: 'missing.json' } },
  { cmd: 'passthru', args: ['hook', '--dry-run'] },
  { cmd: 'passthru', args: ['hook', '--dry-run', 'a.xml', 'b.xml'] },
  { cmd: 'passthru', args: ['hook', '--json', 'vm.xml'] },
  { cmd: 'passthru', args: ['hook', '--dry-run', 'missing.xml'] },
  { cmd: 'passthru', args: ['hook', 'vm', 'prepare'] },
  { cmd: 'passthru', args: ['sim', 'init', '--fixture', 'workstation', '-o', 'adir'] },
  { cmd: 'passthru', args: ['sim', 'init', '--fixture', 'workstation', '-o', 'nodir/host.json'] },
  { cmd: 'xmlfix', args: ['vm.xml', '-o', 'adir'] },
  { cmd: 'xmlfix', args: ['vm.xml', '-o', 'nodir/out.xml'] },
  { cmd: 'xmlfix', args: ['vm.xml', '-o', 'loop-a'] },
  { cmd: 'xmlfix', args: ['-i', 'missing.xml'] },
  { cmd: 'xmlfix', args: ['-i', 'in.fifo'] },
  { cmd: 'xmlfix', args: ['-i', 'adir'] },
];

it('every refusal is one line naming the value and the fix, exit 2, nothing written (golden)', async () => {
  const transcript: string[] = [];
  const before = readdirSync(dir).sort();
  for (const c of CASES) {
    const env = {
      PATH: process.env.PATH,
      LC_ALL: 'C',
      PASSTHRU_SIM: 'host.json',
      PASSTHRU_STATE_DIR: 'state',
      ...c.env,
    };
    const r = await run(nodeBin, [c.cmd === 'xmlfix' ? dist.xmlfix : dist.passthru, ...c.args], {
      env,
      cwd: dir,
      limitMs: 15_000,
    });
    const shown = `${c.env ? `${Object.entries(c.env).map(([k, v]) => `${k}=${v} `)}` : ''}${c.cmd} ${c.args.join(' ')}`;
    expect({ shown, code: r.code, stdout: r.stdout, lines: r.stderr.split('\n').length }).toEqual({
      shown,
      code: 2,
      stdout: '',
      lines: 2, // one line and its newline
    });
    transcript.push(`$ ${shown}\n${r.stderr}`);
  }
  expect(readdirSync(dir).sort()).toEqual(before);
  const text = transcript.join('\n');
  if (process.env.UPDATE_GOLDEN || !existsSync(goldenFile)) writeFileSync(goldenFile, text);
  expect(text).toBe(readFileSync(goldenFile, 'utf8'));
});
