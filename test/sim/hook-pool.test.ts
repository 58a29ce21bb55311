// A VF that libvirt picks from a hostdev network pool: the hook finds it by the interface's MAC at
// `start begin` (libvirt has allocated it and set its MAC by then) and applies its metadata
// settings; release undoes them with the rest. The pool network XML is a real file under PASSTHRU_ROOT.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimHost } from '../support/simhost.js';
import { SimKernel } from '../../src/sim/kernel.js';

const MAC = '52:54:00:4e:01:77';
const NS = 'https://passthru.dev/xmlns/domain/1';
const xml = `<domain type='kvm'>
  <name>pool-user</name>
  <uuid>7b0c3d2e-1f4a-4b5c-9d6e-8f7a6b5c4d3e</uuid>
  <metadata>
    <passthru:devices xmlns:passthru='${NS}'>
      <passthru:pf dev='enp3s0f0' vfs='2'/>
      <passthru:vf mac='${MAC}' trust='on' spoofchk='off' state='enable'/>
    </passthru:devices>
  </metadata>
  <memory unit='KiB'>65536</memory>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
  </os>
  <devices>
    <interface type='network'>
      <mac address='${MAC}'/>
      <source network='pool'/>
    </interface>
  </devices>
</domain>
`;

let h: SimHost;
let root: string;
beforeEach(async () => {
  h = await SimHost.create('workstation');
  root = join(h.dir, 'root');
  mkdirSync(join(root, 'etc/libvirt/qemu/networks'), { recursive: true });
  writeFileSync(
    join(root, 'etc/libvirt/qemu/networks/pool.xml'),
    `<network>\n  <name>pool</name>\n  <forward mode='hostdev' managed='yes'>\n    <pf dev='enp3s0f0'/>\n  </forward>\n</network>\n`,
  );
});
afterEach(() => h.cleanup());

describe('pool VFs at start begin', () => {
  it('applies the settings of the VF libvirt picked (found by MAC) and release restores the host', async () => {
    const start = h.state();
    const env = { env: { PASSTHRU_ROOT: root } };
    const p = await h.hook('pool-user', 'prepare', xml, env);
    expect([p.code, p.stderr]).toEqual([0, '']);
    // what libvirt does between prepare and start begin: allocate VF 1 and give it the interface's MAC
    await SimKernel.load(h.file, {}).setVf('enp3s0f0', 1, { mac: MAC });
    const s = await h.hook('pool-user', 'start', xml, env);
    expect([s.code, s.stderr]).toEqual([0, '']);
    const vf = (await SimKernel.load(h.file, {}).listVfs('enp3s0f0'))[1]!;
    expect(vf).toMatchObject({ mac: MAC, trust: true, spoofchk: false, state: 'enable' });
    const st = JSON.parse((await h.passthru(['status', '--json'])).stdout) as {
      domains: { holds: { devices: string[] }; actions: { id: string }[] }[];
    };
    expect(st.domains[0]!.actions.map((a) => a.id)).toEqual(['sriov-numvfs 0000:03:00.0', 'vf-settings 0000:03:10.4']);
    expect(st.domains[0]!.holds.devices).toEqual(['0000:03:10.4']);
    const r = await h.hook('pool-user', 'release', xml, env);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(h.state()).toBe(start);
  });

  it('fails the start with one line when no VF of the pool has the MAC, and release still restores', async () => {
    const start = h.state();
    const env = { env: { PASSTHRU_ROOT: root } };
    expect((await h.hook('pool-user', 'prepare', xml, env)).code).toBe(0);
    const s = await h.hook('pool-user', 'start', xml, env);
    expect(s.code).toBe(1);
    expect(s.stderr).toBe(
      `passthru: start of 'pool-user': refused: VF with MAC ${MAC} not found among the VFs of pool 'pool' (0000:03:00.0)\n`,
    );
    expect((await h.hook('pool-user', 'release', xml, env)).code).toBe(0);
    expect(h.state()).toBe(start);
  });
});
