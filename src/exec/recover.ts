// `passthru recover`: after a crash (hook killed, host rebooted mid-prepare, libvirtd gone), undo
// what the journals record, exactly as release would. Every selected journal is checked first: one
// that is corrupt, of another schema or a symlink stops everything before any change. Idempotent:
// each undo step reads before it writes, and a fully undone journal is removed. A journal whose
// domain still runs (qemu usually outlives a crash of libvirtd or of a hook) is left alone and named,
// unless forced: undoing it would pull VFs, mdevs or group peers from under a live guest.
import { InputError } from '../errors.js';
import type { Liveness, LivenessCheck } from './liveness.js';
import { listJournals, type Journal, JournalError } from './journal.js';
import { undoJournal, type ExecEnv } from './run.js';

export type RecoverSelection = { all: true } | { domain: string };

export interface RecoverResult {
  domains: { name: string; uuid: string; changed: number; failed: number }[];
  /** Journals left alone because their domain runs (not forced). */
  skipped: { name: string; uuid: string; liveness: Liveness }[];
  /** What settling half-done hot-plugs of running domains did. */
  settled: string[];
}

export interface RecoverOptions {
  /** Whether a journal's domain runs; without it every selected journal is undone. */
  isRunning?: LivenessCheck;
  /** Undo journals of running domains too. */
  force?: boolean;
  /** For a running domain's journal: settle hot-plugs a crash left half done (src/exec/hotplug-recover.ts). */
  settle?: (j: Journal, live: Liveness) => Promise<string[]>;
}

export function selectJournals(stateDir: string, sel: RecoverSelection): Journal[] {
  const entries = listJournals(stateDir);
  const chosen =
    'all' in sel
      ? entries
      : entries.filter((e) => e.uuid === sel.domain.toLowerCase() || e.journal?.domain.name === sel.domain);
  const bad = chosen.find((e) => e.error);
  if (bad) throw bad.error!;
  if (!('all' in sel) && chosen.length === 0) {
    // a corrupt journal cannot say which domain it belongs to: name it rather than say "nothing"
    const unreadable = entries.find((e) => e.error);
    if (unreadable)
      throw new JournalError(`no readable journal for domain '${sel.domain}'; ${unreadable.error!.message}`);
  }
  return chosen.map((e) => e.journal!);
}

export async function recover(env: ExecEnv, sel: RecoverSelection, opts: RecoverOptions = {}): Promise<RecoverResult> {
  if (!('all' in sel) && !sel.domain) throw new InputError('recover needs --domain NAME or --all');
  const result: RecoverResult = { domains: [], skipped: [], settled: [] };
  for (const j of selectJournals(env.stateDir, sel)) {
    const live = opts.isRunning?.(j.domain.uuid);
    if (live?.running && !opts.force) {
      result.skipped.push({ name: j.domain.name, uuid: j.domain.uuid, liveness: live });
      if (opts.settle) result.settled.push(...(await opts.settle(j, live)));
      continue;
    }
    const r = await undoJournal(env, j);
    result.domains.push({ name: j.domain.name, uuid: j.domain.uuid, changed: r.changed, failed: r.failed });
  }
  return result;
}
