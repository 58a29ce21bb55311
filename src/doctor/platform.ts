// What a fix to paste depends on, read under the host root: the CPU vendor (which IOMMU driver and
// which kernel parameter), and how this host's kernel command line is configured and applied.
//   - Proxmox VE booting through proxmox-boot-tool: /etc/kernel/cmdline (systemd-boot) or
//     /etc/default/grub (GRUB), applied with `proxmox-boot-tool refresh`;
//   - grubby (RHEL, Fedora, CentOS, Rocky, Alma): `grubby --update-kernel=ALL` edits every entry;
//   - GRUB: /etc/default/grub then /etc/default/grub.d/*.cfg (sourced in that order, the last
//     assignment wins), applied with update-grub (Debian, Ubuntu) or grub(2)-mkconfig.
import { layout } from '../host/layout.js';
import type { Sysfs } from '../host/sysfs.js';
import { tryRead } from '../host/optional-reads.js';
import { confFiles, type ConfFile } from './conf-files.js';

export type CpuVendor = 'intel' | 'amd';

export type BootSetup =
  | { kind: 'kernel-cmdline'; file: ConfFile; apply: string }
  | { kind: 'grubby' }
  | { kind: 'grub'; files: ConfFile[]; apply?: string }
  | { kind: 'unknown' };

/** GenuineIntel or AuthenticAMD (Hygon's CPUs carry AMD's IOMMU) in /proc/cpuinfo; undefined when it does not say. */
export async function readCpuVendor(s: Sysfs): Promise<CpuVendor | undefined> {
  const vendor = /^vendor_id\s*:\s*(\S+)/m.exec((await tryRead(s, layout.cpuinfo)) ?? '')?.[1];
  if (vendor === 'GenuineIntel') return 'intel';
  if (vendor === 'AuthenticAMD' || vendor === 'HygonGenuine') return 'amd';
  return undefined;
}

export async function readBootSetup(s: Sysfs): Promise<BootSetup> {
  const has = (p: string) => s.exists(p).catch(() => false);
  const proxmox = (await has(layout.proxmoxBootTool)) && (await has(layout.proxmoxBootUuids));
  const kernelCmdline = await tryRead(s, layout.kernelCmdlineFile);
  if (proxmox && kernelCmdline !== undefined)
    return {
      kind: 'kernel-cmdline',
      file: { path: layout.kernelCmdlineFile, text: kernelCmdline },
      apply: 'proxmox-boot-tool refresh',
    };
  for (const p of layout.grubby) if (await has(p)) return { kind: 'grubby' };
  const grub = await tryRead(s, layout.grubDefaults);
  if (grub === undefined) return { kind: 'unknown' };
  const files: ConfFile[] = [
    { path: layout.grubDefaults, text: grub },
    ...(await confFiles(s, layout.grubDefaultsDir, '.cfg')),
  ];
  const apply = proxmox
    ? 'proxmox-boot-tool refresh'
    : (await has(layout.updateGrub))
      ? 'update-grub'
      : (await has(layout.grub2Cfg))
        ? 'grub2-mkconfig -o /boot/grub2/grub.cfg'
        : (await has(layout.grubCfg))
          ? 'grub-mkconfig -o /boot/grub/grub.cfg'
          : undefined;
  return { kind: 'grub', files, ...(apply ? { apply } : {}) };
}
