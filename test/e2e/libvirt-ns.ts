// A real libvirtd in a private mount+network namespace (scripts/e2e-ns.sh), driven from the tests with
// nsenter. The namespace's /etc/libvirt, /var/log/libvirt, ... are directories of a work dir on the real
// file system, so tests read what hooks recorded without entering the namespace. Every wait is bounded;
// stop() always ends libvirtd and every qemu it started, with a last-resort kill of whatever still lives
// in the namespace.
import { describe, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/paths.js';
import { run, type RunResult } from '../support/proc.js';

export const nsScript = join(repoRoot, 'scripts', 'e2e-ns.sh');
const READY_LIMIT_MS = 60_000;
const STOP_LIMIT_MS = 30_000;

/** Whether this machine can run the tier; `reason` is one line for the test output. */
export async function e2eAvailability(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const r = await run('bash', [nsScript, 'check'], { limitMs: 20_000 }).catch(
    (e: Error) => ({ code: -1, stdout: '', stderr: e.message }) as RunResult,
  );
  if (r.code === 0) return { ok: true };
  return {
    ok: false,
    reason: `e2e tier cannot run here: ${(r.stdout + r.stderr).trim().split('\n')[0] || `check exited ${r.code}`}`,
  };
}

/** PASSTHRU_SKIP_E2E=1 turns "cannot run" from a failure into a skip. */
export const skipRequested = process.env.PASSTHRU_SKIP_E2E === '1';

/**
 * The tier's describe: on a machine that cannot run it, one test fails naming why (or, with
 * PASSTHRU_SKIP_E2E=1, the whole block is skipped with a warning); otherwise `body` declares the tests.
 */
export async function describeE2e(name: string, timeout: number, body: () => void): Promise<void> {
  const avail = await e2eAvailability();
  if (!avail.ok && skipRequested) console.warn(`${avail.reason} (skipped: PASSTHRU_SKIP_E2E=1)`);
  describe.skipIf(!avail.ok && skipRequested)(name, { timeout }, () => {
    if (!avail.ok) {
      it('can run the e2e tier on this machine', () => {
        throw new Error(avail.reason);
      });
      return;
    }
    body();
  });
}

export class NsLibvirt {
  private constructor(
    readonly work: string,
    private readonly holder: ChildProcessWithoutNullStreams,
    readonly holderPid: number,
    readonly mntNs: string,
    private stderr: () => string,
  ) {}

  /** `seed` may put files under the namespace's /etc/libvirt (given as a real path) before libvirtd starts. */
  static async start(seed?: (etcLibvirt: string) => void): Promise<NsLibvirt> {
    const work = mkdtempSync(join(tmpdir(), 'passthru-e2e-'));
    if (seed) {
      const etc = join(work, 'fs', 'etc', 'libvirt');
      mkdirSync(etc, { recursive: true });
      seed(etc);
    }
    // own process group: a signal to the runner's group (kill -9 of vitest) must not kill the holder before
    // it tears down; it notices the runner's death by its stdin closing
    const env = { ...process.env, PASSTHRU_E2E_CAPS_CACHE: join(repoRoot, '.cache', 'e2e', 'qemu-capabilities') };
    const holder = spawn('bash', [nsScript, 'run', work], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env });
    let out = '';
    let err = '';
    holder.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const ready = await new Promise<{ pid: number; ns: string } | string>((resolve) => {
      const timer = setTimeout(() => resolve(`libvirtd not ready within ${READY_LIMIT_MS / 1000} s`), READY_LIMIT_MS);
      holder.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /READY (\d+) (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve({ pid: Number(m[1]), ns: m[2]! });
        }
      });
      holder.on('exit', (code) => {
        clearTimeout(timer);
        resolve(`namespace holder exited (${code})`);
      });
    });
    if (typeof ready === 'string') {
      // the holder tears the namespace down on SIGTERM; wait for that (bounded) before removing the work dir
      const gone = new Promise<void>((r) =>
        holder.exitCode !== null || holder.signalCode !== null ? r() : holder.on('exit', () => r()),
      );
      holder.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, STOP_LIMIT_MS))]);
      rmSync(work, { recursive: true, force: true, maxRetries: 3 });
      const why = err.trim().split('\n').pop() ?? '';
      throw new Error(`e2e: ${ready}${why ? `: ${why}` : ''}`);
    }
    return new NsLibvirt(work, holder, ready.pid, ready.ns, () => err);
  }

  /** Where a path of the namespace (/etc/libvirt/..., /var/log/libvirt/...) lives on the real file system. */
  hostPath(nsPath: string): string {
    const m = /^\/(etc\/libvirt|run\/libvirt|var\/lib\/libvirt|var\/log\/libvirt|var\/cache\/libvirt)(\/.*)?$/.exec(
      nsPath,
    );
    if (!m) throw new Error(`test bug: ${nsPath} is not a private path of the namespace`);
    return join(this.work, 'fs', `/${m[1]}${m[2] ?? ''}`);
  }

  /** A file every process (inside or outside the namespace) sees at the same path. */
  file(name: string, text: string): string {
    const p = join(this.work, name);
    writeFileSync(p, text);
    return p;
  }

  exec(
    cmd: string,
    args: string[],
    opts: { input?: string; env?: Record<string, string | undefined>; limitMs?: number } = {},
  ): Promise<RunResult> {
    return run('nsenter', ['-t', String(this.holderPid), '-m', '-n', '--', cmd, ...args], { limitMs: 30_000, ...opts });
  }

  virsh(args: string[], limitMs = 30_000): Promise<RunResult> {
    return this.exec('virsh', ['-q', '-c', 'qemu:///system', ...args], { limitMs });
  }

  /** virsh that must succeed; the error names the command and libvirt's message. */
  async virshOk(args: string[]): Promise<string> {
    const r = await this.virsh(args);
    if (r.code !== 0)
      throw new Error(
        `virsh ${args.join(' ')} failed (${r.code}${r.timedOut ? ', timed out' : ''}): ${r.stderr.trim()}`,
      );
    return r.stdout;
  }

  async restartLibvirtd(): Promise<void> {
    const r = await this.exec('bash', [nsScript, 'libvirtd-restart'], { limitMs: 45_000 });
    if (r.code !== 0) throw new Error(`libvirtd restart failed (${r.code}): ${r.stderr.trim()}`);
  }

  /** Ends everything: domains destroyed, libvirtd stopped, leftovers of the namespace killed, work dir removed. */
  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.holder.exitCode !== null || this.holder.signalCode !== null) return resolve();
      this.holder.on('exit', () => resolve());
    });
    this.holder.stdin.end();
    const inTime = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), STOP_LIMIT_MS)),
    ]);
    if (!inTime) this.holder.kill('SIGKILL');
    killNamespace(this.mntNs);
    rmSync(this.work, { recursive: true, force: true, maxRetries: 3 });
  }

  holderStderr(): string {
    return this.stderr();
  }
}

/** Last resort: SIGKILL every process whose mount namespace is `ns` (libvirtd, qemu, stuck hooks). */
export function killNamespace(ns: string): number {
  let n = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${p}/ns/mnt`) !== ns) continue;
      process.kill(Number(p), 'SIGKILL');
      n++;
    } catch {
      // gone, or not ours to read
    }
  }
  return n;
}

/** A small domain: 64 MiB q35, no disk, no NIC unless `devices` adds one. KVM when /dev/kvm exists, unless PASSTHRU_E2E_TCG=1. */
export function smallDomain(name: string, devices = '', uuid?: string): string {
  const type = process.env.PASSTHRU_E2E_TCG === '1' || !existsSync('/dev/kvm') ? 'qemu' : 'kvm';
  return [
    `<domain type='${type}'>`,
    `  <name>${name}</name>`,
    ...(uuid ? [`  <uuid>${uuid}</uuid>`] : []),
    `  <memory unit='MiB'>64</memory>`,
    `  <vcpu>1</vcpu>`,
    `  <os>`,
    `    <type arch='x86_64' machine='q35'>hvm</type>`,
    `  </os>`,
    `  <devices>`,
    `    <emulator>/usr/bin/qemu-system-x86_64</emulator>`,
    ...(devices ? [devices] : []),
    `    <memballoon model='none'/>`,
    `  </devices>`,
    `</domain>`,
    '',
  ].join('\n');
}

/**
 * Why starting a domain with these PCI hostdevs could reach a real device, or undefined when it cannot:
 * libvirt acts on the real host's sysfs, so the tier only assigns addresses this machine does not have,
 * on a machine without IOMMU groups (libvirt then fails the start before touching any device).
 */
export function realHostUnsafe(addresses: string[]): string | undefined {
  for (const a of addresses)
    if (existsSync(`/sys/bus/pci/devices/${a}`)) return `the real host has a PCI device ${a}: libvirt would act on it`;
  if (existsSync('/sys/kernel/iommu_groups') && readdirSync('/sys/kernel/iommu_groups').length > 0)
    return 'the real host has IOMMU groups: libvirt could detach real devices';
  return undefined;
}

export function pciHostdev(address: string, managed = true): string {
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(address);
  if (!m) throw new Error(`test bug: ${address}`);
  return [
    `    <hostdev mode='subsystem' type='pci' managed='${managed ? 'yes' : 'no'}'>`,
    `      <source>`,
    `        <address domain='0x${m[1]}' bus='0x${m[2]}' slot='0x${m[3]}' function='0x${m[4]}'/>`,
    `      </source>`,
    `    </hostdev>`,
  ].join('\n');
}
