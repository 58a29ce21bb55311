// Everything the host checks look at, read once through the Sysfs door (so the simulator, a test
// tree and the real host answer the same way).
import { layout } from '../host/layout.js';
import { tryRead } from '../host/optional-reads.js';
import type { Sysfs } from '../host/sysfs.js';
import { HostReader } from '../host/reader.js';
import type { HostSnapshot } from '../host/types.js';
import { confFiles, type ConfFile } from './conf-files.js';
import { readKernelLog, type CommandRunner, type KernelLog } from './kernel-log.js';
import { readBootSetup, readCpuVendor, type BootSetup, type CpuVendor } from './platform.js';
import type { Family } from './types.js';

export interface DoctorContext {
  sysfs: Sysfs;
  kernel?: string;
  cmdline: string;
  /** Loaded modules (proc/modules names, underscores). */
  modules: Set<string>;
  modprobe: ConfFile[];
  /** Modules configured to load at boot (modules-load.d and etc/modules), underscores. */
  bootModules: Set<string>;
  log: KernelLog;
  snap: HostSnapshot;
  qemuConf?: string;
  family?: Family;
  /** From /proc/cpuinfo: which IOMMU, which kernel parameter. */
  cpu?: CpuVendor;
  /** How this host's kernel command line is configured and applied. */
  boot: BootSetup;
}

export const modName = (m: string): string => m.trim().replace(/-/g, '_');

/** Lines without comments and blanks. */
export function confLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/** The family from os-release, else from the initramfs tool installed (update-initramfs or dracut). */
async function familyOfHost(s: Sysfs, osRelease: string | undefined): Promise<Family | undefined> {
  const named = familyOf(osRelease);
  if (named) return named;
  if (await s.exists(layout.updateInitramfs).catch(() => false)) return 'debian';
  for (const p of layout.dracut) if (await s.exists(p).catch(() => false)) return 'rhel';
  return undefined;
}

export function familyOf(osRelease: string | undefined): Family | undefined {
  if (!osRelease) return undefined;
  const ids = [...osRelease.matchAll(/^(?:ID|ID_LIKE)="?([^"\n]*)"?$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  if (ids.some((i) => ['debian', 'ubuntu', 'proxmox'].includes(i))) return 'debian';
  if (ids.some((i) => ['rhel', 'fedora', 'centos', 'rocky', 'almalinux'].includes(i))) return 'rhel';
  return undefined;
}

export async function gatherContext(
  sysfs: Sysfs,
  opts: { realRoot: boolean; run?: CommandRunner; lockedReadMs?: number },
): Promise<DoctorContext> {
  const reader = new HostReader(sysfs, opts.lockedReadMs !== undefined ? { lockedReadMs: opts.lockedReadMs } : {});
  const [kernel, cmdline, modulesText, modprobe, loadD, etcModules, log, snap, qemuConf, family, cpu, boot] =
    await Promise.all([
      reader.kernel(),
      tryRead(sysfs, layout.cmdline),
      tryRead(sysfs, layout.modules),
      confFiles(sysfs, layout.modprobeDir, '.conf'),
      confFiles(sysfs, layout.modulesLoadDir, '.conf'),
      tryRead(sysfs, layout.modulesFile),
      readKernelLog(sysfs, opts.realRoot, opts.run),
      reader.fullSnapshot(),
      tryRead(sysfs, layout.qemuConf),
      tryRead(sysfs, layout.osRelease).then((text) => familyOfHost(sysfs, text)),
      readCpuVendor(sysfs),
      readBootSetup(sysfs),
    ]);
  const modules = new Set(
    (modulesText ?? '')
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter(Boolean),
  );
  const bootModules = new Set(
    [...loadD.flatMap((f) => confLines(f.text)), ...confLines(etcModules ?? '')].map(modName),
  );
  const ctx: DoctorContext = {
    sysfs,
    cmdline: (cmdline ?? '').trim(),
    modules,
    modprobe,
    bootModules,
    log,
    snap,
    boot,
  };
  if (kernel) ctx.kernel = kernel;
  if (qemuConf !== undefined) ctx.qemuConf = qemuConf;
  if (family) ctx.family = family;
  if (cpu) ctx.cpu = cpu;
  return ctx;
}
