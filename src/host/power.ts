// Reads a device's reset and power attributes (reset_method, d3cold_allowed) for the policy planner.
import { layout } from './layout.js';
import { isErrno, type Sysfs } from './sysfs.js';
import type { DevicePowerState } from '../plan/gpu-policy.js';

/** reset_method as a list: the kernel prints the enabled methods separated by spaces, nothing when none. */
export function parseResetMethod(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}

async function optional(p: Promise<string>): Promise<string | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

export async function readPowerState(sysfs: Sysfs, address: string): Promise<DevicePowerState> {
  const [reset, d3cold] = await Promise.all([
    optional(sysfs.read(layout.pciAttr(address, 'reset_method'))),
    optional(sysfs.read(layout.pciAttr(address, 'd3cold_allowed'))),
  ]);
  const out: DevicePowerState = {};
  if (reset !== undefined) out.resetMethod = parseResetMethod(reset);
  if (d3cold !== undefined) out.d3coldAllowed = d3cold.trim() !== '0';
  return out;
}
