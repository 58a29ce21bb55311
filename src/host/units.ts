// systemd units, behind a small interface so the hook never depends on a real systemd in tests:
// SystemctlUnits runs `systemctl` through execa (any runner with execa's shape can stand in), the
// simulator answers for a simulated host (src/sim/console.ts). Every call is bounded by its caller.
export interface UnitControl {
  isActive(unit: string): Promise<boolean>;
  start(unit: string): Promise<void>;
  stop(unit: string): Promise<void>;
}

/** Runs one command: exit code and output (execa's shape, so tests can pass a fake). */
export type UnitRunner = (
  cmd: string,
  args: string[],
) => Promise<{ exitCode?: number; stdout: string; stderr: string }>;

const execaRunner: UnitRunner = async (cmd, args) => {
  const { execa } = await import('execa');
  const r = await execa(cmd, args, { reject: false, env: { LC_ALL: 'C' }, stdin: 'ignore' });
  return { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
};

export class SystemctlUnits implements UnitControl {
  constructor(
    private readonly command = 'systemctl',
    private readonly run: UnitRunner = execaRunner,
  ) {}

  async isActive(unit: string): Promise<boolean> {
    // is-active exits 0 when active, 3 (and prints inactive/failed/…) otherwise; anything else is an error
    const r = await this.run(this.command, ['is-active', '--', unit]);
    if (r.exitCode === 0) return true;
    if (/^(inactive|failed|unknown|deactivating|activating|reloading)$/m.test(r.stdout.trim())) return false;
    throw new Error(`${this.command} is-active ${unit}: ${(r.stderr || r.stdout).trim() || `exit ${r.exitCode}`}`);
  }

  async start(unit: string): Promise<void> {
    await this.act('start', unit);
  }

  async stop(unit: string): Promise<void> {
    await this.act('stop', unit);
  }

  private async act(verb: string, unit: string): Promise<void> {
    const r = await this.run(this.command, [verb, '--', unit]);
    if (r.exitCode !== 0)
      throw new Error(`${this.command} ${verb} ${unit}: ${(r.stderr || r.stdout).trim() || `exit ${r.exitCode}`}`);
  }
}
