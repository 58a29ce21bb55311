// `passthru doctor --domain`: the reset and power side of each assigned device. Shows its reset
// methods (as the host has them, and as the config sets them while the domain runs); warns on a GPU
// without a usable reset: no method at all, or an AMD GPU with only pm/bus (the AMD reset bug family:
// those leave the GPU hung for the next guest), with the fix (vendor-reset + device_specific). Checks
// vfio-pci's module-wide disable_idle_d3 for devices the config marks idleD3: false.
import { formatPciAddress } from '../pci/address.js';
import type { DomainPassthrough } from '../xml/model.js';
import type { HostSnapshot, PciDeviceInfo } from '../host/types.js';
import type { Sysfs } from '../host/sysfs.js';
import type { EffectiveConfig } from '../config/types.js';
import { readPowerState } from '../host/power.js';
import { policyFor } from '../plan/gpu-policy.js';
import { both, type CheckResult } from './types.js';

export const IDLE_D3_PARAM = 'sys/module/vfio_pci/parameters/disable_idle_d3';
/** Methods that actually reset a GPU of the AMD reset bug family: none of the PCI ones (pm, bus). */
const AMD_USABLE = new Set(['device_specific', 'flr', 'af_flr', 'acpi']);

const isGpu = (d: PciDeviceInfo): boolean => d.class.startsWith('03');

/** Why the reset of `d` with `methods` is not usable, or undefined when it is. */
export function unusableReset(d: PciDeviceInfo, methods: string[] | undefined): string | undefined {
  if (!methods || methods.length === 0) return 'has no reset method';
  if (d.vendor === '1002' && isGpu(d) && !methods.some((m) => AMD_USABLE.has(m)))
    return `is an AMD GPU with only ${methods.join(', ')} reset (the AMD reset bug family: the GPU stays hung for the next start)`;
  return undefined;
}

function vendorResetFix(d: PciDeviceInfo): string {
  return `install vendor-reset (dkms) and load it at boot (echo vendor-reset > /etc/modules-load.d/vendor-reset.conf), then in /etc/passthru/config.json: {"devices": {"${d.vendor}:${d.device}": {"resetMethod": ["device_specific"]}}}`;
}

export async function gpuChecks(
  dp: DomainPassthrough,
  snap: HostSnapshot,
  sysfs: Sysfs,
  config: EffectiveConfig,
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const assigned = [...dp.pciHostdevs, ...dp.hostdevInterfaces].map((h) => formatPciAddress(h.address));
  let wantsNoIdleD3: string[] = [];
  for (const addr of [...new Set(assigned)]) {
    const d = snap.devices[addr];
    if (!d) continue; // the device check says it is missing
    const now = await readPowerState(sysfs, addr);
    const { policy } = policyFor(config, d);
    if (policy.idleD3 === false) wantsNoIdleD3 = [...wantsNoIdleD3, addr];
    const methods = policy.resetMethod ?? now.resetMethod;
    const shown = now.resetMethod === undefined ? 'no reset_method' : `reset_method '${now.resetMethod.join(' ')}'`;
    const set = policy.resetMethod ? `; while the domain runs '${policy.resetMethod.join(' ')}' (config)` : '';
    const d3 =
      policy.d3coldAllowed !== undefined && policy.d3coldAllowed !== now.d3coldAllowed
        ? `; d3cold_allowed ${policy.d3coldAllowed ? 1 : 0} while the domain runs (config)`
        : '';
    const base = { id: `reset:${addr}`, title: `reset of ${addr}`, detail: `${shown}${set}${d3}` };
    const why = unusableReset(d, methods);
    if (why && isGpu(d)) {
      out.push({
        ...base,
        status: 'warn',
        detail: `${base.detail}: ${addr} ${why}`,
        fix: both(
          d.vendor === '1002'
            ? vendorResetFix(d)
            : `libvirt cannot reset ${addr} between guests: give it a slot of its own (bus reset) or reboot the host between guests`,
        ),
      });
    } else out.push({ ...base, status: 'pass' });
  }
  if (wantsNoIdleD3.length) out.push(await idleD3Check(sysfs, wantsNoIdleD3));
  return out;
}

async function idleD3Check(sysfs: Sysfs, devices: string[]): Promise<CheckResult> {
  const base = { id: 'vfio-idle-d3', title: 'vfio-pci idle D3' };
  let v: string | undefined;
  try {
    v = (await sysfs.read(IDLE_D3_PARAM)).trim();
  } catch {
    v = undefined;
  }
  if (v === 'Y' || v === '1')
    return {
      ...base,
      status: 'pass',
      detail: `disable_idle_d3=Y: vfio-pci keeps ${devices.join(', ')} out of D3 while idle`,
    };
  return {
    ...base,
    status: 'warn',
    detail: `the config marks ${devices.join(', ')} idleD3: false, but vfio-pci ${v === undefined ? 'is not loaded (its disable_idle_d3 is unknown)' : `has disable_idle_d3=${v}`}; the option is module-wide and read when vfio-pci loads`,
    fix: {
      debian:
        'echo "options vfio-pci disable_idle_d3=1" > /etc/modprobe.d/vfio-idle-d3.conf && update-initramfs -u && reboot',
      rhel: 'echo "options vfio-pci disable_idle_d3=1" > /etc/modprobe.d/vfio-idle-d3.conf && dracut -f && reboot',
    },
  };
}
