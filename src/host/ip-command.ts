// VF settings through iproute2: `ip -j -d link show dev PF` to read (vfinfo_list), `ip link set dev PF
// vf K …` to change. Each call is bounded by a timeout: a wedged PF driver must not hang the hook.
import { execa } from 'execa';
import { errnoError } from './sysfs.js';
import type { NetLink, VfInfo, VfLinkState, VfSettings } from './netlink.js';

const IFNAME = /^[A-Za-z0-9_.:@+-]{1,15}$/;

interface IpVfInfo {
  vf: number;
  address?: string;
  mac?: string;
  vlan?: number;
  qos?: number;
  vlan_list?: { vlan?: number; qos?: number }[];
  rate?: { max_tx?: number; min_tx?: number; tx?: number };
  spoofchk?: boolean;
  trust?: boolean;
  link_state?: string;
}

/** Parses `ip -j -d link show dev PF` output into VfInfo (exported for tests). */
export function parseVfInfo(json: string): VfInfo[] {
  const links = JSON.parse(json) as { vfinfo_list?: IpVfInfo[] }[];
  const list = links[0]?.vfinfo_list ?? [];
  return list
    .map((v): VfInfo => {
      const vl = v.vlan_list?.[0];
      const info: VfInfo = {
        index: v.vf,
        mac: (v.address ?? v.mac ?? '00:00:00:00:00:00').toLowerCase(),
        vlan: vl?.vlan ?? v.vlan ?? 0,
      };
      const qos = vl?.qos ?? v.qos;
      info.qos = qos ?? 0;
      if (v.spoofchk !== undefined) info.spoofchk = v.spoofchk;
      if (v.trust !== undefined) info.trust = v.trust;
      if (v.link_state) info.state = v.link_state.toLowerCase() as VfLinkState;
      info.minRate = v.rate?.min_tx ?? 0;
      info.maxRate = v.rate?.max_tx ?? v.rate?.tx ?? 0;
      return info;
    })
    .sort((a, b) => a.index - b.index);
}

/** The `ip link set` arguments for the given settings (exported for tests). */
export function vfSetArgs(pfNetdev: string, index: number, s: VfSettings): string[] {
  const a = ['link', 'set', 'dev', pfNetdev, 'vf', String(index)];
  if (s.mac !== undefined) a.push('mac', s.mac);
  if (s.vlan !== undefined) a.push('vlan', String(s.vlan), ...(s.qos !== undefined ? ['qos', String(s.qos)] : []));
  if (s.spoofchk !== undefined) a.push('spoofchk', s.spoofchk ? 'on' : 'off');
  if (s.trust !== undefined) a.push('trust', s.trust ? 'on' : 'off');
  if (s.state !== undefined) a.push('state', s.state);
  if (s.minRate !== undefined) a.push('min_tx_rate', String(s.minRate));
  if (s.maxRate !== undefined) a.push('max_tx_rate', String(s.maxRate));
  return a;
}

export class IpCommand implements NetLink {
  constructor(
    private readonly timeoutMs = 5000,
    private readonly ipBin = 'ip',
  ) {}

  private check(name: string): void {
    if (!IFNAME.test(name)) throw errnoError('EINVAL', `invalid interface name '${name}'`);
  }

  async listVfs(pfNetdev: string): Promise<VfInfo[]> {
    this.check(pfNetdev);
    const r = await execa(this.ipBin, ['-j', '-d', 'link', 'show', 'dev', pfNetdev], {
      timeout: this.timeoutMs,
      reject: false,
    });
    if (r.exitCode !== 0)
      throw errnoError('ENODEV', `ip link show ${pfNetdev}: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`);
    return parseVfInfo(String(r.stdout));
  }

  async setVf(pfNetdev: string, index: number, settings: VfSettings): Promise<void> {
    this.check(pfNetdev);
    if (!Number.isInteger(index) || index < 0) throw errnoError('EINVAL', `invalid VF index ${index}`);
    const r = await execa(this.ipBin, vfSetArgs(pfNetdev, index, settings), { timeout: this.timeoutMs, reject: false });
    if (r.exitCode !== 0)
      throw errnoError(
        r.timedOut ? 'ETIMEDOUT' : 'EIO',
        `ip ${vfSetArgs(pfNetdev, index, settings).join(' ')}: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`,
      );
  }
}
