// Builders for the actions whose do/undo pairs are shared by several planners.
import type { PciDeviceInfo } from '../host/types.js';
import { VF_DEFAULTS, type VfInfo, type VfSettings } from '../host/netlink.js';
import type { Action, Op } from './types.js';

const VFIO = 'vfio-pci';

/**
 * Bind one device to vfio-pci (or the vfio variant driver `to`) with driver_override + unbind +
 * drivers_probe; undo restores its driver.
 */
export function bindVfioAction(dev: PciDeviceInfo, why: string, to = VFIO): Action {
  const d = dev.address;
  const undo: Op[] = [{ op: 'driver-override', device: d, value: dev.driverOverride ?? null }];
  if (dev.driver) {
    undo.push(
      { op: 'unbind', device: d, keep: dev.driver },
      { op: 'probe', device: d, unless: dev.driver },
      { op: 'expect-driver', device: d, driver: dev.driver },
    );
  } else {
    undo.push({ op: 'unbind', device: d });
  }
  return {
    id: `bind-vfio ${d}`,
    kind: 'bind-vfio',
    device: d,
    why: `${why}; was ${dev.driver ? `on ${dev.driver}` : 'unbound'}`,
    do: [
      { op: 'load-driver', driver: to },
      { op: 'driver-override', device: d, value: to },
      { op: 'unbind', device: d, keep: to },
      { op: 'probe', device: d, unless: to },
      { op: 'expect-driver', device: d, driver: to },
    ],
    undo,
  };
}

/** Set the fields of `want` that differ from `cur`; undo sets them back. Undefined when nothing differs. */
export function vfSettingsAction(
  vf: string,
  pfNetdev: string,
  index: number,
  cur: VfInfo,
  want: VfSettings,
): Action | undefined {
  const set: Record<string, unknown> = {};
  const before: Record<string, unknown> = {};
  for (const key of Object.keys(want).sort() as (keyof VfSettings)[]) {
    const now = cur[key] ?? VF_DEFAULTS[key]; // a field the PF driver does not report reads as the kernel's default
    if (want[key] === now) continue;
    set[key] = want[key];
    before[key] = now;
  }
  if (Object.keys(set).length === 0) return undefined;
  const fields = Object.entries(set)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return {
    id: `vf-settings ${vf}`,
    kind: 'vf-settings',
    device: vf,
    why: `VF ${index} of ${pfNetdev}: ${fields}`,
    do: [{ op: 'vf-set', pfNetdev, index, vf, settings: set as VfSettings }],
    undo: [{ op: 'vf-set', pfNetdev, index, vf, settings: before as VfSettings }],
  };
}
