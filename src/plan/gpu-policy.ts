// PURE: the reset and power policy of the devices a domain takes (config `devices`, by PCI address or
// vendor:device). For each taken device with a policy, one action writes the attributes that differ
// from the host now (reset_method, d3cold_allowed) and its undo writes back exactly what was read.
// Refused before any change: a resetMethod for a device without reset_method (kernel < 5.15, or a
// device with no reset at all), and a device whose reset methods are all disabled now (an empty
// reset_method): writing the wanted list is possible, but its undo would have to disable every
// method again, which is more likely a leftover than a choice to keep.
// idleD3 is not a per-device attribute: vfio-pci reads disable_idle_d3 once, at load, for all its
// devices, and its probe re-allows runtime PM (power/control) on every device it binds; doctor
// checks that option (src/doctor/gpu.ts), the hook changes nothing for it.
import { InputError } from '../errors.js';
import { formatPciAddress, parsePciAddress } from '../pci/address.js';
import type { DevicePolicy, EffectiveConfig } from '../config/types.js';
import type { HostSnapshot, PciDeviceInfo } from '../host/types.js';
import type { Action, Op } from './types.js';

/** What the host shows now of the attributes a policy sets (src/host/power.ts reads it). */
export interface DevicePowerState {
  /** reset_method split on spaces; undefined when the file does not exist. */
  resetMethod?: string[];
  /** d3cold_allowed; undefined when the file does not exist (a kernel without runtime PM). */
  d3coldAllowed?: boolean;
}

const VENDOR_DEVICE = /^([0-9a-f]{4}):([0-9a-f]{4})$/i;

/** A config key in canonical form: '0000:03:00.0' or '1002:73bf'; InputError when it is neither. */
export function policyKey(key: string): string {
  if (VENDOR_DEVICE.test(key)) return key.toLowerCase();
  try {
    return formatPciAddress(parsePciAddress(key));
  } catch {
    throw new InputError(`config devices: '${key}' is neither a PCI address nor vendor:device (e.g. 1002:73bf)`);
  }
}

/** Canonical keys of the config's `devices`; two keys naming one device are an InputError. */
export function canonicalPolicies(devices: Record<string, DevicePolicy>): Record<string, DevicePolicy> {
  const out: Record<string, DevicePolicy> = {};
  for (const [k, v] of Object.entries(devices)) {
    const c = policyKey(k);
    if (out[c]) throw new InputError(`config devices: '${k}' names the same device as another key (${c})`);
    out[c] = v;
  }
  return out;
}

/** The device's policy: its vendor:device entry overlaid by its address entry, field by field. */
export function policyFor(config: EffectiveConfig, dev: PciDeviceInfo): { policy: DevicePolicy; keys: string[] } {
  const byId = config.devices[`${dev.vendor}:${dev.device}`];
  const byAddr = config.devices[dev.address];
  const keys = [...(byId ? [`${dev.vendor}:${dev.device}`] : []), ...(byAddr ? [dev.address] : [])];
  return { policy: { ...byId, ...byAddr }, keys };
}

/** Whether the hook must read the device's power state (it has a policy that sets something). */
export function hasPolicy(config: EffectiveConfig, dev: PciDeviceInfo): boolean {
  const { policy } = policyFor(config, dev);
  return policy.resetMethod !== undefined || policy.d3coldAllowed !== undefined;
}

/** The devices of a snapshot whose power state the planner needs. */
export function policyAddresses(config: EffectiveConfig, snap: HostSnapshot): string[] {
  if (Object.keys(config.devices).length === 0) return [];
  return Object.values(snap.devices)
    .filter((d) => hasPolicy(config, d))
    .map((d) => d.address)
    .sort();
}

export interface PolicyPlanInput {
  /** Every device the domain takes (assigned and group peers), sorted. */
  taken: string[];
  snapshot: HostSnapshot;
  config: EffectiveConfig;
  power: Record<string, DevicePowerState>;
  done: Set<string>;
  refuse(device: string, reason: string): never;
}

export function planDevicePolicies(input: PolicyPlanInput): Action[] {
  const actions: Action[] = [];
  for (const addr of input.taken) {
    const dev = input.snapshot.devices[addr];
    if (!dev || !hasPolicy(input.config, dev)) continue;
    const { policy, keys } = policyFor(input.config, dev);
    const from = `the configuration ('${keys.join("', '")}')`;
    const now = input.power[addr] ?? input.refuse(addr, `has a policy in ${from} but its power state was not read`);
    const doOps: Op[] = [];
    const undoOps: Op[] = [];
    const fields: string[] = [];
    if (policy.resetMethod) {
      if (!now.resetMethod)
        input.refuse(
          addr,
          `has no reset_method attribute (kernel 5.15+ shows it only for a device with a reset method): cannot apply resetMethod from ${from}`,
        );
      if (now.resetMethod!.length === 0)
        input.refuse(
          addr,
          `has every reset method disabled (reset_method is empty): write 'default' to its reset_method first, then ${from} applies resetMethod`,
        );
      const want = policy.resetMethod.join(' ');
      const was = now.resetMethod!.join(' ');
      if (want !== was) {
        doOps.push({ op: 'pci-attr', device: addr, attr: 'reset_method', value: want });
        undoOps.push({ op: 'pci-attr', device: addr, attr: 'reset_method', value: was });
        fields.push(`reset_method '${want}' (was '${was}')`);
      }
    }
    if (policy.d3coldAllowed !== undefined) {
      if (now.d3coldAllowed === undefined)
        input.refuse(addr, `has no d3cold_allowed attribute: cannot apply d3coldAllowed from ${from}`);
      if (policy.d3coldAllowed !== now.d3coldAllowed) {
        const bit = (b: boolean): string => (b ? '1' : '0');
        doOps.push({ op: 'pci-attr', device: addr, attr: 'd3cold_allowed', value: bit(policy.d3coldAllowed) });
        undoOps.push({ op: 'pci-attr', device: addr, attr: 'd3cold_allowed', value: bit(now.d3coldAllowed!) });
        fields.push(`d3cold_allowed ${bit(policy.d3coldAllowed)} (was ${bit(now.d3coldAllowed!)})`);
      }
    }
    const id = `power-policy ${addr}`;
    if (doOps.length === 0 || input.done.has(id)) continue;
    actions.push({
      id,
      kind: 'power-policy',
      device: addr,
      why: `${fields.join(', ')} from ${from}`,
      do: doOps,
      // restored in the reverse order of setting
      undo: undoOps.reverse(),
    });
  }
  return actions;
}
