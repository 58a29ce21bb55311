// The state planPrepare's sections share: the input, what is decided so far (holds, VF counts,
// assigned devices and their peers) and the one way to refuse. Each section (prepare-*.ts) reads
// what the ones before it decided and adds its own actions.
import { formatPciAddress } from '../pci/address.js';
import type { DomainPassthrough, MdevRequest } from '../xml/model.js';
import type { HostSnapshot } from '../host/types.js';
import type { VfInfo } from '../host/netlink.js';
import type { EffectiveConfig } from '../config/types.js';
import type { Action, HostFacts, Holds, NetworkInfo, OtherDomain } from './types.js';
import { PlanRefusal } from './refusal.js';
import type { DevicePowerState } from './gpu-policy.js';
import type { ConsoleState } from './console.js';

export interface PrepareInput {
  domain: DomainPassthrough;
  snapshot: HostSnapshot;
  config: EffectiveConfig;
  facts: HostFacts;
  /** Other running domains (from their journals). */
  others: OtherDomain[];
  /** VF link state of the PFs involved, by PF netdev (NetLink.listVfs). */
  links: Record<string, VfInfo[]>;
  /** mdevctl definitions, used for an mdev the metadata does not describe. */
  mdevDefinitions?: MdevRequest[];
  /**
   * libvirt networks of the domain's <interface type='network'>, by name; null = no such network.
   * Absent: networks were not read, and pools are not checked.
   */
  networks?: Record<string, NetworkInfo | null>;
  /** Actions already journaled for this domain (a second pass after VF creation): not planned again. */
  done?: Action[];
  /** reset_method / d3cold_allowed now, of the taken devices with a config policy (gpu-policy.ts). */
  power?: Record<string, DevicePowerState>;
  /** The host console (vtconsoles, firmware framebuffers, display managers), read when a handover is wanted. */
  console?: ConsoleState;
}

/** A device the domain assigns: `<hostdev type='pci'>` or `<interface type='hostdev'>`. */
export interface Assigned {
  address: string;
  managed: boolean;
  iface: boolean; // <interface type='hostdev'>: libvirt sets its MAC/VLAN
}

export interface PrepareContext {
  input: PrepareInput;
  snap: HostSnapshot;
  /** Ids of actions journaled by an earlier pass. */
  done: Set<string>;
  holds: Holds;
  /** PF address -> VFs this domain needs there (<passthru:pf>). */
  pfRequests: Map<string, number>;
  /** VF addresses that appear once this plan's VF counts are raised. */
  predicted: Set<string>;
  assigned: Map<string, Assigned>;
  /** Assigned devices that appear only once the VFs exist: planned in the second pass. */
  deferred: string[];
  refuse(device: string, reason: string): never;
  /** The other running domain whose holds satisfy `pred`. */
  holder(pred: (h: Holds) => boolean): OtherDomain | undefined;
}

export function newContext(input: PrepareInput): PrepareContext {
  const assigned = new Map<string, Assigned>();
  for (const h of input.domain.pciHostdevs) {
    const address = formatPciAddress(h.address);
    assigned.set(address, { address, managed: h.managed, iface: false });
  }
  for (const h of input.domain.hostdevInterfaces) {
    const address = formatPciAddress(h.address);
    assigned.set(address, { address, managed: h.managed, iface: true });
  }
  return {
    input,
    snap: input.snapshot,
    done: new Set((input.done ?? []).map((a) => a.id)),
    holds: { groups: [], devices: [], mdevs: [], pfs: [] },
    pfRequests: new Map(),
    predicted: new Set(),
    assigned,
    deferred: [],
    refuse: (device, reason) => {
      throw new PlanRefusal(device, reason);
    },
    holder: (pred) => input.others.find((o) => pred(o.holds)),
  };
}
