// doctor's IOMMU fixes are commands people paste: one command for the host at hand (CPU vendor from
// /proc/cpuinfo, boot loader from the files under the root). Each fix is pasted for real: its file
// edits run on a scratch copy of the files they name, the result is read the way GRUB's scripts read
// it (sourced by sh), and what remains must be exactly the apply step and `reboot`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sedReplaceLine } from '../../src/doctor/boot-cmdline.js';
import { runDoctor } from '../../src/doctor/run.js';
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
import { SimKernel } from '../../src/sim/kernel.js';
import type { SimHostState } from '../../src/sim/state.js';

const INTEL = 'processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n';
const AMD = 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n';
const DEBIAN_GRUB =
  '# If you change this file, run update-grub afterwards\nGRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n';
const TOOL = '#!/bin/sh\n';

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'passthru-bootfix-'));
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

interface Host {
  cpu?: string;
  cmdline: string;
  groups: boolean;
  files: Record<string, string>;
  dmesg?: string[];
}

/** The doctor's checks on a simulated workstation changed to `h`. */
async function doctor(h: Host) {
  const state = structuredClone(EMBEDDED_FIXTURES.workstation) as SimHostState;
  state.cmdline = h.cmdline;
  if (!h.groups) for (const d of state.devices) delete d.iommuGroup;
  state.dmesg = h.dmesg ?? ['[    0.000000] Linux version 6.1.0-28-amd64'];
  state.files = { ...(state.files ?? {}), ...h.files, ...(h.cpu ? { 'proc/cpuinfo': h.cpu } : {}) };
  const r = await runDoctor({ sysfs: new SimKernel(hostFromFixture(state)), host: 'test', realRoot: false });
  return Object.fromEntries(r.checks.map((c) => [c.id, c]));
}

/** The fix as a terminal shows it (one command: the family does not change it). */
function fixOf(c: { fix?: { debian: string; rhel: string } } | undefined): string {
  expect(c?.fix).toBeDefined();
  expect(c!.fix!.debian).toBe(c!.fix!.rhel);
  return c!.fix!.debian;
}

/**
 * Pastes `fix` against copies of `files` under the scratch dir: runs its file edits (sed -i, echo >>)
 * there; returns the steps it did not run (the apply step and reboot).
 */
function paste(fix: string, files: Record<string, string>): string[] {
  execFileSync('sh', ['-n', '-c', fix]); // it parses as shell
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(scratch, p)), { recursive: true });
    writeFileSync(join(scratch, p), text);
  }
  const command = fix.replace(/ {3}# .*$/, '');
  const rest: string[] = [];
  for (const step of command.split(' && ')) {
    if (/^(sed -i |echo )/.test(step)) execFileSync('sh', ['-c', step.replaceAll(' /etc/', ` ${scratch}/etc/`)]);
    else rest.push(step);
  }
  return rest;
}

/** GRUB_CMDLINE_LINUX and _DEFAULT as grub-mkconfig sees them: /etc/default/grub, then grub.d/*.cfg, sourced. */
function grubCmdline(): { linux: string; dflt: string } {
  const out = execFileSync(
    'sh',
    [
      '-c',
      '. ./etc/default/grub; for f in ./etc/default/grub.d/*.cfg; do [ -e "$f" ] && . "$f"; done; printf "%s\\n%s\\n" "$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT"',
    ],
    { cwd: scratch, encoding: 'utf8' },
  ).split('\n');
  return { linux: out[0]!, dflt: out[1]! };
}

const debianGrub = (grub = DEBIAN_GRUB, more: Record<string, string> = {}) => ({
  'etc/default/grub': grub,
  'usr/sbin/update-grub': TOOL,
  ...more,
});

describe('IOMMU fixes for the host at hand, pasted on scratch copies', () => {
  it('Intel, Debian GRUB: the sed adds intel_iommu=on iommu=pt to GRUB_CMDLINE_LINUX_DEFAULT, then update-grub', async () => {
    const files = debianGrub();
    const c = await doctor({
      cpu: INTEL,
      cmdline: 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet',
      groups: false,
      files,
    });
    const fix = fixOf(c['iommu-groups']);
    expect(fixOf(c['iommu-cmdline'])).toBe(fix);
    expect(fixOf(c['iommu-kernel-log'])).toBe(fix);
    expect(paste(fix, files)).toEqual(['update-grub', 'reboot']);
    expect(grubCmdline()).toEqual({ linux: '', dflt: 'quiet intel_iommu=on iommu=pt' });
    expect(readFileSync(join(scratch, 'etc/default/grub'), 'utf8')).toBe(
      DEBIAN_GRUB.replace('"quiet"', '"quiet intel_iommu=on iommu=pt"'),
    );
    expect(fix).toMatch(/# VT-d must be on in the firmware setup too$/);
  });

  it('AMD: removes amd_iommu=off wherever GRUB sets it; never adds amd_iommu=on (the kernel has no such value)', async () => {
    const grub = DEBIAN_GRUB.replace('GRUB_CMDLINE_LINUX=""', 'GRUB_CMDLINE_LINUX="amd_iommu=off console=ttyS0"');
    const files = debianGrub(grub);
    const c = await doctor({
      cpu: AMD,
      cmdline: 'root=/dev/sda1 amd_iommu=off console=ttyS0 quiet',
      groups: false,
      files,
    });
    expect(c['iommu-cmdline']!.status).toBe('fail');
    const fix = fixOf(c['iommu-cmdline']);
    expect(fix).not.toContain('amd_iommu=on');
    expect(paste(fix, files)).toEqual(['update-grub', 'reboot']);
    expect(grubCmdline()).toEqual({ linux: 'console=ttyS0', dflt: 'quiet iommu=pt' });
  });

  it('AMD without an off switch and without groups: the firmware, no command line change', async () => {
    const c = await doctor({ cpu: AMD, cmdline: 'root=/dev/sda1 quiet', groups: false, files: debianGrub() });
    expect(c['iommu-cmdline']!.status).toBe('pass');
    expect(fixOf(c['iommu-groups'])).toBe('# enable the IOMMU (AMD-Vi) in the firmware setup');
  });

  it('a grub.d file that sets GRUB_CMDLINE_LINUX_DEFAULT last (Ubuntu cloud images) is the one edited', async () => {
    const cfg = 'GRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyS0"\nGRUB_TERMINAL=console\n';
    const files = debianGrub(DEBIAN_GRUB, { 'etc/default/grub.d/50-cloudimg-settings.cfg': cfg });
    const c = await doctor({ cpu: INTEL, cmdline: 'root=/dev/vda1 console=tty1 console=ttyS0', groups: false, files });
    const fix = fixOf(c['iommu-groups']);
    expect(fix).toContain('/etc/default/grub.d/50-cloudimg-settings.cfg');
    expect(paste(fix, files)).toEqual(['update-grub', 'reboot']);
    expect(grubCmdline().dflt).toBe('console=tty1 console=ttyS0 intel_iommu=on iommu=pt');
  });

  it.each([
    [
      "single quotes: GRUB_CMDLINE_LINUX_DEFAULT='quiet splash'",
      DEBIAN_GRUB.replace('"quiet"', "'quiet splash'"),
      'quiet splash intel_iommu=on iommu=pt',
    ],
    [
      'no quotes: GRUB_CMDLINE_LINUX_DEFAULT=quiet',
      DEBIAN_GRUB.replace('"quiet"', 'quiet'),
      'quiet intel_iommu=on iommu=pt',
    ],
    ['no GRUB_CMDLINE_LINUX_DEFAULT at all', 'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="rhgb"\n', 'intel_iommu=on iommu=pt'],
    [
      'odd characters in the line',
      'GRUB_CMDLINE_LINUX_DEFAULT="quiet a.b=[x]* c=$d|e&f#g"\n',
      'quiet a.b=[x]* c=|e&f#g intel_iommu=on iommu=pt',
    ],
  ])('%s', async (_name, grub, dflt) => {
    const files = debianGrub(grub);
    const c = await doctor({ cpu: INTEL, cmdline: 'root=/dev/sda1', groups: false, files });
    expect(paste(fixOf(c['iommu-groups']), files)).toEqual(['update-grub', 'reboot']);
    expect(grubCmdline().dflt).toBe(dflt);
  });

  it('configured but not applied yet: only update-grub and reboot', async () => {
    const files = debianGrub(DEBIAN_GRUB.replace('"quiet"', '"quiet intel_iommu=on iommu=pt"'));
    const c = await doctor({ cpu: INTEL, cmdline: 'root=/dev/sda1 quiet', groups: false, files });
    expect(fixOf(c['iommu-groups'])).toBe('update-grub && reboot   # VT-d must be on in the firmware setup too');
  });

  it('Proxmox VE with systemd-boot: /etc/kernel/cmdline, then proxmox-boot-tool refresh', async () => {
    const files = {
      'etc/kernel/cmdline': 'root=ZFS=rpool/ROOT/pve-1 boot=zfs\n',
      'etc/kernel/proxmox-boot-uuids': 'A1B2-C3D4\n',
      'usr/sbin/proxmox-boot-tool': TOOL,
      'etc/default/grub': DEBIAN_GRUB,
      'usr/sbin/update-grub': TOOL,
    };
    const c = await doctor({
      cpu: INTEL,
      cmdline: 'initrd=\\EFI\\proxmox\\initrd.img root=ZFS=rpool/ROOT/pve-1 boot=zfs',
      groups: false,
      files,
    });
    expect(paste(fixOf(c['iommu-groups']), files)).toEqual(['proxmox-boot-tool refresh', 'reboot']);
    expect(readFileSync(join(scratch, 'etc/kernel/cmdline'), 'utf8')).toBe(
      'root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on iommu=pt\n',
    );
  });

  it('Proxmox VE with GRUB through proxmox-boot-tool: /etc/default/grub, then proxmox-boot-tool refresh', async () => {
    const files = debianGrub(DEBIAN_GRUB, {
      'etc/kernel/proxmox-boot-uuids': 'A1B2-C3D4\n',
      'usr/sbin/proxmox-boot-tool': TOOL,
    });
    const c = await doctor({ cpu: INTEL, cmdline: 'root=/dev/sda1 quiet', groups: false, files });
    expect(paste(fixOf(c['iommu-groups']), files)).toEqual(['proxmox-boot-tool refresh', 'reboot']);
    expect(grubCmdline().dflt).toBe('quiet intel_iommu=on iommu=pt');
  });

  it('GRUB without update-grub: grub2-mkconfig or grub-mkconfig, as the host has grub.cfg', async () => {
    for (const [cfg, tool] of [
      ['boot/grub2/grub.cfg', 'grub2-mkconfig -o /boot/grub2/grub.cfg'],
      ['boot/grub/grub.cfg', 'grub-mkconfig -o /boot/grub/grub.cfg'],
    ]) {
      const files = { 'etc/default/grub': DEBIAN_GRUB, [cfg!]: '' };
      const c = await doctor({ cpu: INTEL, cmdline: 'root=/dev/sda1', groups: false, files });
      expect(paste(fixOf(c['iommu-groups']), files)).toEqual([tool, 'reboot']);
    }
  });

  it('RHEL: grubby, whose --args replaces intel_iommu=off', async () => {
    const c = await doctor({
      cpu: INTEL,
      cmdline: 'root=/dev/mapper/rhel-root ro intel_iommu=off',
      groups: false,
      files: { 'usr/sbin/grubby': TOOL, 'etc/default/grub': DEBIAN_GRUB },
    });
    expect(fixOf(c['iommu-cmdline'])).toBe(
      'grubby --update-kernel=ALL --args="intel_iommu=on iommu=pt" && reboot   # VT-d must be on in the firmware setup too',
    );
  });

  it('no boot loader found, or no CPU vendor: a shell comment that says what to do, never a half-right command', async () => {
    const noBoot = await doctor({ cpu: INTEL, cmdline: 'root=/dev/sda1', groups: false, files: {} });
    expect(fixOf(noBoot['iommu-groups'])).toBe(
      "# add 'intel_iommu=on iommu=pt' to the kernel command line in the boot loader's configuration, then reboot (no GRUB, grubby or proxmox-boot-tool found)",
    );
    const noCpu = await doctor({ cmdline: 'root=/dev/sda1', groups: false, files: debianGrub() });
    const fix = fixOf(noCpu['iommu-groups']);
    expect(fix).toMatch(/^# no CPU vendor in \/proc\/cpuinfo: /);
    expect(fix).not.toContain('(AMD:');
  });
});

describe('IOMMU initialised', () => {
  it('does not pass on a host whose IOMMU groups are empty, whatever the kernel log says', async () => {
    const c = await doctor({
      cpu: INTEL,
      cmdline: 'root=/dev/sda1 intel_iommu=on',
      groups: false,
      files: debianGrub(),
      dmesg: ['[    0.021370] DMAR: IOMMU enabled'],
    });
    expect(c['iommu-kernel-log']!.status).toBe('fail');
    expect(c['iommu-kernel-log']!.detail).toContain('the kernel log says "DMAR: IOMMU enabled", but');
    // the command line has it: what is left is the firmware
    expect(fixOf(c['iommu-kernel-log'])).toBe('# enable VT-d in the firmware setup');
  });

  it('"iommu: Default domain type" is not an IOMMU (the core prints it on hosts without one)', async () => {
    const c = await doctor({
      cpu: INTEL,
      cmdline: 'root=/dev/sda1 intel_iommu=on',
      groups: true,
      files: {},
      dmesg: ['[    0.300000] iommu: Default domain type: Translated'],
    });
    expect(c['iommu-kernel-log']!.status).toBe('warn');
  });
});

describe('sedReplaceLine', () => {
  it.each(['plain', 'GRUB_CMDLINE_LINUX_DEFAULT="a.b* [c] ^d$ \\e &f"', "x|y#z%w@v,u~t!s:r'q", '/path/with/slashes'])(
    'replaces exactly the line %j, with GNU sed',
    (line) => {
      const file = join(scratch, 'f');
      const other = 'other line';
      writeFileSync(file, `${other}\n${line}\n${line}x\n`);
      const to = `${line} & \\1 | # new`;
      execFileSync('sed', ['-i', sedReplaceLine(line, to), file]);
      expect(readFileSync(file, 'utf8')).toBe(`${other}\n${to}\n${line}x\n`);
    },
  );
});

describe('every fix of a host where everything fails', () => {
  it('parses as shell, so that pasting it runs the command or, for advice, nothing (a comment)', async () => {
    // the host spelled out in full, as in every test here: the host is what each test is about
    const c = await doctor({
      cpu: INTEL,
      cmdline: 'root=/dev/sda1 intel_iommu=off',
      groups: false,
      dmesg: ['[    0.021370] DMAR: IOMMU enabled'],
      files: debianGrub(DEBIAN_GRUB, {
        'etc/libvirt/qemu.conf': 'cgroup_device_acl = [ "/dev/null" ]\n',
        'etc/modprobe.d/unsafe.conf': '',
        'sys/fs/selinux/enforce': '1\n',
      }),
    });
    const fixes = Object.values(c).flatMap((x) => (x.fix ? [x.fix.debian, x.fix.rhel] : []));
    expect(fixes.length).toBeGreaterThan(6);
    for (const fix of fixes) {
      execFileSync('sh', ['-n', '-c', fix]);
      expect(fix).not.toMatch(/\(AMD:|\bamd_iommu=on\b/);
    }
    // advice is a comment: the unsafe last resort for interrupt remapping is never run by a paste
    expect(c['interrupt-remapping']!.fix!.debian).toMatch(/^# enable interrupt remapping/);
    expect(c['cgroup-device-acl']!.fix!.debian).toMatch(/^# add "\/dev\/full"/);
  });
});
