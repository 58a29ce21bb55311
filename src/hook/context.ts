// Everything a hook run needs from its environment, opened once: the host (real root or simulator),
// the config, the state dir and the write timeout. The env contract (kept by `passthru install`,
// which writes these into hooks/qemu because libvirtd gives hooks a minimal environment):
//   PASSTHRU_SIM=FILE          simulated host persisted in FILE (state dir FILE.state)
//   PASSTHRU_ROOT=DIR          host root for sysfs/proc/etc paths and libvirt's files (default /)
//   PASSTHRU_CONFIG=FILE       config file (default <root>/etc/passthru/config.json)
//   PASSTHRU_STATE_DIR=DIR     journals and lock (default see exec/state-dir.ts)
//   PASSTHRU_WRITE_TIMEOUT_MS  bound of one host write (default config writeTimeoutMs, else 10000)
import { openHost } from '../host/open.js';
import type { Sysfs } from '../host/sysfs.js';
import type { NetLink } from '../host/netlink.js';
import { loadConfig } from '../config/load.js';
import type { EffectiveConfig } from '../config/types.js';
import { timeoutFromEnv } from '../host/bounded.js';
import { stateDirFor } from '../exec/state-dir.js';
import type { ExecEnv } from '../exec/run.js';
import { modprobe } from '../exec/modules.js';
import type { UnitControl } from '../host/units.js';

export interface HookContext {
  sysfs: Sysfs;
  netlink: NetLink;
  /** Root of libvirt's real files (network XML); absent: they are not read (pool networks not judged). */
  root?: string;
  config: EffectiveConfig;
  stateDir: string;
  timeoutMs: number;
  /** Modules can be loaded only on the real host seen at '/'. */
  realRoot: boolean;
  /** systemd, for the console handover (src/host/units.ts). */
  units?: UnitControl;
}

export function timeoutFrom(env: NodeJS.ProcessEnv, config: EffectiveConfig): number {
  return timeoutFromEnv(env, config.writeTimeoutMs);
}

export async function openContext(env: NodeJS.ProcessEnv = process.env): Promise<HookContext> {
  const host = await openHost(env);
  const config = await loadConfig(host.sysfs, env);
  const ctx: HookContext = {
    sysfs: host.sysfs,
    netlink: host.netlink,
    root: env.PASSTHRU_ROOT || '/',
    config,
    stateDir: stateDirFor(env),
    timeoutMs: timeoutFrom(env, config),
    realRoot: host.kind !== 'sim' && (env.PASSTHRU_ROOT || '/') === '/',
  };
  if (host.units) ctx.units = host.units;
  return ctx;
}

export function execEnv(ctx: HookContext, report: (line: string) => void): ExecEnv {
  const e: ExecEnv = {
    sysfs: ctx.sysfs,
    netlink: ctx.netlink,
    stateDir: ctx.stateDir,
    timeoutMs: ctx.timeoutMs,
    report,
  };
  if (ctx.realRoot) e.loadModule = (name) => modprobe(name, ctx.timeoutMs);
  if (ctx.units) e.units = ctx.units;
  return e;
}
