// `prepare begin`: plan and run what the domain needs, or refuse before any change.
import type { DomainPassthrough } from '../xml/model.js';
import { domainUuid } from '../plan/prepare.js';
import { executePrepare } from '../exec/run.js';
import { journalPath, readJournalFile } from '../exec/journal.js';
import { undoJournal } from '../exec/run.js';
import { existsSync } from 'node:fs';
import { execEnv, type HookContext } from './context.js';
import { otherDomains, type PlanMemo, planFromHost } from './inputs.js';

export async function hookPrepare(
  ctx: HookContext,
  domain: DomainPassthrough,
  report: (l: string) => void,
  memo: PlanMemo = {},
): Promise<void> {
  const uuid = domainUuid(domain);
  const env = execEnv(ctx, report);
  // A journal of this domain from an earlier run (crash, missed release): the domain is not running
  // (libvirt is starting it), so put the host back first. A corrupt one stops us (JournalError).
  if (existsSync(journalPath(ctx.stateDir, uuid))) {
    const stale = readJournalFile(journalPath(ctx.stateDir, uuid));
    report(`passthru: undoing the journal left by an earlier run of '${stale.domain.name}'`);
    const r = await undoJournal(env, stale);
    if (r.failed)
      throw new Error(
        `the earlier run's journal could not be fully undone (${r.failed} step(s) failed); run 'passthru recover --domain ${stale.domain.name}'`,
      );
  }
  const others = otherDomains(ctx.stateDir, uuid);
  const plan = await planFromHost(ctx, domain, others, [], memo);
  if (plan.actions.length === 0 && plan.deferred.length === 0 && isEmpty(plan.holds)) return;
  await executePrepare(env, plan, (done) => planFromHost(ctx, domain, others, done, memo));
}

function isEmpty(h: { groups: unknown[]; devices: unknown[]; mdevs: unknown[]; pfs: unknown[] }): boolean {
  return h.groups.length + h.devices.length + h.mdevs.length + h.pfs.length === 0;
}
