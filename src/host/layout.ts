// Where things live in the kernel's and the distribution's file layout, relative to the host root.
// The only module that spells these paths; everything else asks it.
import { formatPciAddress, type PciAddress } from '../pci/address.js';

const dev = (a: PciAddress | string): string => (typeof a === 'string' ? a : formatPciAddress(a));

export const layout = {
  pciDevices: 'sys/bus/pci/devices',
  pciDevice: (a: PciAddress | string) => `sys/bus/pci/devices/${dev(a)}`,
  pciAttr: (a: PciAddress | string, attr: string) => `sys/bus/pci/devices/${dev(a)}/${attr}`,
  /** NVIDIA vendor-specific VFIO vGPU files of a VF: creatable_vgpu_types, current_vgpu_type. */
  nvidiaVgpuAttr: (a: PciAddress | string, file: 'creatable_vgpu_types' | 'current_vgpu_type') =>
    `sys/bus/pci/devices/${dev(a)}/nvidia/${file}`,
  pciDrivers: 'sys/bus/pci/drivers',
  pciDriver: (name: string) => `sys/bus/pci/drivers/${name}`,
  driversProbe: 'sys/bus/pci/drivers_probe',
  iommuGroups: 'sys/kernel/iommu_groups',
  iommuGroupDevices: (group: number) => `sys/kernel/iommu_groups/${group}/devices`,
  mdevBus: 'sys/class/mdev_bus',
  mdevTypes: (parent: string) => `sys/class/mdev_bus/${parent}/mdev_supported_types`,
  mdevType: (parent: string, type: string) => `sys/class/mdev_bus/${parent}/mdev_supported_types/${type}`,
  mdevDevices: 'sys/bus/mdev/devices',
  mdevDevice: (uuid: string) => `sys/bus/mdev/devices/${uuid}`,
  netClass: 'sys/class/net',
  blockClass: 'sys/class/block',
  mounts: 'proc/mounts',
  ipv4Routes: 'proc/net/route',
  ipv6Routes: 'proc/net/ipv6_route',
  libvirtNetworkConfig: (name: string) => `etc/libvirt/qemu/networks/${name}.xml`,
  libvirtNetworkStatus: (name: string) => `run/libvirt/network/${name}.xml`,
  vfioDevDir: 'dev/vfio',
  cmdline: 'proc/cmdline',
  modules: 'proc/modules',
  kernelRelease: 'proc/sys/kernel/osrelease',
  modprobeDir: 'etc/modprobe.d',
  modulesLoadDir: 'etc/modules-load.d',
  qemuConf: 'etc/libvirt/qemu.conf',
  mdevctlDir: 'etc/mdevctl.d',
  passthruConfig: 'etc/passthru/config.json',
  stateDir: 'run/passthru',
  hooksDir: 'etc/libvirt/hooks',
  modulesFile: 'etc/modules',
  osRelease: 'etc/os-release',
  /** Kernel log as a file: the simulator's `dmesg`, or a saved log under a test root. */
  kernelLogFile: 'var/log/dmesg',
  selinuxEnforce: 'sys/fs/selinux/enforce',
  selinuxBoolean: (name: string) => `sys/fs/selinux/booleans/${name}`,
  apparmorEnabled: 'sys/module/apparmor/parameters/enabled',
  apparmorProfiles: 'etc/apparmor.d',
  // the CPU vendor and the boot loader, for doctor's kernel command line fixes (src/doctor/platform.ts)
  cpuinfo: 'proc/cpuinfo',
  grubDefaults: 'etc/default/grub',
  grubDefaultsDir: 'etc/default/grub.d',
  kernelCmdlineFile: 'etc/kernel/cmdline',
  proxmoxBootUuids: 'etc/kernel/proxmox-boot-uuids',
  proxmoxBootTool: 'usr/sbin/proxmox-boot-tool',
  grubby: ['usr/sbin/grubby', 'usr/bin/grubby'],
  updateGrub: 'usr/sbin/update-grub',
  grubCfg: 'boot/grub/grub.cfg',
  grub2Cfg: 'boot/grub2/grub.cfg',
  updateInitramfs: 'usr/sbin/update-initramfs',
  dracut: ['usr/bin/dracut', 'usr/sbin/dracut'],
} as const;
