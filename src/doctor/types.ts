// One doctor finding: what was checked, the verdict, and for warn/fail the fix to paste, per
// distribution family (Debian/Ubuntu/Proxmox and RHEL/Fedora/CentOS/Rocky/Alma).

export type CheckStatus = 'pass' | 'warn' | 'fail';
export type Family = 'debian' | 'rhel';

export interface Fix {
  debian: string;
  rhel: string;
}

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found, one or two sentences. */
  detail: string;
  fix?: Fix;
}

export interface DoctorReport {
  host: string; // 'sim:FILE' or the root
  family?: Family;
  kernel?: string;
  checks: CheckResult[];
  summary: Record<CheckStatus, number>;
}

/** The same command on both families. */
export const both = (cmd: string): Fix => ({ debian: cmd, rhel: cmd });

/** `0000:04:00.0 (driver_override, uevent), …`: devices whose device-lock reads did not answer, with those reads. */
export const namedUnreadable = (devices: { address: string; unreadable?: string[] }[]): string =>
  devices.map((d) => `${d.address} (${(d.unreadable ?? []).join(', ')})`).join(', ');
