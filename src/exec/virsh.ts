// virsh, for the administrator's commands only (recover, status, attach, detach, xmlfix --validate's
// test-driver define): a hook must never call libvirt (libvirtd waits for the hook; the hook would
// wait for libvirtd). The connection is
// virsh's own: `-c URI` when given, else LIBVIRT_DEFAULT_URI, else virsh's default. Every call is bounded.
import { execa } from 'execa';

export interface VirshResult {
  /** false when virsh never ran to an exit (not installed, or timed out): `stderr` says which. */
  started: boolean;
  code: number;
  stdout: string;
  stderr: string;
}

export const VIRSH_TIMEOUT_MS = 30_000;

export async function virsh(
  args: string[],
  opts: { uri?: string; timeoutMs?: number; input?: string } = {},
): Promise<VirshResult> {
  const r = await execa('virsh', ['-q', ...(opts.uri ? ['-c', opts.uri] : []), ...args], {
    reject: false,
    timeout: opts.timeoutMs ?? VIRSH_TIMEOUT_MS,
    input: opts.input ?? '',
    env: { LC_ALL: 'C' },
  });
  const started = typeof r.exitCode === 'number';
  const stderr = r.timedOut
    ? `virsh ${args[0]} did not answer within ${(opts.timeoutMs ?? VIRSH_TIMEOUT_MS) / 1000} s`
    : started
      ? String(r.stderr ?? '')
      : `cannot run virsh: ${r.code ?? r.shortMessage}`;
  return { started, code: started ? r.exitCode! : 1, stdout: String(r.stdout ?? ''), stderr };
}

/** libvirt's reason from virsh's stderr, on one line ("error: " prefixes dropped). */
export function virshReason(r: VirshResult): string {
  const text = r.stderr
    .split('\n')
    .map((l) => l.replace(/^error:\s*/, '').trim())
    .filter(Boolean)
    .join('; ');
  return text || `virsh exited ${r.code}`;
}
