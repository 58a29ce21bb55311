// doctor's IOMMU checks: the kernel command line, the IOMMU groups, the kernel log. Their fix is one
// command for this host (src/doctor/boot-cmdline.ts), chosen by the CPU vendor:
//   - Intel: the IOMMU is off unless intel_iommu=on (or a kernel built with it on by default);
//   - AMD: the IOMMU is on unless amd_iommu=off or iommu=off; amd_iommu has no 'on' value (the
//     kernel logs "Unknown option"), so there is nothing to add, only switches to remove.
// `iommu=pt` (host devices bypass translation) goes with any change we make.
import { layout } from '../host/layout.js';
import { cmdlineCommand, type CmdlineChange } from './boot-cmdline.js';
import type { DoctorContext } from './context.js';
import type { CpuVendor } from './platform.js';
import { both, type CheckResult, type Fix } from './types.js';

/** Every value given to `name=` on the command line, in order. */
const values = (cmdline: string, name: string): string[] =>
  cmdline
    .split(/\s+/)
    .filter((w) => w.startsWith(`${name}=`))
    .map((w) => w.slice(name.length + 1));
const hasValue = (cmdline: string, name: string, v: string): boolean =>
  values(cmdline, name).some((x) => x.split(',').includes(v));

/** The CPU vendor from /proc/cpuinfo, else from what the kernel log or command line say. */
function vendorOf(ctx: DoctorContext): CpuVendor | undefined {
  if (ctx.cpu) return ctx.cpu;
  if (/\bDMAR\b/.test(ctx.log.text ?? '') || values(ctx.cmdline, 'intel_iommu').length) return 'intel';
  if (/AMD-Vi/.test(ctx.log.text ?? '') || values(ctx.cmdline, 'amd_iommu').length) return 'amd';
  return undefined;
}

/** Words on the running command line that keep the IOMMU off for this vendor. */
function offSwitches(cmdline: string, vendor: CpuVendor | undefined): string[] {
  const own = vendor === 'intel' ? ['intel_iommu'] : vendor === 'amd' ? ['amd_iommu'] : ['intel_iommu', 'amd_iommu'];
  return cmdline.split(/\s+/).filter(
    (w) =>
      w === 'iommu=off' ||
      own.some(
        (n) =>
          w.startsWith(`${n}=`) &&
          w
            .slice(n.length + 1)
            .split(',')
            .includes('off'),
      ),
  );
}

/** What the command line needs for this vendor; empty when nothing (an AMD IOMMU that is missing is the firmware's doing). */
export function iommuChange(cmdline: string, vendor: CpuVendor): CmdlineChange {
  const remove = offSwitches(cmdline, vendor);
  const add = vendor === 'intel' && !hasValue(cmdline, 'intel_iommu', 'on') ? ['intel_iommu=on'] : [];
  if (add.length + remove.length && !cmdline.split(/\s+/).some((w) => w.startsWith('iommu=') && w !== 'iommu=off'))
    add.push('iommu=pt');
  return { add, remove };
}

const FIRMWARE = {
  intel: 'enable VT-d in the firmware setup',
  amd: 'enable the IOMMU (AMD-Vi) in the firmware setup',
  unknown: 'enable VT-d (Intel) or the IOMMU (AMD-Vi) in the firmware setup',
};
const FIRMWARE_TOO = {
  intel: 'VT-d must be on in the firmware setup too',
  amd: 'the IOMMU (AMD-Vi) must be on in the firmware setup too',
};

/** The fix for an IOMMU that is not on: the command line change for this host, or the firmware. */
function iommuFix(ctx: DoctorContext): Fix {
  const vendor = vendorOf(ctx);
  if (!vendor)
    return both(
      `# no CPU vendor in /${layout.cpuinfo}: on Intel add intel_iommu=on to the kernel command line; on AMD remove amd_iommu=off and iommu=off; ${FIRMWARE.unknown}`,
    );
  const change = iommuChange(ctx.cmdline, vendor);
  if (change.add.length + change.remove.length === 0) return both(`# ${FIRMWARE[vendor]}`);
  return both(
    `${cmdlineCommand(ctx.boot, change)}${ctx.boot.kind === 'unknown' ? '' : `   # ${FIRMWARE_TOO[vendor]}`}`,
  );
}

export function checkIommuCmdline(ctx: DoctorContext): CheckResult {
  const base = { id: 'iommu-cmdline', title: 'IOMMU enabled on the kernel command line' };
  const vendor = vendorOf(ctx);
  const groups = Object.keys(ctx.snap.groups).length;
  const off = offSwitches(ctx.cmdline, vendor);
  if (off.length)
    return {
      ...base,
      status: 'fail',
      detail: `the command line turns the IOMMU off (${off.join(' ')})`,
      fix: iommuFix(ctx),
    };
  const intelOn = values(ctx.cmdline, 'intel_iommu').find((v) => v.split(',').includes('on'));
  const pt = values(ctx.cmdline, 'iommu').pop();
  if (intelOn !== undefined)
    return { ...base, status: 'pass', detail: `intel_iommu=${intelOn}${pt ? ` iommu=${pt}` : ''}` };
  if (vendor === 'amd')
    return {
      ...base,
      status: 'pass',
      detail: 'AMD: the IOMMU is on unless amd_iommu=off or iommu=off, and neither is set',
    };
  if (groups > 0)
    return {
      ...base,
      status: 'pass',
      detail: 'no intel_iommu=on, but the IOMMU is on by default on this kernel (IOMMU groups exist)',
    };
  return { ...base, status: 'fail', detail: 'intel_iommu=on is not on the kernel command line', fix: iommuFix(ctx) };
}

export function checkIommuGroups(ctx: DoctorContext): CheckResult {
  const base = { id: 'iommu-groups', title: 'IOMMU groups present' };
  const n = Object.keys(ctx.snap.groups).length;
  if (n > 0) return { ...base, status: 'pass', detail: `${n} IOMMU groups in ${layout.iommuGroups}` };
  return {
    ...base,
    status: 'fail',
    detail: `${layout.iommuGroups} is empty: the IOMMU is off or missing`,
    fix: iommuFix(ctx),
  };
}

// Lines the IOMMU drivers print once they have found and set up the hardware. ("iommu: Default
// domain type" is not one: the IOMMU core prints it on machines without an IOMMU too.)
const IOMMU_LOG =
  /DMAR: IOMMU enabled|DMAR: Intel\(R\) Virtualization Technology for Directed I\/O|AMD-Vi: (?:AMD IOMMUv2|Found IOMMU|Interrupt remapping enabled|IOMMU performance counters)/;

export function checkIommuLog(ctx: DoctorContext): CheckResult {
  const base = { id: 'iommu-kernel-log', title: 'IOMMU initialised (DMAR/AMD-Vi in the kernel log)' };
  const line = ctx.log.text
    ?.split('\n')
    .find((l) => IOMMU_LOG.test(l))
    ?.replace(/^\[[^\]]*\]\s*/, '')
    .trim();
  const groups = Object.keys(ctx.snap.groups).length;
  // the log says what a driver set out to do; the groups say whether any device is behind an IOMMU
  if (groups === 0)
    return {
      ...base,
      status: 'fail',
      detail: `${line ? `the kernel log says "${line}", but ` : ''}${layout.iommuGroups} is empty: no device is behind an IOMMU`,
      fix: iommuFix(ctx),
    };
  if (ctx.log.text === undefined)
    return {
      ...base,
      status: 'warn',
      detail: `kernel log not readable: ${ctx.log.source}`,
      fix: both('sudo passthru doctor   # reading the kernel log needs root where kernel.dmesg_restrict=1'),
    };
  if (line) return { ...base, status: 'pass', detail: `${line} (from ${ctx.log.source})` };
  return {
    ...base,
    status: 'warn',
    detail: `no DMAR or AMD-Vi initialisation line in the kernel log (${ctx.log.source}), though ${groups} IOMMU groups exist: the boot messages may have left the log buffer`,
  };
}
