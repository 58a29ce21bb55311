// Which host a command works on: PASSTHRU_SIM=FILE (or --sim FILE) -> the simulated host in FILE;
// otherwise the real one under PASSTHRU_ROOT (default '/') with `ip` for VF settings.
import { NodeSysfs } from './node-sysfs.js';
import type { Sysfs } from './sysfs.js';
import type { NetLink } from './netlink.js';
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
  const { IpCommand } = await import('./ip-command.js');
  const root = env.PASSTHRU_ROOT || '/';
  return { sysfs: new NodeSysfs(root), netlink: new IpCommand(), kind: 'real', root };
}
