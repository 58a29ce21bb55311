// xmlfix cases as data (libvirt's and virt-xml's way): test/golden/xmlfix/NAME.args holds one
// invocation, one argument per line, with directives of its own:
//   @host FIXTURE   run on a simulated host made from fixtures/hosts/FIXTURE.json (else: no host at all)
//   @stdin FILE     the input on stdin (repository-relative)
//   @twice          run it, then run the same arguments on its output, and record that second run
//   @exit N         the exit status the case expects (written by hand: it is what the case asserts)
// The results are NAME.out (stdout) and NAME.err (stderr), each kept only when non-empty and
// regenerated with UPDATE_GOLDEN=1 (a changed message is then a reviewed diff). Lines starting with
// '#' are comments. Every XML result is also defined on libvirt by test/e2e/libvirt-accept.e2e.test.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { caseNames, GOLDEN_DIR, type GoldenCase, readCase } from '../support/golden-cases.js';
import { noHostEnv } from '../support/xmlfix-run.js';

const sims = new Map<string, string>();
let simDir: string;

beforeAll(() => {
  simDir = mkdtempSync(join(tmpdir(), 'xmlfix-golden-cases-'));
  return () => rmSync(simDir, { recursive: true, force: true });
});

function simFor(fixture: string): string {
  // a fresh copy per case: the host file is the simulator's state, and no case may see another's
  const file = join(simDir, `${fixture}-${sims.size}.json`);
  const r = spawnSync(process.execPath, ['dist/passthru.js', 'sim', 'init', '--fixture', fixture, '-o', file], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`passthru sim init --fixture ${fixture}: ${r.stderr}`);
  sims.set(file, fixture);
  return file;
}

function run(c: GoldenCase, input: string) {
  const env = c.host ? { ...noHostEnv(), PASSTHRU_SIM: simFor(c.host) } : noHostEnv();
  return spawnSync(process.execPath, ['dist/xmlfix.js', ...c.args], { encoding: 'utf8', input, env });
}

function golden(file: string, actual: string): void {
  const path = join(GOLDEN_DIR, file);
  if (process.env.UPDATE_GOLDEN === '1') {
    if (actual) writeFileSync(path, actual);
    else rmSync(path, { force: true });
  }
  expect(actual, file).toBe(existsSync(path) ? readFileSync(path, 'utf8') : '');
}

describe('xmlfix golden cases (test/golden/xmlfix)', () => {
  it.each(caseNames())('%s', (name) => {
    const c = readCase(name);
    let r = run(c, c.stdin ? readFileSync(c.stdin, 'utf8') : '');
    if (c.twice) {
      expect(r.status, `${name}: the first run of a @twice case (stderr: ${r.stderr})`).toBe(0);
      const first = r.stdout;
      r = run(c, first);
      // the same edit again changes nothing
      if (r.status === 0) expect(r.stdout, `${name}: the second run changed the document`).toBe(first);
    }
    expect(r.status, `${name}: exit status (stderr: ${r.stderr})`).toBe(c.exit);
    if (c.exit !== 0) expect(r.stdout, 'a refusal writes nothing').toBe('');
    golden(`${name}.out`, r.stdout);
    golden(`${name}.err`, r.stderr);
  });
});
