// Host-wide settings from /etc/passthru/config.json (or PASSTHRU_CONFIG), described by
// schemas/config.schema.json. Every field is optional; `withDefaults` fills the rest.

export interface PassthruConfig {
  /** Devices the hook must never detach: PCI addresses, slots (01:00) or lspci filters (10de::0300). */
  protected?: string[];
  /** Which host facts protect devices on their own (all on by default). */
  autoProtect?: {
    rootDisk?: boolean;
    defaultRoute?: boolean;
    bootVga?: boolean;
  };
  /** Upper bound of one host write (sysfs or `ip`), in ms; a write that takes longer fails. */
  writeTimeoutMs?: number;
  /** Reset and power policy per device, by PCI address or vendor:device (src/plan/gpu-policy.ts). */
  devices?: Record<string, DevicePolicy>;
  /** Single-GPU console handover settings (src/plan/console.ts). */
  console?: { displayManagers?: string[] };
}

/** What a domain's hold of one device changes on it (each field optional: absent = left as it is). */
export interface DevicePolicy {
  /** reset_method while held: methods in the order the kernel tries them. */
  resetMethod?: string[];
  /** d3cold_allowed while held. */
  d3coldAllowed?: boolean;
  /** false: the device must not idle in D3 under vfio-pci (module-wide disable_idle_d3; checked by doctor). */
  idleD3?: boolean;
  /** The vfio driver the hook binds this device to (a variant driver such as mlx5_vfio_pci); default vfio-pci. */
  vfioDriver?: string;
  /** Hand the host console over when a domain takes this boot VGA (instead of refusing the start). */
  consoleHandover?: boolean;
}

export interface EffectiveConfig {
  protected: string[];
  autoProtect: { rootDisk: boolean; defaultRoute: boolean; bootVga: boolean };
  writeTimeoutMs: number;
  devices: Record<string, DevicePolicy>;
  console: { displayManagers: string[] };
}

/** The unit a single-GPU handover stops when nothing else is configured (the distributions' alias of gdm/sddm/lightdm). */
export const DEFAULT_DISPLAY_MANAGERS = ['display-manager.service'];

export const DEFAULT_WRITE_TIMEOUT_MS = 10_000;

export function withDefaults(c: PassthruConfig): EffectiveConfig {
  const eff: EffectiveConfig = {
    protected: [...(c.protected ?? [])],
    autoProtect: {
      rootDisk: c.autoProtect?.rootDisk ?? true,
      defaultRoute: c.autoProtect?.defaultRoute ?? true,
      bootVga: c.autoProtect?.bootVga ?? true,
    },
    writeTimeoutMs: c.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS,
    devices: { ...(c.devices ?? {}) },
    console: { displayManagers: [...(c.console?.displayManagers ?? DEFAULT_DISPLAY_MANAGERS)] },
  };
  return eff;
}
