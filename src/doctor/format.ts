// Doctor output for a terminal: one line per check, the fix indented below each warn/fail (for the
// detected distribution family, or both when unknown).
import type { DoctorReport } from './types.js';

const MARK = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const;

export function formatDoctor(r: DoctorReport): string {
  const lines = [
    `passthru doctor: ${r.host}${r.kernel ? `, kernel ${r.kernel}` : ''}${r.family ? `, ${r.family === 'debian' ? 'Debian/Proxmox' : 'RHEL'} family` : ''}`,
  ];
  for (const c of r.checks) {
    lines.push(`${MARK[c.status]}  ${c.title}: ${c.detail}`);
    if (c.fix && c.status !== 'pass') {
      if (r.family) lines.push(`      fix: ${c.fix[r.family]}`);
      else if (c.fix.debian === c.fix.rhel) lines.push(`      fix: ${c.fix.debian}`);
      else lines.push(`      fix (Debian/Proxmox): ${c.fix.debian}`, `      fix (RHEL):           ${c.fix.rhel}`);
    }
  }
  lines.push(`${r.summary.pass} passed, ${r.summary.warn} warnings, ${r.summary.fail} failed`);
  return `${lines.join('\n')}\n`;
}
