// VF network settings that live in the PF driver, read and set through `ip` (IpCommand) or the
// simulator. Field names follow `ip -j -d link show`'s vfinfo_list where they can.

export type VfLinkState = 'auto' | 'enable' | 'disable';

export interface VfSettings {
  mac?: string; // lower-case aa:bb:cc:dd:ee:ff
  vlan?: number; // 0 = none
  qos?: number;
  spoofchk?: boolean;
  trust?: boolean;
  state?: VfLinkState;
  minRate?: number; // Mbps, 0 = unlimited
  maxRate?: number; // Mbps, 0 = unlimited
}

/** A VF's settings as the kernel starts it (what a PF driver reports for a fresh VF, igb/ixgbe). */
export const VF_DEFAULTS: Readonly<Required<VfSettings>> = {
  mac: '00:00:00:00:00:00',
  vlan: 0,
  qos: 0,
  spoofchk: true,
  trust: false,
  state: 'auto',
  minRate: 0,
  maxRate: 0,
};

export interface VfInfo extends VfSettings {
  index: number; // K in `ip link set dev PF vf K`
  mac: string;
  vlan: number;
}

export interface NetLink {
  /** The VFs of a PF netdev as the PF driver reports them. */
  listVfs(pfNetdev: string): Promise<VfInfo[]>;
  /** Sets only the given fields of VF `index`. */
  setVf(pfNetdev: string, index: number, settings: VfSettings): Promise<void>;
}
