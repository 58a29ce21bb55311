// Which host a command works on: PASSTHRU_SIM=FILE (or --sim FILE) -> the simulated host in FILE;
// otherwise the real one under PASSTHRU_ROOT (default '/') with `ip` for VF settings.
import { NodeSysfs } from './node-sysfs.js';
import type { Sysfs } from './sysfs.js';
import type { NetLink, VfInfo, VfSettings } from './netlink.js';
import type { SimKernel } from '../sim/kernel.js';
import { SystemctlUnits, type UnitControl } from './units.js';

export interface OpenHost {
  sysfs: Sysfs;
  netlink: NetLink;
  kind: 'sim' | 'real';
  /** The sim file, or the real root directory. */
  root: string;
  sim?: SimKernel;
  /** systemd: the simulator's units, `systemctl` on the real host (PASSTHRU_SYSTEMCTL names another), else none. */
  units?: UnitControl;
}

export async function openHost(env: NodeJS.ProcessEnv = process.env): Promise<OpenHost> {
  const simFile = env.PASSTHRU_SIM;
  if (simFile) {
    const { SimKernel } = await import('../sim/kernel.js');
    const sim = SimKernel.load(simFile, env);
    const { simUnits } = await import('../sim/console.js');
    const units = simUnits(
      (fn) => sim.peek(fn),
      (fn) => sim.change(fn),
    );
    return { sysfs: sim, netlink: sim, kind: 'sim', root: simFile, sim, units };
  }
  const root = env.PASSTHRU_ROOT || '/';
  const host: OpenHost = { sysfs: new NodeSysfs(root), netlink: new LazyIpCommand(), kind: 'real', root };
  // systemd belongs to the machine at '/': under another root only an explicitly named systemctl is used
  if (env.PASSTHRU_SYSTEMCTL) host.units = new SystemctlUnits(env.PASSTHRU_SYSTEMCTL);
  else if (root === '/') host.units = new SystemctlUnits();
  return host;
}

/**
 * `ip` through execa, loaded on the first VF call: list, doctor and xmlfix open the host but never
 * touch a VF, and loading execa costs more than reading a small host.
 */
export class LazyIpCommand implements NetLink {
  private ip?: Promise<NetLink>;

  private load(): Promise<NetLink> {
    return (this.ip ??= import('./ip-command.js').then((m) => new m.IpCommand()));
  }

  async listVfs(pfNetdev: string): Promise<VfInfo[]> {
    return (await this.load()).listVfs(pfNetdev);
  }

  async setVf(pfNetdev: string, index: number, settings: VfSettings): Promise<void> {
    return (await this.load()).setVf(pfNetdev, index, settings);
  }
}
