// Runs a program as a real process: argv, stdin, env; returns what a caller (libvirtd, a shell)
// would see. A hard kill after `limitMs` keeps a hanging program from hanging the suite; the result
// says so (timedOut) so a test can fail on it instead of waiting forever.
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  cwd?: string;
  limitMs?: number;
}

/** A minimal environment like libvirtd gives its hooks (LC_ALL=C, a standard PATH), plus `extra`. */
export function hookEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  return { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', ...extra };
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env = opts.env ?? process.env;
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group, so a kill reaches children of a sh entry too
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, opts.limitMs ?? 20_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    // a program may exit before reading stdin (fast path): that EPIPE is not our failure
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
