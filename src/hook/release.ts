// `release end` (after a stop or a failed start): undo what the journal records, keep going past
// failures, never fail. The domain is found by UUID, or by name when the XML could not be read.
import { listJournals, type Journal } from '../exec/journal.js';
import { undoJournal } from '../exec/run.js';
import { execEnv, type HookContext } from './context.js';

export function findJournal(stateDir: string, by: { uuid?: string; name?: string }): Journal | undefined {
  for (const e of listJournals(stateDir)) {
    if (!e.journal) continue;
    if (by.uuid ? e.uuid === by.uuid : e.journal.domain.name === by.name) return e.journal;
  }
  return undefined;
}

export async function hookRelease(
  ctx: HookContext,
  by: { uuid?: string; name?: string },
  report: (l: string) => void,
): Promise<void> {
  if (by.uuid) {
    // this domain's own journal, unusable (corrupt, wrong schema, symlink): say so, touch nothing
    const bad = listJournals(ctx.stateDir).find((e) => e.uuid === by.uuid && e.error);
    if (bad) {
      report(`passthru: release: ${bad.error!.message}; nothing undone, run 'passthru recover' once it is fixed`);
      return;
    }
  }
  const j = findJournal(ctx.stateDir, by);
  if (!j) return;
  const r = await undoJournal(execEnv(ctx, report), j);
  if (r.failed)
    report(
      `passthru: release of '${j.domain.name}': ${r.failed} step(s) could not be undone; journal kept, run 'passthru recover --domain ${j.domain.name}'`,
    );
}
