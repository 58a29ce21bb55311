// The host checks of `passthru doctor`. Each looks at the gathered context and returns one result;
// every warn/fail carries a fix to paste: one command for this host, or per distribution family
// (Debian/Proxmox, RHEL) where the family is not known. Advice that is not a command is a shell
// comment, so that pasting it runs nothing. The IOMMU checks are in iommu-checks.ts.
import { layout } from '../host/layout.js';
import { tryRead } from '../host/optional-reads.js';
import { confLines, modName, type DoctorContext } from './context.js';
import { checkIommuCmdline, checkIommuGroups, checkIommuLog } from './iommu-checks.js';
import { both, namedUnreadable, type CheckResult, type Fix } from './types.js';

const IR_LOG = /DMAR-IR: Enabled IRQ remapping|AMD-Vi: Interrupt remapping enabled/;

function allowUnsafe(ctx: DoctorContext): string | undefined {
  if (/(?:^|\s)vfio_iommu_type1\.allow_unsafe_interrupts=(?:1|Y|y)/.test(ctx.cmdline)) return 'kernel command line';
  for (const f of ctx.modprobe) {
    for (const l of confLines(f.text))
      if (/^options\s+vfio[_-]iommu[_-]type1\s.*allow_unsafe_interrupts=(?:1|Y|y)/.test(l)) return f.path;
  }
  return undefined;
}

export function checkInterruptRemapping(ctx: DoctorContext): CheckResult {
  const base = { id: 'interrupt-remapping', title: 'Interrupt remapping (or allow_unsafe_interrupts)' };
  const unsafe = allowUnsafe(ctx);
  // the last resort stays a comment: pasted, the fix must not turn on something unsafe by itself
  const lastResort = (rebuild: string) =>
    `# enable interrupt remapping (x2APIC) in the firmware setup; last resort, unsafe with untrusted guests: echo "options vfio_iommu_type1 allow_unsafe_interrupts=1" > /etc/modprobe.d/vfio-unsafe.conf && ${rebuild}`;
  const irFix: Fix = { debian: lastResort('update-initramfs -u -k all'), rhel: lastResort('dracut -f') };
  if (ctx.log.text !== undefined && IR_LOG.test(ctx.log.text))
    return { ...base, status: 'pass', detail: 'interrupt remapping is enabled' };
  if (unsafe)
    return {
      ...base,
      status: 'warn',
      detail: `no interrupt remapping; allow_unsafe_interrupts=1 is set (${unsafe}): guests can inject interrupts (MSI attacks)`,
      fix: both(
        `# enable interrupt remapping (x2APIC) in the firmware setup, then remove allow_unsafe_interrupts=1 from ${unsafe}`,
      ),
    };
  if (ctx.log.text === undefined)
    return {
      ...base,
      status: 'warn',
      detail: `cannot tell: kernel log not readable (${ctx.log.source})`,
      fix: both('sudo passthru doctor'),
    };
  return {
    ...base,
    status: 'fail',
    detail:
      'no "IRQ remapping enabled" line in the kernel log and allow_unsafe_interrupts is not set: vfio will refuse to assign devices',
    fix: irFix,
  };
}

/** 'major.minor' of a kernel release, or undefined. */
export function kernelVersion(release: string | undefined): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function neededVfioModules(kernel: string | undefined): string[] {
  const v = kernelVersion(kernel);
  const old = v !== undefined && (v[0] < 6 || (v[0] === 6 && v[1] < 2)); // vfio_virqfd merged into vfio in 6.2
  return ['vfio', 'vfio_iommu_type1', 'vfio_pci', ...(old ? ['vfio_virqfd'] : [])];
}

export function checkVfioModules(ctx: DoctorContext): CheckResult {
  const base = { id: 'vfio-modules', title: 'vfio modules loaded or configured' };
  const need = neededVfioModules(ctx.kernel);
  const missing = need.filter((m) => !ctx.modules.has(m));
  const list = need.join(' ');
  // configure at boot only what is not configured yet; load what is not loaded
  const unconfigured = missing.filter((m) => !ctx.bootModules.has(m)).join(' ');
  const load = `modprobe -a ${missing.join(' ')}`;
  const fix: Fix = {
    debian: `printf '%s\\n' ${unconfigured} >> /etc/modules && update-initramfs -u -k all && ${load}`,
    rhel: `printf '%s\\n' ${unconfigured} >> /etc/modules-load.d/vfio.conf && dracut -f && ${load}`,
  };
  if (missing.length === 0)
    return {
      ...base,
      status: 'pass',
      detail: `loaded: ${list}${need.includes('vfio_virqfd') ? ' (vfio_virqfd: kernel before 6.2)' : ''}`,
    };
  const configured = missing.filter((m) => ctx.bootModules.has(m));
  if (configured.length === missing.length)
    return {
      ...base,
      status: 'warn',
      detail: `configured to load at boot but not loaded now: ${missing.join(', ')}`,
      fix: both(`modprobe -a ${missing.join(' ')}`),
    };
  return {
    ...base,
    status: 'fail',
    detail: `not loaded${configured.length < missing.length ? ' and not configured' : ''}: ${missing.filter((m) => !configured.includes(m)).join(', ')}`,
    fix,
  };
}

export async function checkDevVfio(ctx: DoctorContext): Promise<CheckResult> {
  const base = { id: 'dev-vfio', title: '/dev/vfio/vfio present' };
  if (await ctx.sysfs.exists(`${layout.vfioDevDir}/vfio`))
    return { ...base, status: 'pass', detail: '/dev/vfio/vfio exists' };
  return {
    ...base,
    status: 'fail',
    detail: '/dev/vfio/vfio is missing: the vfio module is not loaded',
    fix: both('modprobe -a vfio vfio_iommu_type1 vfio_pci'), // without -a, the names after the first are its parameters
  };
}

interface ModprobeFacts {
  ids: { id: string; file: string }[];
  blacklisted: { driver: string; file: string }[];
}

export function modprobeFacts(ctx: DoctorContext): ModprobeFacts {
  const out: ModprobeFacts = { ids: [], blacklisted: [] };
  for (const f of ctx.modprobe) {
    for (const l of confLines(f.text)) {
      const ids = /^options\s+vfio[_-]pci\s+(?:.*\s)?ids=(\S+)/.exec(l);
      if (ids) for (const id of ids[1]!.split(',')) out.ids.push({ id: id.toLowerCase(), file: f.path });
      const bl = /^blacklist\s+(\S+)/.exec(l);
      if (bl) out.blacklisted.push({ driver: modName(bl[1]!), file: f.path });
    }
  }
  return out;
}

const initramfs: Fix = { debian: 'update-initramfs -u -k all && reboot', rhel: 'dracut -f --regenerate-all && reboot' };

export function checkModprobeConfig(ctx: DoctorContext): CheckResult {
  const base = { id: 'modprobe-config', title: 'vfio-pci ids= and blacklists in modprobe.d are in effect' };
  const f = modprobeFacts(ctx);
  if (f.ids.length === 0 && f.blacklisted.length === 0)
    return {
      ...base,
      status: 'pass',
      detail: 'no vfio-pci ids= or blacklist: devices stay on their drivers until the hook binds them at domain start',
    };
  const problems: string[] = [];
  for (const { id, file } of f.ids) {
    const [v, d] = id.split(':');
    for (const dev of Object.values(ctx.snap.devices)) {
      if (dev.vendor === v && dev.device === d && dev.driver !== 'vfio-pci')
        problems.push(`${dev.address} (${id}, ids= in ${file}) is bound to ${dev.driver ?? 'no driver'}`);
    }
  }
  for (const { driver, file } of f.blacklisted) {
    if (ctx.modules.has(driver)) problems.push(`${driver} is blacklisted in ${file} but loaded`);
  }
  const summary = [
    f.ids.length ? `vfio-pci ids=${f.ids.map((i) => i.id).join(',')}` : '',
    f.blacklisted.length ? `blacklist ${f.blacklisted.map((b) => b.driver).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  if (problems.length === 0) return { ...base, status: 'pass', detail: `${summary}: in effect` };
  return {
    ...base,
    status: 'warn',
    detail: `${summary}; not in effect: ${problems.join('; ')} (initramfs not rebuilt, or the driver loads before vfio-pci: add "softdep DRIVER pre: vfio-pci")`,
    fix: initramfs,
  };
}

const ACL_DEFAULTS = ['/dev/null', '/dev/full', '/dev/zero', '/dev/random', '/dev/urandom', '/dev/ptmx', '/dev/kvm'];

export function checkCgroupAcl(ctx: DoctorContext): CheckResult {
  const base = { id: 'cgroup-device-acl', title: 'cgroup_device_acl in qemu.conf' };
  if (ctx.qemuConf === undefined)
    return {
      ...base,
      status: 'pass',
      detail: `${layout.qemuConf} not found: libvirt's default device ACL applies (it adds each assigned /dev/vfio/N itself)`,
    };
  const active = ctx.qemuConf.replace(/#.*$/gm, '');
  const m = /cgroup_device_acl\s*=\s*\[([^\]]*)\]/.exec(active);
  if (!m)
    return {
      ...base,
      status: 'pass',
      detail: "not set: libvirt's default device ACL applies (it adds each assigned /dev/vfio/N itself)",
    };
  const entries = [...m[1]!.matchAll(/"([^"]*)"/g)].map((x) => x[1]!);
  const missing = ACL_DEFAULTS.filter((d) => !entries.includes(d));
  const restart = {
    debian: 'systemctl restart libvirtd',
    rhel: 'systemctl restart virtqemud || systemctl restart libvirtd',
  };
  if (missing.length) {
    return {
      ...base,
      status: 'fail',
      detail: `cgroup_device_acl replaces libvirt's defaults and lacks ${missing.join(', ')}: guests fail to start`,
      fix: {
        debian: `# add ${missing.map((x) => `"${x}"`).join(', ')} to cgroup_device_acl in /etc/libvirt/qemu.conf, then: ${restart.debian}`,
        rhel: `# add ${missing.map((x) => `"${x}"`).join(', ')} to cgroup_device_acl in /etc/libvirt/qemu.conf, then: ${restart.rhel}`,
      },
    };
  }
  if (!entries.includes('/dev/vfio/vfio'))
    return {
      ...base,
      status: 'warn',
      detail:
        'cgroup_device_acl is customised without "/dev/vfio/vfio"; older libvirt versions need it for passthrough',
      fix: {
        debian: `# add "/dev/vfio/vfio" to cgroup_device_acl in /etc/libvirt/qemu.conf, then: ${restart.debian}`,
        rhel: `# add "/dev/vfio/vfio" to cgroup_device_acl in /etc/libvirt/qemu.conf, then: ${restart.rhel}`,
      },
    };
  return { ...base, status: 'pass', detail: `customised, keeps libvirt's defaults and /dev/vfio/vfio` };
}

export async function checkSecurityModules(ctx: DoctorContext): Promise<CheckResult> {
  const base = { id: 'lsm-hooks', title: 'SELinux / AppArmor let the libvirt hook run' };
  const read = async (p: string) => (await tryRead(ctx.sysfs, p))?.trim();
  const enforce = await read(layout.selinuxEnforce);
  if (enforce !== undefined) {
    const b = await read(layout.selinuxBoolean('virt_hooks_unconfined'));
    const on = b?.split(/\s+/)[0] === '1';
    if (on || enforce === '0')
      return {
        ...base,
        status: 'pass',
        detail: `SELinux ${enforce === '1' ? 'enforcing' : 'permissive'}${on ? ', virt_hooks_unconfined on' : ''}`,
      };
    return {
      ...base,
      status: 'fail',
      detail: `SELinux is enforcing and virt_hooks_unconfined is ${b === undefined ? 'unknown to this policy' : 'off'}: the hook runs confined and cannot write sysfs`,
      fix: both('setsebool -P virt_hooks_unconfined on'),
    };
  }
  const aa = await read(layout.apparmorEnabled);
  if (aa === 'Y') {
    let profiles: string[] = [];
    try {
      profiles = await ctx.sysfs.list(layout.apparmorProfiles);
    } catch {
      // no profile directory
    }
    const libvirtd = profiles.find((p) => p === 'usr.sbin.libvirtd' || p === 'usr.sbin.virtqemud');
    if (libvirtd)
      return {
        ...base,
        status: 'warn',
        detail: `AppArmor is on and confines libvirt (/etc/apparmor.d/${libvirtd}): if the hook fails with "Permission denied", the profile must allow executing node from where passthru is installed`,
        fix: both(
          `echo '${process.execPath} rix,' >> /etc/apparmor.d/local/${libvirtd} && apparmor_parser -r /etc/apparmor.d/${libvirtd}`,
        ),
      };
    return { ...base, status: 'pass', detail: 'AppArmor is on; no libvirtd profile found' };
  }
  return { ...base, status: 'pass', detail: 'no SELinux or AppArmor restrictions detected' };
}

/**
 * Devices whose device-lock reads did not answer within the bound (an unbind or SR-IOV disable
 * waiting for a VM to let go holds that lock, test/lab/FINDINGS.md): a warning, shown only when
 * there is one, since a start that involves such a device fails until the kernel lets go.
 */
export function checkHeldDevices(ctx: DoctorContext): CheckResult | undefined {
  const held = Object.values(ctx.snap.devices).filter((d) => d.unreadable);
  if (held.length === 0) return undefined;
  const base = { id: 'device-locks', title: 'Every device answers (no device lock held)' };
  const named = namedUnreadable(held);
  return {
    ...base,
    status: 'warn',
    detail: `${named} did not answer in time: device lock held, most likely an unbind or SR-IOV disable waiting for a VM to let go; a domain using ${held.length > 1 ? 'them' : 'it'} or ${held.length > 1 ? 'their' : 'its'} group peers cannot start until then`,
    fix: both('passthru list   # once the VM that had the device has let go, it shows its driver again'),
  };
}

export async function hostChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const held = checkHeldDevices(ctx);
  return [
    ...(held ? [held] : []),
    checkIommuCmdline(ctx),
    checkIommuGroups(ctx),
    checkIommuLog(ctx),
    checkInterruptRemapping(ctx),
    checkVfioModules(ctx),
    await checkDevVfio(ctx),
    checkModprobeConfig(ctx),
    checkCgroupAcl(ctx),
    await checkSecurityModules(ctx),
  ];
}
