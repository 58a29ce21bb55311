// passthru attach / detach on the simulated host, with libvirt's test driver as the domain's libvirt
// (a real libvirt that runs the domain but implements no hot-plug: every live attach is refused).
// The planner's refusals change nothing; --dry-run prints the plan; libvirt's refusal undoes the host;
// a kill between the halves leaves an 'attaching' entry that the domain's release, and detach, undo.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimHost } from '../support/simhost.js';
import { domainXml, stableUuid, type DomainSpec } from '../support/domains.js';

const GPU = '0000:01:00.0';
const AUDIO = '0000:01:00.1';
const VM = 'hp-sim';
const UUID = stableUuid('hotplug-sim');

describe('passthru attach / detach (simulated host, libvirt test driver)', () => {
  let base: SimHost;
  let pristine: string;
  let uri: string;
  beforeAll(async () => {
    base = await SimHost.create('workstation');
    pristine = base.state();
    const node = join(base.dir, 'node.xml');
    writeFileSync(
      node,
      `<node>\n  <domain type='test'>\n    <name>${VM}</name>\n    <uuid>${UUID}</uuid>\n    <memory>65536</memory>\n    <os><type>hvm</type></os>\n    <devices/>\n  </domain>\n</node>\n`,
    );
    uri = `test://${node}`;
  });
  afterAll(() => base?.cleanup());

  it('--dry-run prints the plan (the audio peer to vfio-pci) and the device XML; nothing changes', async () => {
    await base.withCopy(async (h) => {
      const r = await h.passthru(['attach', VM, '-c', uri, '--add-hostdev', GPU, '--dry-run']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toContain(`bind-vfio ${AUDIO}`);
      expect(r.stdout).toContain('devices then virsh attach-device:');
      expect(r.stdout).toContain(`<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>`);
      expect(h.state()).toBe(pristine);
      expect(h.journals()).toEqual([]);
    });
  });

  it("libvirt refuses the live attach: the host is prepared, then restored, and libvirt's reason is our line", async () => {
    await base.withCopy(async (h) => {
      const r = await h.passthru(['attach', VM, '-c', uri, '--add-hostdev', GPU]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^host prepared for 0000:01:00\.0 \(1 change\(s\) journaled\)\n$/);
      expect(r.stderr).toBe(
        `passthru: libvirt refused to attach ${GPU} to '${VM}': this function is not supported by the connection driver: virDomainAttachDeviceFlags; host restored\n`,
      );
      expect(
        h
          .writes()
          .filter((w) => w.path.endsWith('driver_override'))
          .map((w) => w.data.trim()),
      ).toEqual(['vfio-pci', '']);
      expect(h.state()).toBe(pristine);
      expect(h.journals()).toEqual([]);
    });
  });

  it('refuses as prepare does (group held by a running domain, device missing), changing nothing', async () => {
    const h = base.copy();
    const holder: DomainSpec = { name: 'hp-holder', hostdevs: [{ address: AUDIO }] };
    try {
      expect((await h.hook(holder.name, 'prepare', domainXml(holder))).code).toBe(0);
      const held = h.state();
      h.clearLog();
      const r = await h.passthru(['attach', VM, '-c', uri, '--add-hostdev', GPU]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^passthru: refused: 0000:01:00\.0 (shares IOMMU group 3 with devices of|is used by) running domain 'hp-holder'\n$/,
      );
      const missing = await h.passthru(['attach', VM, '-c', uri, '--add-hostdev', '0000:0a:00.0']);
      expect([missing.code, missing.stderr]).toEqual([1, 'passthru: refused: 0000:0a:00.0 not found on this host\n']);
      expect(h.writes()).toEqual([]);
      expect(h.state()).toBe(held);
    } finally {
      h.cleanup();
    }
  });

  it("a kill between the halves: the domain's release undoes attach's steps with its own", async () => {
    await base.withCopy(async (h) => {
      const own: DomainSpec = { name: VM, uuid: UUID, pfs: [{ dev: 'enp3s0f0', vfs: 2 }] };
      expect((await h.hook(VM, 'prepare', domainXml(own))).code).toBe(0);
      const r = await h.passthru(['attach', VM, '-c', uri, '--add-hostdev', GPU], {
        env: { PASSTHRU_SIM_FAULTS: '{"killAfterWrite":1}' },
      });
      expect(r.code).not.toBe(0);
      const st = JSON.parse((await h.passthru(['status', '--json', '-c', uri])).stdout) as {
        domains: { hotplugged: { devices: string[]; state: string }[]; holds: { devices: string[] } }[];
      };
      expect(st.domains[0]!.hotplugged).toEqual([{ devices: [GPU], state: 'attaching' }]);
      expect(st.domains[0]!.holds.devices).toEqual([GPU, AUDIO]);
      // the XML libvirt gives release names no hostdev: the journal decides
      const rel = await h.hook(VM, 'release', domainXml(own));
      expect([rel.code, rel.stderr]).toEqual([0, '']);
      expect(h.state()).toBe(pristine);
      expect(h.journals()).toEqual([]);
    });
  });

  it('detach of a hot-plug libvirt no longer has undoes only its steps; the domain keeps the rest', async () => {
    await base.withCopy(async (h) => {
      const own: DomainSpec = { name: VM, uuid: UUID, pfs: [{ dev: 'enp3s0f0', vfs: 2 }] };
      expect((await h.hook(VM, 'prepare', domainXml(own))).code).toBe(0);
      const withVfs = h.state();
      await h.passthru(['attach', VM, '-c', uri, '--add-hostdev', GPU], {
        env: { PASSTHRU_SIM_FAULTS: '{"killAfterWrite":2}' },
      });
      expect(h.state()).not.toBe(withVfs);
      const d = await h.passthru(['detach', VM, '01:00', '-c', uri]);
      expect([d.code, d.stderr]).toEqual([0, '']);
      expect(d.stdout).toMatch(/^detached 0000:01:00\.0 from 'hp-sim': \d+ change\(s\) undone\n$/);
      expect(h.state()).toBe(withVfs);
      expect(h.journals()).toEqual([`${UUID}.json`]);
      expect((await h.hook(VM, 'release', domainXml(own))).code).toBe(0);
      expect(h.state()).toBe(pristine);
    });
  });
});
