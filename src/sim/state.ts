// The simulated host's state: the fixture format (fixtures/hosts/*.json, schemas/host.schema.json)
// is also the persisted state, so a sim file is readable and tests can look at devices directly.
// Canonical JSON (sorted keys, devices by address) makes equal hosts byte-identical.
import type { VfLinkState } from '../host/netlink.js';

export interface SimMdevType {
  id: string;
  name?: string;
  description?: string;
  deviceApi?: string;
  availableInstances: number;
  /**
   * Units of the parent's capacity (mdevCapacity / capacity) one instance takes. With a capacity, the
   * parent's types draw from one pool (mtty: ports; GVT-g: graphics memory; NVIDIA vGPU: frame buffer)
   * and available_instances = floor(free / cost), kept up to date by the simulator. Default 1.
   */
  cost?: number;
}

export interface SimVfLink {
  mac: string;
  vlan: number;
  qos: number;
  spoofchk: boolean;
  trust: boolean;
  state: VfLinkState;
  minRate: number;
  maxRate: number;
}

export interface SimSriov {
  totalVfs: number;
  numVfs: number;
  offset: number;
  stride: number;
  vfDevice?: string;
  /** Driver the kernel probes each new VF with (sriov_drivers_autoprobe=1). */
  vfDriver?: string;
  /**
   * The PF's driver disables SR-IOV in its remove, so unbinding the PF removes its VFs (igb, i40e,
   * mlx5_core do). Default false, as the PCI core: the VFs stay and sriov_numvfs writes fail with
   * ENOENT until a driver is bound again (nvme: "driver left SR-IOV enabled after remove").
   */
  disableOnUnbind?: boolean;
  /** 'own' (default): each VF in a new group; 'pf': VFs join the PF's group (no ACS). */
  vfGroups?: 'own' | 'pf';
  /** Per-VF settings held by the PF driver (ip link set … vf K), index = K. */
  vfLinks?: SimVfLink[];
  /**
   * A write of 0 to sriov_numvfs waits for qemu to close VF K (its vfio-pci remove): VFs below K are
   * gone, VF K has lost its driver, physfn and virtfnK links, and the PF's and VF K's device locks
   * are held until qemu lets go (lab-measured, test/lab/FINDINGS.md).
   */
  disablingAt?: number;
}

/** A vGPU type of NVIDIA's vendor-specific VFIO model (src/sim/nvidia-vgpu.ts). */
export interface SimVgpuType {
  id: number;
  name: string;
  framebufferMb: number;
}

/** A PF in NVIDIA vGPU mode (vGPU 17+): its VFs get nvidia/{creatable,current}_vgpu_type. */
export interface SimNvidiaVgpu {
  /** Framebuffer the vGPUs share. */
  framebufferMb: number;
  types: SimVgpuType[];
  /** Mixed-size mode: vGPUs of different framebuffer sizes at once (off by default). */
  mixedMode?: boolean;
}

export interface SimDevice {
  address: string;
  vendor: string;
  device: string;
  class: string;
  subsystemVendor?: string;
  subsystemDevice?: string;
  /** Bound driver; absent = no driver. */
  driver?: string;
  /** The driver that probes this device without an override (defaults to `driver` in a fixture). */
  nativeDriver?: string;
  driverOverride?: string;
  iommuGroup?: number;
  /** Interface name while bound to its native driver. */
  netdev?: string;
  bootVga?: boolean;
  /** Upstream bridge/port address, for realistic link targets. */
  parent?: string;
  sriov?: SimSriov;
  physfn?: string;
  vfIndex?: number;
  mdevTypes?: SimMdevType[];
  /** One pool all of this parent's mdev types draw from (see SimMdevType.cost); absent = a count per type. */
  mdevCapacity?: number;
  /** qemu holds /dev/vfio/N open for it (set by tests). */
  inUse?: boolean;
  /** On a PF: NVIDIA vGPU mode (vendor-specific VFIO). */
  nvidiaVgpu?: SimNvidiaVgpu;
  /** On a VF of such a PF: its current_vgpu_type (absent = 0, no vGPU). */
  vgpuType?: number;
  /**
   * An unbind from vfio-pci is waiting for qemu to close the device: the kernel holds the device lock
   * (driver_override, sriov_numvfs, uevent, drivers_probe, bind block) and `driver` is already gone.
   */
  unbinding?: boolean;
  /** Reset methods whose probe succeeds now (kernel order); absent = no reset_method file (src/sim/power.ts). */
  resetSupported?: string[];
  /** reset_method as probed at enumeration, when it differs from resetSupported (a vendor module loaded later). */
  resetDefault?: string[];
  /** reset_method as written; absent = the default. */
  resetMethod?: string[];
  /** d3cold_allowed; absent = 1. */
  d3coldAllowed?: boolean;
  /** Memory BARs for `resource` (src/sim/resources.ts): index 0-5, 6 = ROM; size in bytes. */
  bars?: { index: number; size: number; mem64?: boolean; prefetch?: boolean }[];
  /** numa_node; absent = -1 (no NUMA information). */
  numaNode?: number;
}

export interface SimMdev {
  uuid: string;
  parent: string;
  type: string;
  iommuGroup: number;
  inUse?: boolean;
  /**
   * A write to `remove` waits for qemu to close it: the bus link, the type's devices entry and the
   * device's attributes are gone, its group, /dev/vfio/N and its instance stay until qemu lets go.
   */
  removing?: boolean;
}

export interface SimWriteRecord {
  path: string;
  data: string;
}

export interface SimHostState {
  kernel: string;
  cmdline: string;
  modules: string[];
  devices: SimDevice[];
  /** mdev parents that are not PCI devices (e.g. the mtty sample). */
  mdevParents?: { name: string; types: SimMdevType[]; capacity?: number }[];
  mdevs?: SimMdev[];
  /** Extra loaded PCI drivers with no device (e.g. pci-stub). */
  drivers?: string[];
  /** Dynamic ids per driver, as written to new_id ('10de 1b80'). */
  dynamicIds?: Record<string, string[]>;
  /** The controller of the root file system ('0000:02:00.0'), optionally with its block names. */
  rootDisk?: string | { device: string; disk?: string; partition?: string };
  /** Interface that carries the default route. */
  defaultRouteNetdev?: string;
  /** Kernel log lines (what `dmesg` prints), served at var/log/dmesg. */
  dmesg?: string[];
  /** Virtual consoles, vtcon0 first (src/sim/console.ts). */
  vtconsoles?: { name: string; bound: boolean }[];
  /** Firmware framebuffer platform devices. */
  framebuffers?: { device: string; driver: string; bound?: boolean }[];
  /** systemd units and their state (the console handover's display managers). */
  units?: Record<string, 'active' | 'inactive'>;
  /** Any other file by root-relative path: etc/modprobe.d/vfio.conf, etc/libvirt/qemu.conf, … */
  files?: Record<string, string>;
}

/** The whole sim file: the host plus bookkeeping that is not host state. */
export interface SimFile extends SimHostState {
  simVersion?: number;
  /** Successful writes, in order (host writes and VF settings). */
  writeLog?: SimWriteRecord[];
  counters?: { writes: number };
  faults?: unknown;
}

export const NON_STATE_KEYS = ['simVersion', 'writeLog', 'counters', 'faults'] as const;

export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** Canonical JSON of the host state only (no log, counters or faults): equal strings = identical hosts. */
export function canonicalState(s: SimHostState): string {
  const doc: Record<string, unknown> = { ...s };
  for (const k of NON_STATE_KEYS) delete doc[k];
  return JSON.stringify(sortKeys(normalizeOrder(doc as unknown as SimHostState)), null, 1);
}

/** Devices sorted by address, mdevs by UUID: the order never depends on history. */
export function normalizeOrder<T extends SimHostState>(s: T): T {
  s.devices.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  s.mdevs?.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  return s;
}
