// recover and status against live domains: a journal whose domain still runs (libvirt says so, or
// its qemu process is alive) is left alone by `recover`, named, and undone only with --force; a
// journal whose domain runs nowhere is an orphan in `status`.
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simHostForSuite, type SimHost } from '../support/simhost.js';
import { domainUuid, domainXml, type DomainSpec } from '../support/domains.js';
import { nodeBin } from '../support/paths.js';

const spec: DomainSpec = { name: 'live-vf-guest', pfs: [{ dev: 'enp3s0f0', vfs: 2 }] };
const uuid = domainUuid(spec);
// no libvirtd answers here: the processes decide
const NO_LIBVIRT = { LIBVIRT_DEFAULT_URI: 'qemu+unix:///system?socket=/nonexistent/passthru-test-sock' };

/** A process whose command line carries `-uuid UUID`, as libvirt starts qemu. */
function fakeQemu(u: string): ChildProcess {
  return spawn(nodeBin, ['-e', 'setTimeout(() => {}, 120000)', '--', '-name', 'guest=x', '-uuid', u], {
    stdio: 'ignore',
  });
}

async function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((r) => p.once('exit', () => r()));
}

describe('recover and status with the domain still running', () => {
  const suite = simHostForSuite('workstation');

  async function prepared(): Promise<{ h: SimHost; held: string }> {
    const h = suite.host.copy();
    const r = await h.hook(spec.name, 'prepare', domainXml(spec));
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(h.journals()).toEqual([`${uuid}.json`]);
    return { h, held: h.state() };
  }

  it('its qemu process alive: recover --all skips it and says why, --domain refuses, --force undoes it', async () => {
    const { h, held } = await prepared();
    const qemu = fakeQemu(uuid);
    try {
      const all = await h.passthru(['recover', '--all'], { env: NO_LIBVIRT });
      expect([all.code, all.stderr]).toEqual([0, '']);
      expect(all.stdout).toBe(
        `${spec.name} (${uuid}): skipped, the domain is running (its qemu process (-uuid) is alive); --force undoes it anyway\n`,
      );
      expect(h.state()).toBe(held);
      expect(h.journals()).toEqual([`${uuid}.json`]);
      const one = await h.passthru(['recover', '--domain', spec.name], { env: NO_LIBVIRT });
      expect(one.code).toBe(1);
      expect(one.stdout).toContain('skipped, the domain is running');
      expect(h.state()).toBe(held);
      const st = await h.passthru(['status'], { env: NO_LIBVIRT });
      expect(st.stdout.split('\n')[0]).toBe(`${spec.name} (${uuid}): running`);
      const forced = await h.passthru(['recover', '--all', '--force'], { env: NO_LIBVIRT });
      expect([forced.code, forced.stderr]).toEqual([0, '']);
      expect(forced.stdout).toMatch(/change\(s\) undone, journal removed/);
      expect(h.state()).toBe(suite.start);
    } finally {
      qemu.kill('SIGKILL');
      await exited(qemu);
      h.cleanup();
    }
  });

  it('once its qemu is gone: status calls the journal an orphan and recover --all undoes it', async () => {
    const { h } = await prepared();
    const qemu = fakeQemu(uuid);
    qemu.kill('SIGKILL');
    await exited(qemu);
    try {
      const st = await h.passthru(['status'], { env: NO_LIBVIRT });
      expect(st.stdout.split('\n')[0]).toBe(
        `${spec.name} (${uuid}): orphaned: run passthru recover (the domain is not running; journal running)`,
      );
      const json = JSON.parse((await h.passthru(['status', '--json'], { env: NO_LIBVIRT })).stdout) as {
        domains: { orphaned: boolean; domainRunning: boolean; state: string }[];
      };
      expect(json.domains).toMatchObject([{ orphaned: true, domainRunning: false, state: 'running' }]);
      const rec = await h.passthru(['recover', '--all'], { env: NO_LIBVIRT });
      expect([rec.code, rec.stderr]).toEqual([0, '']);
      expect(rec.stdout).toMatch(/^live-vf-guest \(.+\): \d+ change\(s\) undone, journal removed\n$/);
      expect(h.state()).toBe(suite.start);
    } finally {
      h.cleanup();
    }
  });

  it('libvirt is asked first when it answers (-c URI): its word wins over the processes', async () => {
    const { h, held } = await prepared();
    // libvirt's test driver with this domain running, and a second one without it
    const node = (domains: string) =>
      `<node>\n${domains}</node>\n`.replace(
        '%',
        `<domain type='test'><name>${spec.name}</name><uuid>${uuid}</uuid><memory>65536</memory><os><type>hvm</type></os></domain>\n`,
      );
    const withIt = join(h.dir, 'with.xml');
    const without = join(h.dir, 'without.xml');
    writeFileSync(withIt, node('%'));
    writeFileSync(without, node(''));
    try {
      const skip = await h.passthru(['recover', '--all', '-c', `test://${withIt}`]);
      expect(skip.stdout).toContain('skipped, the domain is running (libvirt reports it running)');
      expect(h.state()).toBe(held);
      const st = await h.passthru(['status', '-c', `test://${without}`]);
      expect(st.stdout).toContain('orphaned: run passthru recover');
      const rec = await h.passthru(['recover', '--all', '-c', `test://${without}`]);
      expect(rec.stdout).toMatch(/journal removed/);
      expect(h.state()).toBe(suite.start);
    } finally {
      h.cleanup();
    }
  });
});
