// Loading a kernel module on the real host (vfio-pci on a fresh boot), bounded in time.
import { execFile } from 'node:child_process';

export function modprobe(name: string, timeoutMs: number): Promise<void> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) return Promise.reject(new Error(`invalid module name '${name.slice(0, 64)}'`));
  return new Promise((resolve, reject) => {
    execFile('modprobe', [name], { timeout: timeoutMs, stdio: ['ignore', 'ignore', 'pipe'] } as never, (err, _out, stderr) => {
      if (err) reject(new Error(`modprobe ${name} failed: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}
