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
}

export interface EffectiveConfig {
  protected: string[];
  autoProtect: { rootDisk: boolean; defaultRoute: boolean; bootVga: boolean };
  writeTimeoutMs: number;
}

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
  };
  return eff;
}
