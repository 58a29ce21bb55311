// hooks/qemu, the sh entry libvirt runs: exits at once for operations we do not act on and for
// domains without passthrough (node never starts), else takes the lock and hands argv + XML on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { renderHookEntry, shellQuote } from '../../src/hook/entry-template.js';

const template = readFileSync(join(__dirname, '..', '..', 'hooks', 'qemu'), 'utf8');
let dir: string;
let entry: string;
let marker: string;
let stateDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'passthru-entry-'));
  marker = join(dir, 'node-ran');
  stateDir = join(dir, 'state dir');
  // a stand-in for node that records how it was called (argv, stdin, lock env)
  const fakeNode = join(dir, 'fake-node');
  writeFileSync(
    fakeNode,
    `#!/bin/sh\nshift\n{ echo "args:$*"; echo "locked:$PASSTHRU_LOCKED"; cat; } > ${shellQuote(marker)}\nexit 3\n`,
  );
  chmodSync(fakeNode, 0o755);
  entry = join(dir, 'qemu');
  writeFileSync(
    entry,
    renderHookEntry(template, { node: fakeNode, hookJs: join(dir, 'hook.js'), env: { PASSTHRU_STATE_DIR: stateDir } }),
  );
  chmodSync(entry, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runEntry(args: string[], xml: string) {
  rmSync(marker, { force: true });
  const r = spawnSync(entry, args, {
    input: xml,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
    encoding: 'utf8',
  });
  return { code: r.status, stderr: r.stderr, ran: existsSync(marker) ? readFileSync(marker, 'utf8') : undefined };
}

const plain = `<domain type='kvm'>\n  <name>plain</name>\n  <devices>\n    <interface type='bridge'>\n      <source bridge='br0'/>\n    </interface>\n  </devices>\n</domain>\n`;
const withHostdev = `<domain type='kvm'>\n  <name>gpu</name>\n  <devices>\n    <hostdev mode='subsystem' type='pci' managed='yes'>\n      <source>\n        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n      </source>\n    </hostdev>\n  </devices>\n</domain>\n`;

describe('hooks/qemu', () => {
  it('exits 0 without node for operations the hook does not act on', () => {
    for (const [op, sub] of [
      ['started', 'begin'],
      ['stopped', 'end'],
      ['reconnect', 'begin'],
      ['migrate', 'end'],
      ['attach', 'begin'],
      ['prepare', 'end'],
    ]) {
      const r = runEntry(['gpu', op!, sub!, '-'], withHostdev);
      expect(r, `${op} ${sub}`).toEqual({ code: 0, stderr: '', ran: undefined });
    }
  });

  it('exits 0 without node for a domain without passthrough', () => {
    // a table like the one above, kept apart: a different reason the entry never runs node
    for (const [op, sub] of [
      ['prepare', 'begin'],
      ['start', 'begin'],
      ['release', 'end'],
      ['migrate', 'begin'],
      ['restore', 'begin'],
    ]) {
      expect(runEntry(['plain', op!, sub!, '-'], plain)).toEqual({ code: 0, stderr: '', ran: undefined });
    }
  });

  it('runs node with argv and the XML, under the lock, and passes its exit code on', () => {
    const r = runEntry(['gpu', 'prepare', 'begin', '-'], withHostdev);
    expect(r.code).toBe(3);
    expect(r.ran).toBe(`args:gpu prepare begin -\nlocked:1\n${withHostdev}`);
    expect(existsSync(join(stateDir, 'lock'))).toBe(true);
  });

  it('runs node for the migrate and restore filters of a domain with passthrough', () => {
    expect(runEntry(['gpu', 'migrate', 'begin', '-'], withHostdev).ran).toBe(
      `args:gpu migrate begin -\nlocked:1\n${withHostdev}`,
    );
    expect(runEntry(['gpu', 'restore', 'begin', '-'], withHostdev).ran).toBeDefined();
  });

  it('wakes node for hostdev and pool interfaces and for our metadata alone', () => {
    const iface = (t: string) => plain.replace(`<interface type='bridge'>`, `<interface type='${t}'>`);
    expect(runEntry(['x', 'prepare', 'begin', '-'], iface('hostdev')).ran).toBeDefined();
    expect(runEntry(['x', 'start', 'begin', '-'], iface('network')).ran).toBeDefined();
    const meta = plain.replace(
      '<devices>',
      `<metadata>\n    <passthru:devices xmlns:passthru='https://passthru.dev/xmlns/domain/1'/>\n  </metadata>\n  <devices>`,
    );
    expect(runEntry(['x', 'release', 'end', '-', 'destroyed'], meta).ran).toBeDefined();
  });

  it('runs node for the release of a domain with a journal even when its XML no longer names passthrough', () => {
    const uuid = '6f1c1a52-7d3e-4a55-9b1e-0c2d3e4f5a6b';
    const xml = plain.replace('<name>plain</name>', `<name>plain</name>\n  <uuid>${uuid}</uuid>`);
    mkdirSync(stateDir, { recursive: true });
    // no journal: the fast path, as for any domain we never touched
    expect(runEntry(['plain', 'release', 'end', '-'], xml)).toEqual({ code: 0, stderr: '', ran: undefined });
    writeFileSync(join(stateDir, `${uuid}.json`), '{}');
    try {
      expect(runEntry(['plain', 'release', 'end', '-', 'destroyed'], xml).ran).toBe(
        `args:plain release end - destroyed\nlocked:1\n${xml}`,
      );
      // only release: prepare and start of such a domain still exit at once
      expect(runEntry(['plain', 'prepare', 'begin', '-'], xml).ran).toBeUndefined();
      expect(runEntry(['plain', 'start', 'begin', '-'], xml).ran).toBeUndefined();
      // a <uuid> that is no UUID never becomes a path
      for (const bad of ['../x', `${uuid}/../${uuid}`, `${uuid.toUpperCase()}`, ''])
        expect(runEntry(['plain', 'release', 'end', '-'], xml.replace(uuid, bad)).ran, bad).toBeUndefined();
    } finally {
      rmSync(join(stateDir, `${uuid}.json`));
    }
  });

  it('fails prepare but never release when the state dir cannot be made', () => {
    const bad = join(dir, 'qemu-bad');
    writeFileSync(
      bad,
      renderHookEntry(template, {
        node: '/bin/false',
        hookJs: '/nonexistent',
        env: { PASSTHRU_STATE_DIR: '/proc/passthru-cannot-exist' },
      }),
    );
    chmodSync(bad, 0o755);
    const run = (op: string, sub: string) =>
      spawnSync(bad, ['gpu', op, sub, '-'], { input: withHostdev, encoding: 'utf8' });
    const p = run('prepare', 'begin');
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/^passthru: cannot create the state directory/);
    expect(run('release', 'end').status).toBe(0);
  });
});
