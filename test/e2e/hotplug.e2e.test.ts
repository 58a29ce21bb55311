// passthru attach / detach against a real libvirtd (private namespace) with a running domain. This
// machine has no IOMMU, so libvirt refuses every live PCI hot-plug: the test shows the host prepared
// (the GPU's audio peer bound to vfio-pci), libvirt's refusal in our one line, and the host restored.
// Also: a crash between the host's half and libvirt's, settled by recover; attach and detach of the
// persistent definition (libvirt accepts those here); a detach of a device the domain does not have.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2e, realHostUnsafe } from './libvirt-ns.js';
import { metadataDomain, startPassthruNs, type PassthruNs } from './passthru-ns.js';
import { stableUuid } from '../support/domains.js';
import { PASSTHRU_NS } from '../../src/xml/model.js';

const GPU = '0000:01:00.0'; // workstation: NVIDIA GPU on nouveau, group 3 with its audio function
const AUDIO = '0000:01:00.1';
const RUNNING = 'hp-run';
const OFF = 'hp-off';

await describeE2e('passthru attach / detach (real libvirtd)', 120_000, () => {
  let ns: PassthruNs;
  let running: string; // the simulated host with RUNNING's VFs
  beforeAll(async () => {
    // libvirt acts on the real host's sysfs: only addresses this machine lacks, no IOMMU groups
    const unsafe = realHostUnsafe([GPU, AUDIO]);
    if (unsafe) throw new Error(`refusing to hot-plug: ${unsafe}`);
    ns = await startPassthruNs();
    const meta = [`<passthru:pf dev='enp3s0f0' vfs='2'/>`];
    await ns.lv.virshOk(['define', ns.lv.file('run.xml', metadataDomain(RUNNING, stableUuid('hp:run'), meta))]);
    await ns.lv.virshOk(['define', ns.lv.file('off.xml', metadataDomain(OFF, stableUuid('hp:off'), []))]);
    await ns.lv.virshOk(['start', RUNNING]);
    running = ns.host.state();
  });
  afterAll(async () => {
    await ns?.stop();
  });

  it("attach to the running domain: host prepared, libvirt's refusal in one line, host restored", async () => {
    const journal = ns.host.journals();
    ns.host.clearLog();
    const r = await ns.passthru(['attach', RUNNING, '--add-hostdev', GPU]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(`^host prepared for ${GPU.replace('.', '\\.')} \\(\\d+ change\\(s\\) journaled\\)\\n$`),
    );
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^passthru: libvirt refused to attach ${GPU.replace('.', '\\.')} to '${RUNNING}': unsupported configuration: host doesn't support passthrough of host PCI devices; host restored$`,
      ),
    );
    // the peer went to vfio-pci, then back
    const peer = ns.host.writes().filter((w) => w.path.includes(AUDIO) && w.path.endsWith('driver_override'));
    expect(peer.map((w) => w.data.trim())).toEqual(['vfio-pci', '']);
    expect(ns.host.state()).toBe(running);
    expect(ns.host.journals()).toEqual(journal);
    expect((await ns.passthru(['status'])).stdout).not.toContain('hot-plugged');
  });

  it('a refusal of the planner (group held by another domain) changes nothing and never asks libvirt', async () => {
    const entry = '/etc/libvirt/hooks/qemu.d/passthru';
    const holder = metadataDomain('hp-holder', stableUuid('hp:holder'), []).replace(
      '    <memballoon',
      `    <hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/></source></hostdev>\n    <memballoon`,
    );
    const { hookEnv } = await import('../support/proc.js');
    expect(
      (await ns.lv.exec(entry, ['hp-holder', 'prepare', 'begin', '-'], { input: holder, env: hookEnv({}) })).code,
    ).toBe(0);
    try {
      const before = ns.host.state();
      ns.host.clearLog();
      const r = await ns.passthru(['attach', RUNNING, '--add-hostdev', GPU]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^passthru: refused: 0000:01:00\.0 (shares IOMMU group 3 with devices of|is used by) running domain 'hp-holder'\n$/,
      );
      expect(ns.host.writes()).toEqual([]);
      expect(ns.host.state()).toBe(before);
    } finally {
      await ns.lv.exec(entry, ['hp-holder', 'release', 'end', '-'], { input: holder, env: hookEnv({}) });
    }
    expect(ns.host.state()).toBe(running);
  });

  it('a crash between the host half and libvirt: status shows the hot-plug attaching; recover undoes it and leaves the running domain', async () => {
    const r = await ns.passthru(['attach', RUNNING, '--add-hostdev', GPU], {
      PASSTHRU_SIM_FAULTS: '{"killAfterWrite":1}',
    });
    expect(r.code).not.toBe(0);
    expect(ns.host.state()).not.toBe(running);
    const st = await ns.passthru(['status']);
    expect(st.stdout).toContain(`  hot-plugged:  ${GPU} (attaching)`);
    const rec = await ns.passthru(['recover', '--all']);
    expect([rec.code, rec.stderr]).toEqual([0, '']);
    expect(rec.stdout).toContain(`${RUNNING}: hot-plug of ${GPU} (attaching): not in the guest,`);
    expect(rec.stdout).toContain(`${RUNNING} (${stableUuid('hp:run')}): skipped, the domain is running`);
    expect(ns.host.state()).toBe(running);
    expect(ns.numVfs('0000:03:00.0')).toBe(2);
  });

  it('attach and detach of the definition of a shut-off domain: libvirt takes the device and our metadata; the host is untouched', async () => {
    const vf = '0000:03:10.0';
    const a = await ns.passthru(['attach', OFF, '--add-hostdev', GPU, '--add-vf', `${vf},trust=on,as=hostdev`]);
    expect([a.code, a.stderr]).toEqual([0, '']);
    expect(a.stdout).toBe(`attached ${GPU}, ${vf} to the definition of '${OFF}'\n`);
    const xml = await ns.lv.virshOk(['dumpxml', '--inactive', OFF]);
    expect(xml).toContain(`bus='0x01' slot='0x00' function='0x0'`);
    expect(xml).toContain(PASSTHRU_NS);
    expect(xml).toMatch(/<passthru:vf address=['"]0000:03:10\.0['"] trust=['"]on['"]\/>/);
    expect(ns.host.state()).toBe(running);
    const d = await ns.passthru(['detach', OFF, vf]);
    expect([d.code, d.stderr]).toEqual([0, '']);
    const d2 = await ns.passthru(['detach', OFF, '01:00']);
    expect([d2.code, d2.stderr]).toEqual([0, '']);
    const after = await ns.lv.virshOk(['dumpxml', '--inactive', OFF]);
    expect(after).not.toContain('<hostdev');
    expect(after).not.toContain(PASSTHRU_NS);
  });

  it('bad input: one line naming the value, exit 2, nothing changed', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['detach', RUNNING, GPU],
        new RegExp(`^passthru: domain '${RUNNING}' has no passthrough device '${GPU.replace('.', '\\.')}' running\\n$`),
      ],
      [['attach', 'no-such-domain', '--add-hostdev', GPU], /^passthru: domain 'no-such-domain': .*no-such-domain.*\n$/],
      [
        ['attach', OFF, '--live', '--add-hostdev', GPU],
        new RegExp(`^passthru: domain '${OFF}' is not running: --live needs a running domain \\(use --config\\)\\n$`),
      ],
      [['attach', RUNNING], /^passthru: attach needs at least one edit/],
      [
        ['detach', RUNNING, '../x'],
        /^passthru: detach: '\.\.\/x' is not a PCI address, a slot, an mdev UUID or a MAC\n$/,
      ],
    ];
    for (const [args, line] of cases) {
      const r = await ns.passthru(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(line);
    }
    expect(ns.host.state()).toBe(running);
  });
});
