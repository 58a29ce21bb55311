// Synthetic hosts of N PCI devices for scale tests and benchmarks: every endpoint on its own bus
// (as behind PCIe root ports), one IOMMU group per slot, a repeating mix of GPU+audio, SR-IOV NICs
// (VFs land at slot 0x10 of the PF's bus, which nothing else uses), NVMe, USB and a 4-function
// device. Deterministic: the same N gives the same host.
import type { SimDevice, SimHostState } from './state.js';

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');

type Fn = Omit<SimDevice, 'address' | 'iommuGroup'>;
const SHAPES: Fn[][] = [
  [
    { vendor: '10de', device: '1b80', class: '030000', driver: 'nouveau' },
    { vendor: '10de', device: '10f0', class: '040300', driver: 'snd_hda_intel' },
  ],
  [
    {
      vendor: '8086',
      device: '1521',
      class: '020000',
      driver: 'igb',
      sriov: {
        totalVfs: 7,
        numVfs: 0,
        offset: 128,
        stride: 1,
        vfDevice: '1520',
        vfDriver: 'igbvf',
        disableOnUnbind: true,
      },
    },
  ],
  [{ vendor: '144d', device: 'a808', class: '010802', driver: 'nvme' }],
  [{ vendor: '1b21', device: '1242', class: '0c0330', driver: 'xhci_hcd' }],
  [
    { vendor: '8086', device: '1572', class: '020000', driver: 'i40e' },
    { vendor: '8086', device: '1572', class: '020000', driver: 'i40e' },
    { vendor: '8086', device: '1572', class: '020000', driver: 'i40e' },
    { vendor: '8086', device: '1572', class: '020000', driver: 'i40e' },
  ],
];

export function generateHost(n: number): SimHostState {
  if (!Number.isInteger(n) || n < 1 || n > 500_000) throw new Error(`device count must be 1..500000, got ${n}`);
  const devices: SimDevice[] = [];
  let slot = 0;
  let nic = 0;
  while (devices.length < n) {
    const shape = SHAPES[slot % SHAPES.length]!;
    const domain = Math.floor(slot / 255);
    const bus = (slot % 255) + 1;
    for (let f = 0; f < shape.length && devices.length < n; f++) {
      const d: SimDevice = {
        ...structuredClone(shape[f]!),
        address: `${hex(domain, 4)}:${hex(bus, 2)}:00.${f}`,
        iommuGroup: slot,
      };
      if (d.class.startsWith('02')) d.netdev = `enp${bus}s0f${f}d${domain}`.slice(0, 15);
      if (d.sriov) nic++;
      devices.push(d);
    }
    slot++;
  }
  void nic;
  return {
    kernel: '6.1.0-28-amd64',
    cmdline: 'BOOT_IMAGE=/vmlinuz root=/dev/nvme0n1p2 ro intel_iommu=on iommu=pt',
    modules: ['vfio', 'vfio_iommu_type1', 'vfio_pci'],
    devices,
  };
}
