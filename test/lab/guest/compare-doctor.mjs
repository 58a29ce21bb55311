// Compares `passthru doctor --json` (file argv[2], src/doctor/types.ts DoctorReport) with what the
// guest kernel says, for the checks the kernel alone decides: each must pass exactly when the fact
// holds. Host-configuration checks (modprobe.d, qemu.conf, LSMs) are printed, not judged.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const checks = new Map((report.checks ?? []).map((c) => [c.id, c]));
const cmdline = readFileSync('/proc/cmdline', 'utf8');
const modules = readFileSync('/proc/modules', 'utf8')
  .split('\n')
  .map((l) => l.split(' ')[0]);
const dmesg = execFileSync('dmesg', { encoding: 'utf8' });
const kernelFacts = {
  'iommu-cmdline': /(^|\s)(intel_iommu|amd_iommu)=on(\s|$)/.test(cmdline),
  'iommu-groups': existsSync('/sys/kernel/iommu_groups') && readdirSync('/sys/kernel/iommu_groups').length > 0,
  'iommu-kernel-log': /DMAR: IOMMU enabled|AMD-Vi/.test(dmesg),
  'interrupt-remapping': /Enabled IRQ remapping/.test(dmesg),
  'vfio-modules': ['vfio', 'vfio_iommu_type1', 'vfio_pci'].every((m) => modules.includes(m)),
  'dev-vfio': existsSync('/dev/vfio/vfio'),
};
const problems = [];
for (const [id, holds] of Object.entries(kernelFacts)) {
  const c = checks.get(id);
  if (!c) {
    problems.push(`${id}: no such check in the report`);
    continue;
  }
  const passes = c.status === 'pass';
  if (passes !== holds)
    problems.push(`${id}: kernel says ${holds ? 'yes' : 'no'}, doctor says ${c.status}: ${c.detail}`);
}
for (const c of report.checks ?? []) if (!(c.id in kernelFacts)) console.log(`note: ${c.id} ${c.status}: ${c.detail}`);
if (report.kernel !== undefined && report.kernel !== readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim())
  problems.push(`kernel: doctor says ${report.kernel}`);
for (const p of problems) console.log(p);
console.log(`${problems.length} disagreement(s) over ${Object.keys(kernelFacts).length} kernel-decided checks`);
process.exit(problems.length ? 1 : 0);
