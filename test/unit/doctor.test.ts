// passthru doctor: a pass and a fail (or warn) for every check, on simulated hosts changed one fact
// at a time; domain checks; the CLI's exit codes.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimKernel } from '../../src/sim/kernel.js';
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
import { runDoctor } from '../../src/doctor/run.js';
import { neededVfioModules } from '../../src/doctor/checks.js';
import { formatDoctor } from '../../src/doctor/format.js';
import { readKernelLog } from '../../src/doctor/kernel-log.js';
import { writeSimFile } from '../../src/sim/persist.js';
import { readDomainPassthrough } from '../../src/xml/domain-reader.js';
import type { SimHostState } from '../../src/sim/state.js';
import type { CheckStatus } from '../../src/doctor/types.js';

const host = (name: string, mut?: (h: SimHostState) => void) => {
  const h = structuredClone(EMBEDDED_FIXTURES[name]) as SimHostState;
  mut?.(h);
  return new SimKernel(hostFromFixture(h));
};
async function status(
  k: SimKernel,
  id: string,
  domainXml?: string,
): Promise<{ status: CheckStatus; detail: string; fix?: { debian: string; rhel: string } }> {
  const r = await runDoctor({
    sysfs: k,
    host: 'test',
    realRoot: false,
    ...(domainXml ? { domain: readDomainPassthrough(domainXml) } : {}),
  });
  const c = r.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}: ${r.checks.map((x) => x.id).join(', ')}`);
  return c;
}
const files = (h: SimHostState, f: Record<string, string>) => (h.files = { ...(h.files ?? {}), ...f });

describe('doctor host checks', () => {
  it('iommu-cmdline', async () => {
    expect((await status(host('workstation'), 'iommu-cmdline')).status).toBe('pass');
    const off = await status(
      host('workstation', (h) => (h.cmdline = 'root=/dev/sda1 intel_iommu=off')),
      'iommu-cmdline',
    );
    expect(off.status).toBe('fail');
    expect(off.detail).toContain('intel_iommu=off');
    // the fixes for each boot loader: test/unit/doctor-boot-fix.test.ts
    expect(off.fix!.debian).toMatch(
      /^# add 'intel_iommu=on iommu=pt' to the kernel command line .* and remove 'intel_iommu=off' from it/,
    );
    const none = await status(
      host('workstation', (h) => {
        h.cmdline = 'root=/dev/sda1';
        for (const d of h.devices) delete d.iommuGroup;
      }),
      'iommu-cmdline',
    );
    expect(none.status).toBe('fail');
    expect(
      (
        await status(
          host('workstation', (h) => (h.cmdline = 'root=/dev/sda1')),
          'iommu-cmdline',
        )
      ).status,
    ).toBe('pass'); // on by default: groups exist
  });

  it('iommu-groups', async () => {
    expect((await status(host('server'), 'iommu-groups')).status).toBe('pass');
    const r = await status(
      host('server', (h) => {
        for (const d of h.devices) delete d.iommuGroup;
      }),
      'iommu-groups',
    );
    expect(r.status).toBe('fail');
    expect(r.fix!.debian).toMatch(/VT-d/);
  });

  it('iommu-kernel-log', async () => {
    expect((await status(host('workstation'), 'iommu-kernel-log')).detail).toContain('DMAR: IOMMU enabled');
    expect(
      (
        await status(
          host('workstation', (h) => (h.dmesg = ['[0.0] Linux version 6.1'])),
          'iommu-kernel-log',
        )
      ).status,
    ).toBe('warn'); // groups exist: the boot lines may have left the ring buffer
    expect(
      (
        await status(
          host('workstation', (h) => {
            h.dmesg = ['[0.0] Linux version 6.1'];
            for (const d of h.devices) delete d.iommuGroup;
          }),
          'iommu-kernel-log',
        )
      ).status,
    ).toBe('fail');
    expect(
      (
        await status(
          host('workstation', (h) => delete h.dmesg),
          'iommu-kernel-log',
        )
      ).status,
    ).toBe('warn');
    expect(
      (
        await status(
          host('workstation', (h) => (h.dmesg = ['[0.1] AMD-Vi: Found IOMMU at 0000:00:00.2 cap 0x40'])),
          'iommu-kernel-log',
        )
      ).status,
    ).toBe('pass');
  });

  it('interrupt-remapping', async () => {
    expect((await status(host('workstation'), 'interrupt-remapping')).status).toBe('pass');
    const noIr = (h: SimHostState) => (h.dmesg = ['[0.02] DMAR: IOMMU enabled']);
    const f = await status(host('workstation', noIr), 'interrupt-remapping');
    expect(f.status).toBe('fail');
    expect(f.fix!.debian).toContain('allow_unsafe_interrupts=1');
    const w = await status(
      host('workstation', (h) => {
        noIr(h);
        files(h, { 'etc/modprobe.d/unsafe.conf': 'options vfio_iommu_type1 allow_unsafe_interrupts=1\n' });
      }),
      'interrupt-remapping',
    );
    expect(w.status).toBe('warn');
    expect(w.detail).toContain('etc/modprobe.d/unsafe.conf');
  });

  it('vfio-modules (vfio_virqfd only before 6.2)', async () => {
    expect(neededVfioModules('6.1.0-28-amd64')).toContain('vfio_virqfd');
    expect(neededVfioModules('6.2.0')).not.toContain('vfio_virqfd');
    expect(neededVfioModules('5.14.0-427.el9')).toContain('vfio_virqfd');
    expect((await status(host('workstation'), 'vfio-modules')).status).toBe('pass');
    expect(
      (
        await status(
          host('workstation', (h) => {
            h.kernel = '6.8.0-1-amd64';
            h.modules = h.modules.filter((m) => m !== 'vfio_virqfd');
          }),
          'vfio-modules',
        )
      ).status,
    ).toBe('pass');
    const drop = (h: SimHostState) => (h.modules = h.modules.filter((m) => m !== 'vfio_pci'));
    const f = await status(
      host('server', (h) => {
        drop(h);
        h.files = {};
      }),
      'vfio-modules',
    );
    expect(f.status).toBe('fail');
    expect(f.fix!.rhel).toContain('dracut -f');
    expect(f.fix!.debian).toContain('/etc/modules');
    expect((await status(host('workstation', drop), 'vfio-modules')).status).toBe('warn'); // in modules-load.d
  });

  it('dev-vfio', async () => {
    expect((await status(host('workstation'), 'dev-vfio')).status).toBe('pass');
    expect(
      (
        await status(
          host('workstation', (h) => (h.modules = h.modules.filter((m) => m !== 'vfio'))),
          'dev-vfio',
        )
      ).status,
    ).toBe('fail');
  });

  it('modprobe-config (ids= and blacklists in effect, initramfs reminder)', async () => {
    expect((await status(host('server'), 'modprobe-config')).status).toBe('pass');
    const w = await status(host('workstation'), 'modprobe-config');
    expect(w.status).toBe('warn');
    expect(w.detail).toContain('0000:01:00.0 (10de:1b80');
    expect(w.fix!.debian).toContain('update-initramfs -u -k all');
    const inEffect = (h: SimHostState) => {
      for (const d of h.devices) if (d.vendor === '10de') d.driver = 'vfio-pci';
    };
    expect((await status(host('workstation', inEffect), 'modprobe-config')).status).toBe('pass');
    // built like interrupt-remapping's warn case, deliberately: each check's test reads on its own
    const bl = await status(
      host('workstation', (h) => {
        inEffect(h);
        files(h, { 'etc/modprobe.d/bl.conf': 'blacklist nouveau\n' });
      }),
      'modprobe-config',
    );
    expect(bl.status).toBe('warn');
    expect(bl.detail).toContain('nouveau is blacklisted');
  });

  it('cgroup-device-acl', async () => {
    expect((await status(host('workstation'), 'cgroup-device-acl')).status).toBe('pass');
    expect((await status(host('server'), 'cgroup-device-acl')).status).toBe('pass');
    const f = await status(
      host('server', (h) =>
        files(h, { 'etc/libvirt/qemu.conf': 'cgroup_device_acl = [ "/dev/null", "/dev/vfio/vfio" ]\n' }),
      ),
      'cgroup-device-acl',
    );
    expect(f.status).toBe('fail');
    expect(f.detail).toContain('/dev/kvm');
    const w = await status(
      host('server', (h) =>
        files(h, {
          'etc/libvirt/qemu.conf':
            'cgroup_device_acl = ["/dev/null","/dev/full","/dev/zero","/dev/random","/dev/urandom","/dev/ptmx","/dev/kvm"]\n',
        }),
      ),
      'cgroup-device-acl',
    );
    expect(w.status).toBe('warn');
  });

  it('lsm-hooks (SELinux boolean, AppArmor)', async () => {
    expect((await status(host('server'), 'lsm-hooks')).status).toBe('pass');
    const se = (v: string) => (h: SimHostState) =>
      files(h, { 'sys/fs/selinux/enforce': '1', 'sys/fs/selinux/booleans/virt_hooks_unconfined': v });
    const f = await status(host('server', se('0 0')), 'lsm-hooks');
    expect(f.status).toBe('fail');
    expect(f.fix!.rhel).toBe('setsebool -P virt_hooks_unconfined on');
    expect((await status(host('server', se('1 1')), 'lsm-hooks')).status).toBe('pass');
    const aa = await status(
      host('workstation', (h) =>
        files(h, { 'sys/module/apparmor/parameters/enabled': 'Y\n', 'etc/apparmor.d/usr.sbin.libvirtd': '#profile\n' }),
      ),
      'lsm-hooks',
    );
    expect(aa.status).toBe('warn');
  });

  it('reads the kernel log through dmesg, then journalctl, on the real root only', async () => {
    const k = host('workstation', (h) => delete h.dmesg);
    const calls: string[] = [];
    const log = await readKernelLog(k, true, async (cmd) => {
      calls.push(cmd);
      return cmd === 'dmesg' ? { ok: false, stdout: '' } : { ok: true, stdout: 'DMAR: IOMMU enabled\n' };
    });
    expect(calls).toEqual(['dmesg', 'journalctl']);
    expect(log.source).toMatch(/^journalctl -k -b/);
    expect((await readKernelLog(k, false, async () => ({ ok: true, stdout: 'x' }))).text).toBeUndefined();
  });

  it('prints the fix of the detected family, or both', async () => {
    const r = await runDoctor({
      sysfs: host('workstation', (h) => (h.modules = h.modules.filter((m) => m !== 'vfio_pci' && m !== 'vfio'))),
      host: 't',
      realRoot: false,
    });
    expect(formatDoctor(r)).toMatch(/fix \(Debian\/Proxmox\): .*\n {6}fix \(RHEL\): /);
    const deb = await runDoctor({
      sysfs: host('workstation', (h) => {
        files(h, { 'etc/os-release': 'ID=debian\n' });
        h.modules = h.modules.filter((m) => m !== 'vfio');
      }),
      host: 't',
      realRoot: false,
    });
    expect(deb.family).toBe('debian');
    expect(formatDoctor(deb)).not.toContain('fix (RHEL)');
  });
});

const NS = "xmlns:passthru='https://passthru.dev/xmlns/domain/1'";
const hd = (bus: string, slot: string, fn: string, managed = 'yes') =>
  `<hostdev mode='subsystem' type='pci' managed='${managed}'><source><address domain='0x0000' bus='0x${bus}' slot='0x${slot}' function='0x${fn}'/></source></hostdev>`;
const dom = (devices: string, meta = '') =>
  `<domain type='kvm'><name>vm1</name>${meta ? `<metadata><passthru:devices ${NS}>${meta}</passthru:devices></metadata>` : ''}<devices>${devices}</devices></domain>`;
const U = '11111111-2222-3333-4444-555555555555';
const mdevHd = `<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='${U}'/></source></hostdev>`;

describe('doctor --domain checks', () => {
  it('hostdev: missing, protected, peers to bind, viable', async () => {
    const k = host('workstation');
    const missing = await status(k, 'domain-device:0000:01:00.7', dom(hd('01', '00', '7')));
    expect(missing.status).toBe('fail');
    expect(missing.detail).toContain('on that bus: 0000:01:00.0, 0000:01:00.1');
    expect((await status(k, 'domain-device:0000:02:00.0', dom(hd('02', '00', '0')))).detail).toContain(
      "the root file system's disk depends on it",
    );
    expect((await status(k, 'domain-device:0000:00:1f.3', dom(hd('00', '1f', '3')))).status).toBe('fail');
    const peers = await status(k, 'domain-device:0000:01:00.0', dom(hd('01', '00', '0')));
    expect(peers.status).toBe('warn');
    expect(peers.detail).toContain('binds 0000:01:00.1 (snd_hda_intel)');
    expect((await status(k, 'domain-device:0000:01:00.0', dom(hd('01', '00', '0') + hd('01', '00', '1')))).status).toBe(
      'pass',
    );
    expect((await status(k, 'domain-device:0000:04:00.0', dom(hd('04', '00', '0')))).detail).toContain('group viable'); // the bridge peer stays
    expect((await status(k, 'domain-device:0000:00:1c.0', dom(hd('00', '1c', '0')))).detail).toContain('PCI bridge');
  });

  it('mdev: exists, will be created, none left, unknown type, no metadata', async () => {
    const meta = (type: string) => `<passthru:mdev uuid='${U}' type='${type}' parent='0000:00:02.0'/>`;
    const id = `domain-mdev:${U}`;
    expect((await status(host('workstation'), id, dom(mdevHd, meta('i915-GVTg_V5_4')))).status).toBe('pass');
    // the iGPU's types share one pool (graphics memory): 64 MB left fits no GVTg_V5_4 (128 MB)
    const none = await status(
      host('workstation', (h) => (h.devices.find((d) => d.address === '0000:00:02.0')!.mdevCapacity = 64)),
      id,
      dom(mdevHd, meta('i915-GVTg_V5_4')),
    );
    expect(none.status).toBe('fail');
    expect(none.detail).toContain('no instances of i915-GVTg_V5_4 left');
    expect((await status(host('workstation'), id, dom(mdevHd, meta('nvidia-222')))).detail).toContain(
      'types here: i915-GVTg_V5_4, i915-GVTg_V5_8',
    );
    expect((await status(host('workstation'), id, dom(mdevHd))).status).toBe('fail');
    const k = host('workstation');
    await k.write('sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_8/create', U);
    expect((await status(k, id, dom(mdevHd))).detail).toContain('exists: type i915-GVTg_V5_8');
  });

  it('PF: enough VFs, too many asked, not SR-IOV', async () => {
    const k = host('workstation');
    expect((await status(k, 'domain-pf:enp3s0f0', dom('', "<passthru:pf dev='enp3s0f0' vfs='4'/>"))).status).toBe(
      'pass',
    );
    expect((await status(k, 'domain-pf:enp3s0f0', dom('', "<passthru:pf dev='enp3s0f0' vfs='8'/>"))).detail).toContain(
      'has not enough VFs: 8 needed, at most 7',
    );
    expect((await status(k, 'domain-pf:eno1', dom('', "<passthru:pf dev='eno1' vfs='1'/>"))).detail).toContain(
      'does not support SR-IOV',
    );
  });
});

describe('doctor CLI', () => {
  const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'passthru.js');
  it('exits 0 without failures, 1 with, 2 on an unreadable or bad domain file', () => {
    expect(existsSync(cli)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'passthru-doctor-'));
    const file = join(dir, 'host.json');
    writeSimFile(file, hostFromFixture(structuredClone(EMBEDDED_FIXTURES.server) as SimHostState));
    const env = { ...process.env, PASSTHRU_SIM: file };
    const ok = spawnSync(process.execPath, [cli, 'doctor', '--json'], { env, encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).summary.fail).toBe(0);
    writeFileSync(join(dir, 'd.xml'), dom(hd('09', '00', '0')));
    const bad = spawnSync(process.execPath, [cli, 'doctor', '--domain', join(dir, 'd.xml')], { env, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/FAIL {2}hostdev 0000:09:00.0: 0000:09:00.0 does not exist/);
    const missing = spawnSync(process.execPath, [cli, 'doctor', '--domain', join(dir, 'nope.xml')], {
      env,
      encoding: 'utf8',
    });
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toMatch(/cannot read domain XML '.*nope.xml': ENOENT$/);
    writeFileSync(join(dir, 'bad.xml'), '<domain><name>x</name');
    const broken = spawnSync(process.execPath, [cli, 'doctor', '--domain', join(dir, 'bad.xml')], {
      env,
      encoding: 'utf8',
    });
    expect(broken.status).toBe(2);
    expect(broken.stdout).toBe('');
  });
});
