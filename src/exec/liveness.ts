// Whether the domain a journal belongs to still runs: `recover` must not undo what a live guest uses,
// and `status` calls a journal without a running domain an orphan. libvirt is asked when it answers
// (`virsh list --uuid`: running and paused domains); when it does not (libvirtd down or crashed, the
// usual case for a recover, while qemu survives), the processes are: a live process whose command
// line carries `-uuid UUID`, as libvirt starts qemu, under <root>/proc.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { virsh } from './virsh.js';

export interface Liveness {
  running: boolean;
  /** Who said so: 'libvirt' (virsh answered) or 'process' (a qemu process with the UUID). */
  by: 'libvirt' | 'process';
}

export type LivenessCheck = (uuid: string) => Liveness;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The running domains' UUIDs from libvirt, or undefined when virsh cannot connect. */
export async function runningFromLibvirt(uri?: string): Promise<Set<string> | undefined> {
  const r = await virsh(['list', '--uuid'], { uri, timeoutMs: 10_000 });
  if (r.code !== 0) return undefined;
  const uuids = r.stdout
    .split('\n')
    .map((l) => l.trim().toLowerCase())
    .filter(Boolean);
  // anything else on stdout means this is not the virsh we know: do not trust an empty answer
  if (uuids.some((u) => !UUID.test(u))) return undefined;
  return new Set(uuids);
}

/** UUIDs of live processes started with `-uuid UUID` (qemu as libvirt runs it). */
export function runningFromProcesses(root: string): Set<string> {
  const found = new Set<string>();
  let pids: string[];
  try {
    pids = readdirSync(join(root, 'proc')).filter((p) => /^\d+$/.test(p));
  } catch {
    return found;
  }
  for (const pid of pids) {
    let args: string[];
    try {
      args = readFileSync(join(root, 'proc', pid, 'cmdline'), 'latin1').split('\0');
    } catch {
      continue; // gone meanwhile, or not ours to read
    }
    const i = args.indexOf('-uuid');
    const u = i >= 0 ? args[i + 1]?.toLowerCase() : undefined;
    if (u && UUID.test(u)) found.add(u);
  }
  return found;
}

export async function livenessCheck(opts: { uri?: string; root: string }): Promise<LivenessCheck> {
  const fromLibvirt = await runningFromLibvirt(opts.uri);
  if (fromLibvirt) return (uuid) => ({ running: fromLibvirt.has(uuid.toLowerCase()), by: 'libvirt' });
  const fromProcs = runningFromProcesses(opts.root);
  return (uuid) => ({ running: fromProcs.has(uuid.toLowerCase()), by: 'process' });
}

export function describeLiveness(l: Liveness): string {
  return l.by === 'libvirt' ? 'libvirt reports it running' : 'its qemu process (-uuid) is alive';
}
