// `passthru recover`: after a crash (hook killed, host rebooted mid-prepare, libvirtd gone), undo
// what the journals record, exactly as release would. Every selected journal is checked first: one
// that is corrupt, of another schema or a symlink stops everything before any change. Idempotent:
// each undo step reads before it writes, and a fully undone journal is removed.
import { InputError } from '../errors.js';
import { listJournals, type Journal, JournalError } from './journal.js';
import { undoJournal, type ExecEnv } from './run.js';

export type RecoverSelection = { all: true } | { domain: string };

export interface RecoverResult {
  domains: { name: string; uuid: string; changed: number; failed: number }[];
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

export async function recover(env: ExecEnv, sel: RecoverSelection): Promise<RecoverResult> {
  if (!('all' in sel) && !sel.domain) throw new InputError('recover needs --domain NAME or --all');
  const result: RecoverResult = { domains: [] };
  for (const j of selectJournals(env.stateDir, sel)) {
    const r = await undoJournal(env, j);
    result.domains.push({ name: j.domain.name, uuid: j.domain.uuid, changed: r.changed, failed: r.failed });
  }
  return result;
}
