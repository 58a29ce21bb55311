// The virtual machines the lab can boot: which PCI devices sit where, hence which IOMMU groups the guest
// kernel builds. Guest checks find devices by vendor:device id, never by bus number, so a topology can
// move things around without breaking them.
//
// No NIC here has a netdev backend: qemu attaches them to nothing (it warns "nic ... has no peer"), so
// no guest traffic can reach a host network. run.mjs refuses any argument list that names a netdev.

const rootPort = (id, chassis, addr) => [
  '-device',
  `pcie-root-port,id=${id},chassis=${chassis},slot=${chassis},bus=pcie.0,addr=${addr}`,
];

// `phases`: what a boot of that topology runs when --only does not say (the devices a phase needs are
// in its topology only, and a phase that finds none skips, which --strict counts as a failure).
export const topologies = {
  /** Everything the checks use, in one boot. */
  full: {
    phases: [
      'kernel-groups',
      'kernel-sriov',
      'kernel-mdev',
      'kernel-held',
      'project-list',
      'project-hook-group',
      'project-hook-vf',
      'project-hook-mdev',
      'project-recover',
      'project-held',
      'libvirt',
      'libvirt-hotplug',
    ],
    describe: [
      'e1000e integrated on the root complex (00:05.0): a single-device group',
      'e1000e behind root port rp1: a single-device group',
      'e1000 x2 + edu behind a pcie-pci-bridge behind root port rp2: one group holding the bridge and three endpoints',
      '  (edu has no kernel driver, the e1000s have one: peers both bound and unbound)',
      'nvme PF (sriov_max_vfs=2, in an nvme-subsys) behind root port rp3: real VFs through sriov_numvfs',
      'mtty (the kernel sample) loaded in the guest: real mdev types',
    ],
    args: [
      '-device',
      'e1000e,bus=pcie.0,addr=0x5,mac=52:54:00:1a:b0:05',
      ...rootPort('rp1', 1, '0x10'),
      '-device',
      'e1000e,bus=rp1,mac=52:54:00:1a:b0:10',
      ...rootPort('rp2', 2, '0x11'),
      '-device',
      'pcie-pci-bridge,id=br1,bus=rp2',
      '-device',
      'e1000,bus=br1,addr=1,mac=52:54:00:1a:b0:11',
      '-device',
      'edu,bus=br1,addr=2',
      '-device',
      'e1000,bus=br1,addr=3,mac=52:54:00:1a:b0:13',
      ...rootPort('rp3', 3, '0x12'),
      '-device',
      'nvme-subsys,id=subsys0,nqn=passthru-lab',
      // Flexible resources are what QEMU's nvme needs to offer SR-IOV at all (2 queues and 1 interrupt per VF).
      '-device',
      'nvme,serial=lab0,subsys=subsys0,bus=rp3,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=8,msix_qsize=4',
    ],
  },
  /** A display for the console handover (phase project-console): fbcon on a DRM driver's framebuffer. */
  gpu: {
    phases: ['project-console'],
    describe: [
      'stdvga (1234:1111) on the root complex (00:08.0): the boot VGA, bound to bochs-drm, fbcon on its framebuffer',
      'e1000e behind root port rp1: reset_method (flr, bus) and d3cold_allowed on a real device',
    ],
    args: [
      '-device',
      'VGA,bus=pcie.0,addr=0x8',
      ...rootPort('rp1', 1, '0x10'),
      '-device',
      'e1000e,bus=rp1,mac=52:54:00:1a:b0:10',
    ],
  },
  /** Only what the lab itself needs (two 9p shares): for smoke-testing the machinery. */
  bare: {
    describe: ['no test devices'],
    args: [],
  },
};
