// `passthru hook` from the built dist: run directly as libvirt would run the hook (it re-runs itself
// under the host-wide lock with dist/hook.cjs), also through a symlinked bin as npm installs it;
// `--dry-run [--json] FILE` in either order; bad arguments are one line, exit 2.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dist, nodeBin } from '../support/paths.js';
import { run } from '../support/proc.js';
import { SimHost } from '../support/simhost.js';

let host: SimHost;
let bin: string;
let vm: string;
let xml: string;

beforeAll(async () => {
  host = await SimHost.create('workstation');
  bin = join(mkdtempSync(join(tmpdir(), 'passthru-bin-')), 'passthru');
  symlinkSync(dist.passthru, bin); // as npm links a package's bin
  xml = execFileSync(nodeBin, [dist.xmlfix, 'fixtures/xml/domain-q35.xml', '--add-hostdev', '01:00.0'], {
    encoding: 'utf8',
  });
  vm = join(host.dir, 'vm.xml');
  writeFileSync(vm, xml);
  // libvirt's files under a root of the test's own: the domain's NAT network 'default'
  mkdirSync(join(host.dir, 'root/etc/libvirt/qemu/networks'), { recursive: true });
  writeFileSync(
    join(host.dir, 'root/etc/libvirt/qemu/networks/default.xml'),
    "<network>\n  <name>default</name>\n  <forward mode='nat'/>\n</network>\n",
  );
}, 60_000);
afterAll(() => {
  host.cleanup();
  rmSync(dirname(bin), { recursive: true, force: true });
});

const passthru = (args: string[], input = '', entry = dist.passthru) =>
  run(nodeBin, [entry, ...args], {
    input,
    env: host.env({ PASSTHRU_ROOT: join(host.dir, 'root') }),
    limitMs: 30_000,
  });

describe('passthru hook DOMAIN OP SUBOP EXTRA, run directly', () => {
  it.each([
    ['dist/passthru.js', () => dist.passthru],
    ['a symlinked bin', () => bin],
  ])('through %s: prepare takes the devices, release gives them back', async (_how, entry) => {
    const start = host.state();
    const prepare = await passthru(['hook', 'win11-gpu', 'prepare', 'begin', '-'], xml, entry());
    expect([prepare.code, prepare.stderr]).toEqual([0, '']);
    expect(host.journals()).toHaveLength(1);
    const status = await passthru(['status']);
    expect(status.stdout).toContain('0000:01:00.0');
    const release = await passthru(['hook', 'win11-gpu', 'release', 'end', '-'], xml, entry());
    expect([release.code, release.stderr]).toEqual([0, '']);
    expect(host.state()).toBe(start);
    expect(host.journals()).toEqual([]);
  });
});

describe('passthru hook --dry-run', () => {
  it('takes --json before or after FILE and prints the plan as JSON', async () => {
    const before = await passthru(['hook', '--dry-run', '--json', vm]);
    const after = await passthru(['hook', '--dry-run', vm, '--json']);
    expect([before.code, before.stderr]).toEqual([0, '']);
    expect(JSON.parse(before.stdout)).toHaveProperty('domain.name', 'win11-gpu');
    expect(after.stdout).toBe(before.stdout);
    const stdin = await passthru(['hook', '--dry-run', '--json', '-'], xml);
    expect(stdin.stdout).toBe(before.stdout);
  });

  it.each([
    [['hook', '--dry-run'], "hook --dry-run takes one domain XML FILE ('-' = stdin), got none"],
    [['hook', '--dry-run', 'a.xml', 'b.xml'], "got 'a.xml' 'b.xml'"],
    [['hook', '--json', 'vm.xml'], '--json goes with --dry-run'],
    [['hook', '--dry-run', '/nonexistent/vm.xml'], "cannot read domain XML '/nonexistent/vm.xml': ENOENT"],
    [['hook', 'vm', 'prepare'], 'hook needs DOMAIN OP SUBOP [EXTRA]'],
  ])('%j: one line naming the problem, exit 2', async (args, message) => {
    const r = await passthru(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/^passthru: [^\n]*\n$/);
  });
});
