// Loading a kernel module on the real host (vfio-pci on a fresh boot), bounded in time.

export async function modprobe(name: string, timeoutMs: number): Promise<void> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new Error(`invalid module name '${name.slice(0, 64)}'`);
  // loaded when needed: most hook runs load no module, and child_process costs a few ms to load
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(
      'modprobe',
      [name],
      { timeout: timeoutMs, stdio: ['ignore', 'ignore', 'pipe'] } as never,
      (err, _out, stderr) => {
        if (err) reject(new Error(`modprobe ${name} failed: ${String(stderr).trim() || err.message}`));
        else resolve();
      },
    );
  });
}
