// A domain's whole life under a real libvirtd (private namespace) with our hook installed, on a
// domain this machine really runs: its passthrough is our metadata asking the simulated host's igb PF
// for VFs, so libvirt starts qemu and the hook's changes live as long as the guest. After every path
// (destroy, save/restore, managedsave, libvirtd restart, metadata removed while running, recover while
// running, an orphaned journal, two domains on one PF at once) the host must be exactly as before.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeE2e } from './libvirt-ns.js';
import { metadataDomain, startPassthruNs, type PassthruNs } from './passthru-ns.js';
import { stableUuid } from '../support/domains.js';
import { hookEnv } from '../support/proc.js';
import { PASSTHRU_NS } from '../../src/xml/model.js';

const PF = '0000:03:00.0'; // workstation fixture: igb PF enp3s0f0, no VFs
const A = 'lc-vf-a';
const B = 'lc-vf-b';
const uuidOf = (n: string) => stableUuid(`lifecycle:${n}`);
const vfDomain = (n: string) => metadataDomain(n, uuidOf(n), [`<passthru:pf dev='enp3s0f0' vfs='2'/>`]);

await describeE2e('a domain with passthrough through its whole life (real libvirtd)', 120_000, () => {
  let ns: PassthruNs;
  let pristine: string;
  const state = async (n: string) => (await ns.lv.virshOk(['domstate', n])).trim();
  const expectHeld = (...domains: string[]) => {
    expect(ns.numVfs(PF)).toBe(2);
    expect(ns.host.journals()).toEqual(domains.map((d) => `${uuidOf(d)}.json`).sort());
  };
  const expectPristine = () => {
    expect(ns.host.journals()).toEqual([]);
    expect(ns.host.state()).toBe(pristine);
  };

  beforeAll(async () => {
    ns = await startPassthruNs();
    pristine = ns.host.state();
    for (const n of [A, B]) await ns.lv.virshOk(['define', ns.lv.file(`${n}.xml`, vfDomain(n))]);
  });
  afterAll(async () => {
    await ns?.stop();
  });

  it('start creates the VFs for the running guest; destroy gives them back', async () => {
    await ns.lv.virshOk(['start', A]);
    expect(await state(A)).toBe('running');
    expectHeld(A);
    const st = await ns.passthru(['status']);
    expect(st.stdout.split('\n')[0]).toBe(`${A} (${uuidOf(A)}): running`);
    await ns.lv.virshOk(['destroy', A]);
    expectPristine();
  });

  it('our metadata removed from the live XML while it runs: release still undoes the journal', async () => {
    await ns.lv.virshOk(['start', A]);
    expectHeld(A);
    await ns.lv.virshOk(['metadata', A, PASSTHRU_NS, '--live', '--remove']);
    expect(await ns.lv.virshOk(['dumpxml', A])).not.toContain(PASSTHRU_NS);
    await ns.lv.virshOk(['destroy', A]);
    expectPristine();
  });

  it('recover --all while the guest runs leaves it alone (libvirt asked, then its qemu process with libvirtd down); --force undoes it', async () => {
    await ns.lv.virshOk(['start', A]);
    const held = ns.host.state();
    const asked = await ns.passthru(['recover', '--all']);
    expect([asked.code, asked.stderr]).toEqual([0, '']);
    expect(asked.stdout).toBe(
      `${A} (${uuidOf(A)}): skipped, the domain is running (libvirt reports it running); --force undoes it anyway\n`,
    );
    expect(ns.host.state()).toBe(held);
    await ns.libvirtd('stop');
    try {
      const down = await ns.passthru(['recover', '--all']);
      expect([down.code, down.stderr]).toEqual([0, '']);
      expect(down.stdout).toContain('skipped, the domain is running (its qemu process (-uuid) is alive)');
      expect(ns.host.state()).toBe(held);
      expect((await ns.passthru(['status'])).stdout.split('\n')[0]).toBe(`${A} (${uuidOf(A)}): running`);
    } finally {
      await ns.libvirtd('start'); // reconnects to the surviving qemu
    }
    expect(await state(A)).toBe('running');
    const forced = await ns.passthru(['recover', '--all', '--force']);
    expect(forced.stdout).toMatch(/change\(s\) undone, journal removed/);
    expectPristine();
    await ns.lv.virshOk(['destroy', A]);
    expectPristine();
  });

  it('a journal left by a prepare whose start libvirt abandoned: status calls it orphaned, recover --all undoes it', async () => {
    // the hook's prepare as libvirtd runs it, for a domain libvirt then never started
    const entry = '/etc/libvirt/hooks/qemu.d/passthru';
    const p = await ns.lv.exec(entry, [A, 'prepare', 'begin', '-'], { input: vfDomain(A), env: hookEnv({}) });
    expect([p.code, p.stderr]).toEqual([0, '']);
    expect(await state(A)).toBe('shut off');
    expectHeld(A);
    const st = await ns.passthru(['status']);
    expect(st.stdout.split('\n')[0]).toBe(
      `${A} (${uuidOf(A)}): orphaned: run passthru recover (the domain is not running; journal running)`,
    );
    const rec = await ns.passthru(['recover', '--all']);
    expect([rec.code, rec.stderr]).toEqual([0, '']);
    expect(rec.stdout).toMatch(/journal removed/);
    expectPristine();
  });

  it('save gives the VFs back, restore takes them again', async () => {
    const file = join(ns.lv.work, 'a.save');
    await ns.lv.virshOk(['start', A]);
    await ns.lv.virshOk(['save', A, file]);
    expect(await state(A)).toBe('shut off');
    expectPristine();
    try {
      await ns.lv.virshOk(['restore', file]);
      expect(await state(A)).toBe('running');
      expectHeld(A);
      await ns.lv.virshOk(['destroy', A]);
      expectPristine();
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('managedsave gives the VFs back; the next start takes them again', async () => {
    await ns.lv.virshOk(['start', A]);
    await ns.lv.virshOk(['managedsave', A]);
    expect(existsSync(ns.lv.hostPath(`/var/lib/libvirt/qemu/save/${A}.save`))).toBe(true);
    expectPristine();
    await ns.lv.virshOk(['start', A]);
    expect(await state(A)).toBe('running');
    expectHeld(A);
    await ns.lv.virshOk(['destroy', A]);
    expectPristine();
  });

  it('a libvirtd restart (reconnect) keeps the running guest and its VFs; its destroy later restores the host', async () => {
    await ns.lv.virshOk(['start', A]);
    await ns.lv.restartLibvirtd();
    expect(await state(A)).toBe('running');
    expectHeld(A);
    expect((await ns.passthru(['status'])).stdout.split('\n')[0]).toBe(`${A} (${uuidOf(A)}): running`);
    await ns.lv.virshOk(['destroy', A]);
    expectPristine();
  });

  it('two domains started at once on one PF: both run on its VFs; the count stays until the last one stops', async () => {
    const [ra, rb] = await Promise.all([ns.lv.virsh(['start', A]), ns.lv.virsh(['start', B])]);
    expect([ra.code, ra.stderr]).toEqual([0, '']);
    expect([rb.code, rb.stderr]).toEqual([0, '']);
    expectHeld(A, B);
    await ns.lv.virshOk(['destroy', A]);
    expectHeld(B);
    await ns.lv.virshOk(['destroy', B]);
    expectPristine();
  });
});
