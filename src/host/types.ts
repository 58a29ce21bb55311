// The host as the planner sees it: plain data, read from sysfs (src/host/reader) for just the
// devices one domain touches, or for the whole bus by `passthru list`. Keys are canonical PCI
// addresses ('0000:01:00.0').

export interface SriovInfo {
  totalVfs: number;
  numVfs: number;
  offset: number;
  stride: number;
  vfDevice?: string;
  /** VF index K -> VF address, from the PF's virtfnK links (only the existing VFs). */
  vfs: string[];
}

export interface MdevTypeInfo {
  id: string; // directory name, e.g. 'i915-GVTg_V5_4' or 'nvidia-63'
  name?: string;
  description?: string;
  deviceApi?: string;
  availableInstances: number;
}

/** One line of a VF's nvidia/creatable_vgpu_types: `1414 : NVIDIA H200X-1-18C`. */
export interface VgpuTypeInfo {
  id: number;
  name: string;
}

/** A VF of an NVIDIA GPU in vGPU mode (vGPU 17+, vendor-specific VFIO, no mdev). */
export interface NvidiaVgpuInfo {
  /** nvidia/current_vgpu_type: 0 = no vGPU on this VF. */
  currentType: number;
  /** nvidia/creatable_vgpu_types now (empty on a VF with a vGPU, and when the GPU is full). */
  creatable: VgpuTypeInfo[];
}

export interface PciDeviceInfo {
  address: string;
  vendor: string; // '10de'
  device: string; // '1b80'
  class: string; // '030000'
  driver?: string; // bound driver name, absent when unbound
  driverOverride?: string; // absent when '(null)'; fullSnapshot reads it only where overrideShown() (reader.ts)
  iommuGroup?: number; // absent when the IOMMU is off
  physfn?: string; // set on a VF: its PF's address
  vfIndex?: number; // set on a VF: K in the PF's virtfnK
  sriov?: SriovInfo; // set on a PF
  netdevs: string[]; // names under D/net/
  bootVga?: boolean;
  mdevTypes?: MdevTypeInfo[]; // set on an mdev parent
  /** Set on a VF with an nvidia/ vGPU directory, when the snapshot was asked for it (vgpus / list). */
  nvidiaVgpu?: NvidiaVgpuInfo;
  /** Header type says bridge (class 0604) or the device is a PCIe port: never detached. */
  isBridge: boolean;
  /**
   * Set by fullSnapshot (`passthru list`, `doctor`) when the device's driver_override did not answer
   * within lockedReadMs: ['driver_override']. The device lock is held (an unbind waiting for qemu),
   * so its driver state is unknown; every other field is read without that lock.
   */
  unreadable?: string[];
}

export interface MdevInfo {
  uuid: string;
  parent: string; // parent device name (PCI address for PCI parents)
  type: string; // type id
}

export interface HostSnapshot {
  kernel?: string;
  devices: Record<string, PciDeviceInfo>;
  /** IOMMU group -> member addresses (every member, read from iommu_groups/N/devices). */
  groups: Record<number, string[]>;
  /** mdev parents that are not PCI devices (e.g. 'mtty'), by device name -> their types. */
  mdevParents?: Record<string, MdevTypeInfo[]>;
  /** Existing mdevs by UUID (only those asked about, or all for `list`). */
  mdevs: Record<string, MdevInfo>;
  /** netdev name -> PCI address, for the netdevs asked about. */
  netdevs: Record<string, string>;
}
