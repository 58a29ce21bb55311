// A simulated host in a temp dir, shared by real processes through its JSON file (PASSTHRU_SIM):
// made from a fixture with the real `passthru sim init`, copied per run, compared canonically, and
// asked which writes a run made (the simulator's write log). The few facts about the sim file's
// format (where the write log and the faults live) are kept in SIM_FORMAT below; the canonical form
// of the host is the simulator's own (src/sim/state.ts).
import { afterAll, beforeAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { run, hookEnv, type RunResult } from './proc.js';
import { dist, nodeBin } from './paths.js';
import { canonicalState, type SimHostState } from '../../src/sim/state.js';
import type { SimFaults } from '../../src/sim/faults.js';

/** One host write as the simulator logged it. */
export interface SimWrite {
  path: string;
  data: string;
}

/** Faults as the simulator takes them (file field `faults` or env PASSTHRU_SIM_FAULTS). */
export type { SimFaults };

const SIM_FORMAT = {
  /** Successful writes in order (sysfs writes and VF settings); a failed or hung write is not in it. */
  writeLog(doc: Record<string, unknown>): SimWrite[] {
    return ((doc.writeLog ?? []) as SimWrite[]).map((w) => ({ path: w.path, data: w.data }));
  },
  faultsEnv(f: SimFaults): string {
    return JSON.stringify(f);
  },
};

/** A SimHost of `fixture` made once for the describe block this is called in, with its start state. */
export function simHostForSuite(fixture: string): { host: SimHost; start: string } {
  const suite = {} as { host: SimHost; start: string };
  beforeAll(async () => {
    suite.host = await SimHost.create(fixture);
    suite.start = suite.host.state();
  });
  afterAll(() => suite.host?.cleanup());
  return suite;
}

export class SimHost {
  private constructor(
    readonly dir: string,
    readonly file: string,
    readonly stateDir: string,
  ) {}

  /** A fresh host from a fixture (a built-in name or a .json path), through the real CLI (`passthru sim init`). */
  static async create(fixture: string): Promise<SimHost> {
    const dir = mkdtempSync(join(tmpdir(), `passthru-rel-${basename(fixture, '.json')}-`));
    const file = join(dir, 'host.json');
    const r = await run(nodeBin, [dist.passthru, 'sim', 'init', '--fixture', fixture, '-o', file], { limitMs: 30_000 });
    if (r.code !== 0) throw new Error(`passthru sim init --fixture ${fixture} failed (${r.code}): ${r.stderr.trim()}`);
    return new SimHost(dir, file, join(dir, 'state'));
  }

  /** An independent copy (own dir, own state dir) of this host as it is now. */
  copy(): SimHost {
    const dir = mkdtempSync(join(tmpdir(), 'passthru-rel-copy-'));
    const file = join(dir, 'host.json');
    cpSync(this.file, file);
    if (existsSync(this.stateDir)) cpSync(this.stateDir, join(dir, 'state'), { recursive: true });
    return new SimHost(dir, file, join(dir, 'state'));
  }

  /** Runs `test` on a copy of this host (see copy()), removed afterwards whatever the outcome. */
  async withCopy<T>(test: (h: SimHost) => Promise<T>): Promise<T> {
    const h = this.copy();
    try {
      return await test(h);
    } finally {
      h.cleanup();
    }
  }

  /** Writes `config` as a passthru config file in this host's dir; returns the env that points the CLI at it. */
  configEnv(config: unknown): Record<string, string> {
    const file = join(this.dir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    return { PASSTHRU_CONFIG: file };
  }

  doc(): Record<string, unknown> {
    return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, unknown>;
  }

  /** The host itself (no write log, counters or faults) as the simulator's canonical JSON: equal strings = identical hosts. */
  state(): string {
    return canonicalState(this.doc() as unknown as SimHostState);
  }

  writes(): SimWrite[] {
    return SIM_FORMAT.writeLog(this.doc());
  }

  /** Drops the write log (so the next run's writes are all the log holds); atomic like the simulator's own saves. */
  clearLog(): void {
    const doc = this.doc();
    doc.writeLog = [];
    writeFileSync(`${this.file}.clear.tmp`, JSON.stringify(doc, null, 1));
    renameSync(`${this.file}.clear.tmp`, this.file);
  }

  /** Journals (and anything else) in the state dir, lock file excepted. */
  journals(): string[] {
    return existsSync(this.stateDir)
      ? readdirSync(this.stateDir)
          .filter((n) => n !== 'lock')
          .sort()
      : [];
  }

  env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return hookEnv({
      PASSTHRU_SIM: this.file,
      PASSTHRU_STATE_DIR: this.stateDir,
      PASSTHRU_LOCK_WAIT_S: '30',
      ...extra,
    });
  }

  faultsEnv(f: SimFaults): Record<string, string> {
    return { PASSTHRU_SIM_FAULTS: SIM_FORMAT.faultsEnv(f) };
  }

  /**
   * `node dist/hook.cjs DOMAIN OP SUBOP -` with the XML on stdin, as hooks/qemu runs the node side.
   * Runs on one copy are sequential, so by default the host-wide lock is marked as held
   * (PASSTHRU_LOCKED=1, as hooks/qemu does) instead of re-running under flock: one process per run.
   * Suites about concurrency go through the sh entry instead.
   */
  hook(
    domain: string,
    op: 'prepare' | 'start' | 'release',
    xml: string | Buffer,
    opts: { faults?: SimFaults; env?: Record<string, string | undefined>; limitMs?: number; args?: string[] } = {},
  ): Promise<RunResult> {
    const sub = op === 'release' ? 'end' : 'begin';
    return run(nodeBin, [dist.hook, ...(opts.args ?? [domain, op, sub, '-'])], {
      input: xml,
      env: this.env({ PASSTHRU_LOCKED: '1', ...(opts.faults ? this.faultsEnv(opts.faults) : {}), ...opts.env }),
      limitMs: opts.limitMs ?? 30_000,
    });
  }

  /** `passthru ARGS…` against this host. */
  passthru(
    args: string[],
    opts: { env?: Record<string, string | undefined>; limitMs?: number } = {},
  ): Promise<RunResult> {
    return run(nodeBin, [dist.passthru, ...args], { env: this.env(opts.env), limitMs: opts.limitMs ?? 30_000 });
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface WriteIdentity {
  /** What an error about this write must name (any one of them): device address, mdev UUID, PF netdev. */
  devices: string[];
  /** The step an error must name: the sysfs attribute, or 'vf K' for a VF setting. */
  step: string;
  /** Writes with the same key are about the same thing (one device, or one VF of a PF). */
  key: string;
}

const PCI = /[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/**
 * What a write is about, from its path and data as the simulator logs them: sysfs writes name
 * their device in the path (or, for drivers_probe and mdev create, in the data); VF settings are
 * logged as 'ip link set dev PF vf K'. `vfAddress` maps a PF netdev's VF K to its PCI address.
 */
export function describeWrite(
  w: SimWrite,
  vfAddress?: (netdev: string, k: number) => string | undefined,
): WriteIdentity {
  const ip = /^ip link set dev (\S+) vf (\d+)$/.exec(w.path);
  if (ip) {
    const vf = vfAddress?.(ip[1]!, Number(ip[2]));
    return { devices: [ip[1]!, ...(vf ? [vf] : [])], step: `vf ${ip[2]}`, key: `${ip[1]} vf ${ip[2]}` };
  }
  const devices = [
    ...new Set([
      ...(w.path.match(PCI) ?? []),
      ...(w.path.match(UUID) ?? []),
      ...(w.data.match(PCI) ?? []),
      ...(w.data.match(UUID) ?? []),
    ]),
  ];
  return { devices, step: w.path.split('/').pop() ?? w.path, key: devices.join(' ') };
}

/** Whether `text` names the write's device and step (case-insensitive for the step). */
export function namesWrite(text: string, id: WriteIdentity): { device: boolean; step: boolean } {
  return {
    device: id.devices.length === 0 || id.devices.some((d) => text.includes(d)),
    step: text.toLowerCase().includes(id.step.toLowerCase()),
  };
}

/** The errno a write to this path plausibly fails with on a real kernel. */
export function errnoFor(w: SimWrite, k: number): string {
  const step = w.path.split('/').pop() ?? '';
  const choices: Record<string, string[]> = {
    driver_override: ['EACCES', 'EIO'],
    unbind: ['EBUSY', 'ENODEV'],
    drivers_probe: ['ENODEV', 'EBUSY'],
    bind: ['EBUSY', 'ENODEV'],
    sriov_numvfs: ['EBUSY', 'EIO'],
    create: ['EBUSY', 'EIO'],
    remove: ['EBUSY', 'EIO'],
  };
  const list = choices[step] ?? ['EIO', 'EBUSY', 'ENODEV', 'EACCES'];
  return list[k % list.length]!;
}

/** What the race suite reads of a device while a domain holds it (format-specific, kept here). */
export interface SimDeviceView {
  driver?: string;
  numVfs?: number;
}

export function simDevice(doc: Record<string, unknown>, address: string): SimDeviceView | undefined {
  const d = ((doc.devices ?? []) as Record<string, unknown>[]).find((x) => x.address === address);
  if (!d) return undefined;
  const sriov = d.sriov as { numVfs?: number } | undefined;
  return { driver: d.driver as string | undefined, numVfs: sriov?.numVfs };
}
