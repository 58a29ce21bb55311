// Our hook under a real libvirtd (private namespace), backed by a simulated workstation host
// (PASSTHRU_SIM): installed with the real `passthru install`, run by libvirtd on `virsh start` and
// `virsh destroy`. This machine has no IOMMU, so a domain with a PCI hostdev never really starts:
// libvirt fails it after our prepare, which is exactly the failed-start path release must undo.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeE2e, NsLibvirt, smallDomain, pciHostdev, realHostUnsafe } from './libvirt-ns.js';
import { SimHost } from '../support/simhost.js';
import { dist, nodeBin, repoRoot } from '../support/paths.js';
import { hookEnv, type RunResult } from '../support/proc.js';
import { domainXml, stableUuid } from '../support/domains.js';
import { shellQuote } from '../../src/hook/entry-template.js';

const GPU = '0000:01:00.0'; // workstation fixture: NVIDIA GPU, group 3, on nouveau
const AUDIO = '0000:01:00.1'; // its audio function, same group, on snd_hda_intel
const IGPU = '0000:00:02.0'; // Intel iGPU with GVT-g mdev types (the real 00:02.0 is never a libvirt target here)
const PF = '0000:03:00.0'; // igb PF enp3s0f0, no VFs yet
const VF0 = '0000:03:10.0'; // its first VF once created (offset 128)

// a busy CI machine slows libvirtd restarts and qemu starts: generous bounds, each wait still bounded
await describeE2e('passthru hook under a real libvirtd', 90_000, () => {
  let lv: NsLibvirt;
  let host: SimHost;
  let install: RunResult;
  let entry: string; // the installed entry, path inside the namespace
  let nodeCalls: string; // what our node wrapper recorded
  let hookCalls: string; // what a recording qemu.d script (10-rec) saw libvirt call
  let pristine: string; // the simulated host before any domain

  const readLines = (p: string): string[] => (existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter(Boolean) : []);
  const clearRecords = (): void => {
    writeFileSync(nodeCalls, '');
    writeFileSync(hookCalls, '');
  };

  beforeAll(async () => {
    // every hostdev domain below would fail at libvirt's checks, never reaching a real device
    const unsafe = realHostUnsafe([GPU, AUDIO, VF0]);
    if (unsafe) throw new Error(`refusing to start hostdev domains: ${unsafe}`);
    lv = await NsLibvirt.start(); // no hook at all when libvirtd starts
    host = await SimHost.create('workstation');
    pristine = host.state();
    nodeCalls = join(lv.work, 'node-calls');
    hookCalls = join(lv.work, 'hook-calls');
    // the real CLI, run inside the namespace with libvirtd's kind of environment: installs into the
    // namespace's /etc/libvirt/hooks/qemu.d
    install = await lv.exec(nodeBin, [dist.passthru, 'install', '--sim', host.file, '--state-dir', host.stateDir], {
      env: hookEnv({}),
    });
    entry = '/etc/libvirt/hooks/qemu.d/passthru';
    if (install.code === 0) {
      // evidence of when node runs: the installed entry's node is swapped for a wrapper that records
      // its argv and then runs the same node
      const wrapper = join(lv.work, 'node-wrapper');
      writeFileSync(
        wrapper,
        `#!/bin/sh\nprintf '%s\\n' "$*" >>${shellQuote(nodeCalls)}\nexec ${shellQuote(nodeBin)} "$@"\n`,
      );
      chmodSync(wrapper, 0o755);
      const installed = lv.hostPath(entry);
      const text = readFileSync(installed, 'utf8');
      writeFileSync(
        installed,
        text.replace(
          `${shellQuote(nodeBin)} ${shellQuote(dist.hook)}`,
          `${shellQuote(wrapper)} ${shellQuote(dist.hook)}`,
        ),
      );
      // and a recorder beside it, proving libvirt did call the hooks each time
      const rec = lv.hostPath('/etc/libvirt/hooks/qemu.d/10-rec');
      writeFileSync(rec, `#!/bin/sh\nprintf '%s\\n' "$*" >>${shellQuote(hookCalls)}\ncat >/dev/null\nexit 0\n`);
      chmodSync(rec, 0o755);
    }
    await lv.virshOk(['define', lv.file('plain.xml', smallDomain('e2e-plain'))]);
    await lv.virshOk(['define', lv.file('gpu.xml', smallDomain('e2e-gpu', pciHostdev(GPU), stableUuid('e2e-gpu')))]);
  });

  afterAll(async () => {
    await lv?.stop();
    host?.cleanup();
  });

  // libvirtd restarted after the install (by the first test; later tests make sure of it)
  let restarted = false;
  const ensureRestarted = async (): Promise<void> => {
    if (!restarted) await lv.restartLibvirtd();
    restarted = true;
  };

  it('passthru install into the namespace qemu.d says libvirtd must restart; before the restart the hook never runs, after it it does', async () => {
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain(`installed ${entry}`);
    expect(install.stdout).toMatch(/restart libvirtd/);
    const text = readFileSync(lv.hostPath(entry), 'utf8');
    expect(text).toContain(`PASSTHRU_SIM=${shellQuote(host.file)}`);
    expect(text).toContain(`PASSTHRU_STATE_DIR=${shellQuote(host.stateDir)}`);
    // libvirtd started with no hook: it does not see ours yet
    clearRecords();
    const before = await lv.virsh(['start', 'e2e-gpu']);
    expect(before.code).not.toBe(0);
    expect(readLines(hookCalls)).toEqual([]);
    expect(readLines(nodeCalls)).toEqual([]);
    await ensureRestarted();
    const after = await lv.virsh(['start', 'e2e-gpu']);
    expect(after.code).not.toBe(0);
    expect(readLines(nodeCalls).map((l) => l.split(' ').slice(1).join(' '))).toEqual([
      'e2e-gpu prepare begin -',
      'e2e-gpu release end -',
    ]);
    expect(host.state()).toBe(pristine);
  });

  it('a small KVM domain without passthrough starts and stops; libvirt runs the hook each time and node never starts', async () => {
    await ensureRestarted();
    clearRecords();
    await lv.virshOk(['start', 'e2e-plain']);
    expect((await lv.virshOk(['domstate', 'e2e-plain'])).trim()).toBe('running');
    await lv.virshOk(['destroy', 'e2e-plain']);
    expect(readLines(hookCalls)).toEqual(
      ['prepare begin -', 'start begin -', 'started begin -', 'stopped end -', 'release end -'].map(
        (o) => `e2e-plain ${o}`,
      ),
    );
    expect(readLines(nodeCalls)).toEqual([]);
    expect(host.state()).toBe(pristine);
  });

  it("a hostdev whose group peer is on a host driver: prepare binds the peer, libvirt's failed start runs release, and the host is exactly as before", async () => {
    await ensureRestarted();
    clearRecords();
    host.clearLog();
    const r = await lv.virsh(['start', 'e2e-gpu']);
    expect(r.code).not.toBe(0);
    // the failure is libvirt's own (no IOMMU here), after our prepare succeeded
    expect(r.stderr).toMatch(/host doesn't support passthrough of host PCI devices/);
    expect(r.stderr).not.toMatch(/passthru:/);
    expect(readLines(hookCalls)).toEqual(
      ['prepare begin -', 'stopped end -', 'release end -'].map((o) => `e2e-gpu ${o}`),
    );
    // node ran for prepare and for release (the entry skips `stopped`)
    expect(readLines(nodeCalls).map((l) => l.split(' ').slice(1).join(' '))).toEqual([
      'e2e-gpu prepare begin -',
      'e2e-gpu release end -',
    ]);
    // prepare acted: the audio peer went to vfio-pci via driver_override; release undid it
    const writes = host.writes();
    const peer = writes.filter((w) => w.path.includes(AUDIO));
    expect(peer.some((w) => w.path.endsWith('driver_override') && w.data.trim() === 'vfio-pci')).toBe(true);
    const bindAt = writes.findIndex(
      (w) => w.path.includes(AUDIO) && w.path.endsWith('driver_override') && w.data.trim() === 'vfio-pci',
    );
    const restoreAt = writes.findIndex(
      (w, i) =>
        i > bindAt && w.path.includes(AUDIO) && w.path.endsWith('driver_override') && w.data.trim() !== 'vfio-pci',
    );
    expect(restoreAt).toBeGreaterThan(bindAt);
    // the assigned device itself (managed='yes') is left to libvirt
    expect(writes.some((w) => w.path.includes(GPU))).toBe(false);
    expect(host.state()).toBe(pristine);
    expect(host.journals()).toEqual([]);
  });

  it('a group already used by another running domain: prepare refuses, virsh start shows our line, nothing changes', async () => {
    await ensureRestarted();
    // another domain holds group 3 (the audio function): its prepare, run as libvirtd would run it
    const holderXml = smallDomain('e2e-holder', pciHostdev(AUDIO), stableUuid('e2e-holder'));
    const held = await lv.exec(entry, ['e2e-holder', 'prepare', 'begin', '-'], { input: holderXml, env: hookEnv({}) });
    expect(held.code, held.stderr).toBe(0);
    expect(host.journals()).toEqual([`${stableUuid('e2e-holder')}.json`]);
    try {
      const before = host.state();
      const journal = readFileSync(join(host.stateDir, host.journals()[0]!), 'utf8');
      host.clearLog();
      clearRecords();
      const r = await lv.virsh(['start', 'e2e-gpu']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/Hook script execution failed/);
      expect(r.stderr).toMatch(
        new RegExp(
          `passthru: prepare of 'e2e-gpu': refused: ${GPU.replace(/\./g, '\\.')} (shares IOMMU group 3 with devices of|is used by) running domain 'e2e-holder'`,
        ),
      );
      expect(readLines(hookCalls)).toEqual(
        ['prepare begin -', 'stopped end -', 'release end -'].map((o) => `e2e-gpu ${o}`),
      );
      expect(host.writes()).toEqual([]);
      expect(host.state()).toBe(before);
      expect(host.journals()).toEqual([`${stableUuid('e2e-holder')}.json`]);
      expect(readFileSync(join(host.stateDir, host.journals()[0]!), 'utf8')).toBe(journal);
    } finally {
      const released = await lv.exec(entry, ['e2e-holder', 'release', 'end', '-'], {
        input: holderXml,
        env: hookEnv({}),
      });
      expect(released.code, released.stderr).toBe(0);
    }
    expect(host.state()).toBe(pristine);
    expect(host.journals()).toEqual([]);
  });

  it('a PCI bridge as a hostdev: virsh start shows the golden refusal line, nothing changes', async () => {
    // the verdict suite's case (test/sim/verdict.test.ts), through a real libvirtd
    const BRIDGE = '0000:00:1c.0'; // workstation fixture: a PCIe root port
    const unsafe = realHostUnsafe([BRIDGE]);
    if (unsafe) throw new Error(`refusing to start a hostdev domain: ${unsafe}`);
    await ensureRestarted();
    await lv.virshOk([
      'define',
      lv.file('bridge.xml', smallDomain('e2e-bridge', pciHostdev(BRIDGE), stableUuid('e2e-bridge'))),
    ]);
    const line = readFileSync(join(repoRoot, 'test', 'golden', 'refusals', 'bridge-hostdev.err'), 'utf8').trim();
    const before = host.state();
    host.clearLog();
    clearRecords();
    const r = await lv.virsh(['start', 'e2e-bridge']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`passthru: prepare of 'e2e-bridge': ${line}`);
    expect(readLines(hookCalls)).toEqual(
      ['prepare begin -', 'stopped end -', 'release end -'].map((o) => `e2e-bridge ${o}`),
    );
    expect(host.writes()).toEqual([]);
    expect(host.state()).toBe(before);
    expect(host.journals()).toEqual([]);
  });

  it("mdev, VF count and VF settings from our metadata: created and set at prepare, all undone by the failed start's release", async () => {
    await ensureRestarted();
    const spec = {
      name: 'e2e-mdev-vf',
      mdevs: [{ uuid: stableUuid('e2e-mdev-vf:mdev'), type: 'i915-GVTg_V5_4', parent: IGPU }],
      pfs: [{ dev: 'enp3s0f0', vfs: 2 }],
      hostdevs: [{ address: VF0, managed: true }],
      vfs: [{ address: VF0, mac: '52:54:00:e2:e0:10', vlan: 42, trust: true, spoofchk: false }],
    };
    await lv.virshOk(['define', lv.file('mdev-vf.xml', domainXml(spec))]);
    clearRecords();
    host.clearLog();
    const r = await lv.virsh(['start', spec.name]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(/passthru:/); // libvirt's own failure (no IOMMU, no such mdev on the real host)
    expect(readLines(nodeCalls).map((l) => l.split(' ').slice(1).join(' '))).toEqual([
      `${spec.name} prepare begin -`,
      `${spec.name} release end -`,
    ]);
    const writes = host.writes();
    // prepare's changes, then release undoing them in reverse order
    const uuid = spec.mdevs[0]!.uuid;
    const create = `sys/class/mdev_bus/${IGPU}/mdev_supported_types/i915-GVTg_V5_4/create`;
    expect(writes.map((w) => w.path)).toEqual([
      `sys/bus/pci/devices/${PF}/sriov_numvfs`,
      create,
      'ip link set dev enp3s0f0 vf 0',
      'ip link set dev enp3s0f0 vf 0',
      `sys/bus/mdev/devices/${uuid}/remove`,
      `sys/bus/pci/devices/${PF}/sriov_numvfs`,
    ]);
    expect(writes[0]!.data.trim()).toBe('2');
    expect(writes[1]!.data.trim()).toBe(uuid);
    for (const part of ['mac 52:54:00:e2:e0:10', 'trust true', 'spoofchk false', 'vlan 42'])
      expect(writes[2]!.data).toContain(part);
    expect(writes[3]!.data).not.toMatch(/52:54:00:e2:e0:10/);
    expect(writes[5]!.data.trim()).toBe('0');
    expect(host.state()).toBe(pristine);
    expect(host.journals()).toEqual([]);
  });

  it('passthru install --uninstall takes our entry out of the running setup: the next start runs only the other hook', async () => {
    await ensureRestarted();
    const r = await lv.exec(nodeBin, [dist.passthru, 'install', '--uninstall'], { env: hookEnv({}) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`removed ${entry}`);
    expect(readdirSync(lv.hostPath('/etc/libvirt/hooks/qemu.d'))).toEqual(['10-rec']);
    clearRecords();
    host.clearLog();
    const start = await lv.virsh(['start', 'e2e-gpu']);
    expect(start.code).not.toBe(0);
    expect(start.stderr).toMatch(/host doesn't support passthrough of host PCI devices/);
    expect(readLines(hookCalls)).toEqual(
      ['prepare begin -', 'stopped end -', 'release end -'].map((o) => `e2e-gpu ${o}`),
    );
    expect(readLines(nodeCalls)).toEqual([]);
    expect(host.writes()).toEqual([]);
    expect(host.state()).toBe(pristine);
  });
});
