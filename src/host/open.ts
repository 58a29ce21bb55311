// Which host a command works on: PASSTHRU_SIM=FILE (or --sim FILE) -> the simulated host in FILE;
// otherwise the real one under PASSTHRU_ROOT (default '/') with `ip` for VF settings.
import { NodeSysfs } from './node-sysfs.js';
import type { Sysfs } from './sysfs.js';
import type { NetLink, VfInfo, VfSettings } from './netlink.js';
import type { SimKernel } from '../sim/kernel.js';

export interface OpenHost {
  sysfs: Sysfs;
  netlink: NetLink;
  kind: 'sim' | 'real';
  /** The sim file, or the real root directory. */
  root: string;
  sim?: SimKernel;
}

export async function openHost(env: NodeJS.ProcessEnv = process.env): Promise<OpenHost> {
  const simFile = env.PASSTHRU_SIM;
  if (simFile) {
    const { SimKernel } = await import('../sim/kernel.js');
    const sim = SimKernel.load(simFile, env);
    return { sysfs: sim, netlink: sim, kind: 'sim', root: simFile, sim };
  }
  const root = env.PASSTHRU_ROOT || '/';
  return { sysfs: new NodeSysfs(root), netlink: new LazyIpCommand(), kind: 'real', root };
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
