// `passthru doctor` as a user runs it: one golden per invocation (text and --json) on each simulated
// host, with and without a domain, in test/golden/doctor/NAME.{txt,json}. UPDATE_GOLDEN=1 rewrites
// them; a changed finding or fix is then a reviewed diff. The per-check rules are in doctor.test.ts.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dist, nodeBin, repoRoot } from '../support/paths.js';
import { suiteTemp } from '../support/suite-temp.js';

const goldenDir = join(repoRoot, 'test', 'golden', 'doctor');
const temp = suiteTemp('passthru-doctor-golden-');

interface Case {
  name: string;
  fixture: string;
  domain?: string;
}
const cases: Case[] = [
  { name: 'workstation', fixture: 'workstation' },
  { name: 'server', fixture: 'server' },
  { name: 'single-gpu', fixture: 'fixtures/hosts/single-gpu.json' },
  { name: 'workstation-domain-q35', fixture: 'workstation', domain: 'fixtures/xml/domain-q35.xml' },
  { name: 'workstation-domain-metadata', fixture: 'workstation', domain: 'fixtures/xml/domain-metadata.xml' },
  { name: 'server-domain-i440fx', fixture: 'server', domain: 'fixtures/xml/domain-i440fx.xml' },
];

/** Runs doctor on a fresh simulated host whose libvirt files live under a scratch root of its own. */
function doctor(c: Case, json: boolean): { code: number | null; out: string } {
  const dir = temp.fresh(c.name);
  const sim = join(dir, 'host.json');
  mkdirSync(join(dir, 'root', 'etc', 'libvirt', 'qemu', 'networks'), { recursive: true });
  const init = spawnSync(nodeBin, [dist.passthru, 'sim', 'init', '--fixture', c.fixture, '-o', sim], { cwd: repoRoot });
  if (init.status !== 0) throw new Error(`sim init ${c.fixture}: ${init.stderr}`);
  const args = [dist.passthru, 'doctor', ...(json ? ['--json'] : []), ...(c.domain ? ['--domain', c.domain] : [])];
  const r = spawnSync(nodeBin, args, {
    cwd: repoRoot,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      PASSTHRU_SIM: sim,
      PASSTHRU_ROOT: join(dir, 'root'),
      PASSTHRU_STATE_DIR: join(dir, 'state'),
    },
  });
  // the scratch dir is the one thing that differs from run to run
  return { code: r.status, out: (r.stdout + r.stderr).replaceAll(dir, 'SCRATCH') };
}

function golden(file: string, actual: string): void {
  const f = join(goldenDir, file);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(f)) {
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(f, actual);
  }
  expect(actual).toBe(readFileSync(f, 'utf8'));
}

describe('passthru doctor goldens', () => {
  for (const c of cases) {
    it(`${c.name}: text and --json match their goldens; the exit code follows the failures`, () => {
      const text = doctor(c, false);
      const json = doctor(c, true);
      golden(`${c.name}.txt`, text.out);
      golden(`${c.name}.json`, json.out);
      const failed = (JSON.parse(json.out) as { checks: { status: string }[] }).checks.some((k) => k.status === 'fail');
      expect([text.code, json.code]).toEqual(failed ? [1, 1] : [0, 0]);
    });
  }
});
