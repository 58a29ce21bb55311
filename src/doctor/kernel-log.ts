// Where doctor reads the kernel log (for DMAR/AMD-Vi and interrupt-remapping lines):
//  1. the file var/log/dmesg under the host root: the simulator serves its fixture's `dmesg` lines
//     there, and a test tree or a saved `dmesg > var/log/dmesg` works the same way;
//  2. on the real host (root '/'), `dmesg` (needs CAP_SYSLOG when kernel.dmesg_restrict=1), then
//     `journalctl -k -b` (the current boot's kernel messages, persistent journal or not);
//  3. otherwise unreadable: the log checks warn and say why instead of failing.
// /dev/kmsg is not read directly: it blocks at the end and needs non-blocking reads; dmesg does that.
import { layout } from '../host/layout.js';
import type { Sysfs } from '../host/sysfs.js';

export interface KernelLog {
  text?: string;
  source: string;
}

export type CommandRunner = (cmd: string, args: string[]) => Promise<{ ok: boolean; stdout: string }>;

export const execaRunner: CommandRunner = async (cmd, args) => {
  const { execa } = await import('execa');
  const r = await execa(cmd, args, { timeout: 5000, reject: false, env: { LC_ALL: 'C' } });
  return { ok: r.exitCode === 0 && !r.timedOut, stdout: String(r.stdout ?? '') };
};

export async function readKernelLog(
  sysfs: Sysfs,
  realRoot: boolean,
  run: CommandRunner = execaRunner,
): Promise<KernelLog> {
  try {
    return { text: await sysfs.read(layout.kernelLogFile), source: layout.kernelLogFile };
  } catch {
    // not there: ask the running kernel, but only when we look at the real machine
  }
  if (!realRoot) return { source: `no ${layout.kernelLogFile} under the host root` };
  for (const [cmd, args] of [
    ['dmesg', []],
    ['journalctl', ['-k', '-b', '-q', '--no-pager', '-o', 'short-monotonic']],
  ] as const) {
    try {
      const r = await run(cmd, [...args]);
      if (r.ok && r.stdout.trim()) return { text: r.stdout, source: `${cmd} ${args.join(' ')}`.trim() };
    } catch {
      // command missing: try the next one
    }
  }
  return { source: 'dmesg and journalctl -k gave nothing (kernel.dmesg_restrict? run as root)' };
}
