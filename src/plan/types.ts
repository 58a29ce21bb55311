// The plan: what prepare will change on the host, as data. Each action carries the exact operations
// that make the change (`do`) and those that put the host back (`undo`), computed from the state
// before it. Every operation is idempotent by construction (it reads first and writes only when the
// host differs), so undoing an action that never ran, ran halfway or ran twice is always safe: that
// is what lets release and recover replay a journal after any failure or crash.
import type { VfSettings } from '../host/netlink.js';

export type Op =
  /** Make sure a PCI driver is registered: on a real host, modprobe it when drivers/NAME is absent. */
  | { op: 'load-driver'; driver: string }
  /** Write `value` to D/driver_override, or clear it (null); skipped when it already reads so. */
  | { op: 'driver-override'; device: string; value: string | null }
  /** Unbind D from its driver; skipped when unbound or when bound to `keep`. */
  | { op: 'unbind'; device: string; keep?: string }
  /** Ask the kernel to probe D (drivers_probe); skipped when D is already bound to `unless`. */
  | { op: 'probe'; device: string; unless?: string }
  /** Read-only check: D must be bound to `driver` now (after a probe). */
  | { op: 'expect-driver'; device: string; driver: string }
  /** Set the PF's sriov_numvfs to `count`, through 0 when both are non-zero; skipped when equal. */
  | { op: 'sriov-numvfs'; pf: string; count: number }
  /** Like sriov-numvfs, but only when no other running domain's journal still holds this PF. */
  | { op: 'sriov-release'; pf: string; count: number }
  /** Write `uuid` to PARENT/mdev_supported_types/TYPE/create; skipped when the mdev exists. */
  | { op: 'mdev-create'; parent: string; type: string; uuid: string }
  /** Write 1 to the mdev's remove; skipped when it does not exist. */
  | { op: 'mdev-remove'; uuid: string }
  /** `ip link set dev PF vf INDEX …` with just these fields. */
  | { op: 'vf-set'; pfNetdev: string; index: number; vf: string; settings: VfSettings }
  /**
   * Write `type` to the VF's nvidia/current_vgpu_type (NVIDIA vGPU 17+; 0 destroys the vGPU), only
   * when it reads `from` now; skipped when it already reads `type`. Reading anything else is an
   * error for a create and a skip for a destroy (that vGPU is no longer ours to remove).
   */
  | { op: 'vgpu-type'; vf: string; type: number; from: number }
  /**
   * Write `value` to a reset/power attribute of D (reset_method: methods separated by spaces, '' =
   * none; d3cold_allowed: 0/1); skipped when it already reads so, read back after the write.
   */
  | { op: 'pci-attr'; device: string; attr: PciPolicyAttr; value: string }
  /** `systemctl start|stop UNIT` so that it is active (or not); skipped when it already is. */
  | { op: 'unit'; unit: string; active: boolean }
  /** Write 1/0 to sys/class/vtconsole/VTCON/bind; skipped when it reads so, or when VTCON is gone. */
  | { op: 'vtcon-bind'; vtcon: string; bound: boolean }
  /** Bind/unbind a platform device (a firmware framebuffer) to/from DRIVER; skipped when it is so, or gone. */
  | { op: 'platform-bind'; driver: string; device: string; bound: boolean };

export type PciPolicyAttr = 'reset_method' | 'd3cold_allowed';

export type ActionKind =
  | 'bind-vfio'
  | 'sriov-numvfs'
  | 'mdev-create'
  | 'vf-settings'
  | 'vgpu-type'
  | 'power-policy'
  | 'console-handover';

export interface Action {
  /** Stable identity, e.g. 'bind-vfio 0000:01:00.1': a replanned action with the same id is the same change. */
  id: string;
  kind: ActionKind;
  /** The device the action is about (PCI address or mdev UUID), named in every error. */
  device: string;
  /** Why the action is needed, for the printed plan and the journal. */
  why: string;
  do: Op[];
  undo: Op[];
}

/** What a running domain holds: other domains are refused these. */
export interface Holds {
  /** IOMMU groups of the devices assigned to the domain. */
  groups: number[];
  /** PCI devices assigned to the domain or bound to vfio-pci for it. */
  devices: string[];
  mdevs: string[];
  /** PFs whose VF count the domain relies on; `original` is the count before any domain raised it. */
  pfs: { pf: string; vfs: number; original: number }[];
}

export interface OtherDomain {
  name: string;
  uuid: string;
  holds: Holds;
}

/** Facts about the host that protect devices; detected by src/exec/host-facts (or given by a fixture). */
export interface HostFacts {
  /** PCI devices the root file system depends on (its disk's controller and the bridges above it). */
  rootDiskDevices: string[];
  /** PCI devices behind the default route's network interface(s). */
  defaultRouteDevices: string[];
  /** Every PCI display controller (class 03) on the host. */
  displayDevices: string[];
  /** A serial console is configured (console=ttyS… on the kernel command line). */
  serialConsole: boolean;
}

/** A libvirt network as the planner needs it: a VF pool when `hostdev` (forward mode='hostdev'). */
export interface NetworkInfo {
  hostdev: boolean;
  /** <pf dev='…'/> netdev names. */
  pfDevs: string[];
  /** <address type='pci' …/> VF addresses, canonical. */
  vfAddresses: string[];
}

export interface Plan {
  domain: { name: string; uuid: string };
  actions: Action[];
  holds: Holds;
  /**
   * Devices the domain needs that appear only once this plan's VF counts are raised: the executor
   * runs the actions, reads the host again and plans once more for them.
   */
  deferred: string[];
}

export function emptyHolds(): Holds {
  return { groups: [], devices: [], mdevs: [], pfs: [] };
}
