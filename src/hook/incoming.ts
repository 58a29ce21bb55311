// `migrate begin` (on the destination) and `restore begin`: XML filters. libvirt passes the arriving
// domain's XML and takes ours from stdout (nothing = unchanged); a non-zero exit aborts the migration
// before the source stops, or the restore before qemu starts. The domain is checked against this
// host by the planner's rules, and the one line of a refusal names what is missing; mdevs whose parent
// cannot take them here move to one of the same kind (src/plan/migrate.ts). Nothing is changed on the
// host: the `prepare` that follows does that.
import type { DomainPassthrough } from '../xml/model.js';
import { domainUuid } from '../plan/prepare.js';
import { migrationNotes, relocateMdevs } from '../plan/migrate.js';
import { addMdev } from '../xml/domain-edits.js';
import type { HookContext } from './context.js';
import { otherDomains, planFromHost } from './inputs.js';
import { readSnapshot } from './snapshot.js';

export async function hookIncoming(
  ctx: HookContext,
  op: 'migrate' | 'restore',
  domain: DomainPassthrough,
  xml: string,
  report: (l: string) => void,
  stdout: (text: string) => void,
): Promise<void> {
  const uuid = domainUuid(domain);
  let arriving = domain;
  let moves: ReturnType<typeof relocateMdevs>['moves'] = [];
  if (domain.metadata.mdevs.some((m) => m.parent !== undefined)) {
    const snap = await readSnapshot(ctx, {
      devices: [],
      netdevs: [],
      mdevParents: [],
      mdevs: domain.mdevHostdevs.map((m) => m.uuid.toLowerCase()),
      allMdevParents: true,
    });
    ({ domain: arriving, moves } = relocateMdevs(domain, snap));
  }
  // the planner's verdict (a PlanRefusal names what is missing); its plan is prepare's business
  await planFromHost(ctx, arriving, otherDomains(ctx.stateDir, uuid));
  if (op === 'migrate')
    for (const n of migrationNotes(domain)) report(`passthru: migrate of '${domain.name}': note: ${n}`);
  for (const m of moves)
    report(
      `passthru: ${op} of '${domain.name}': mdev ${m.uuid} of type ${m.type} goes on ${m.to} (${m.from} cannot take it here)`,
    );
  if (moves.length)
    stdout(
      moves.reduce((text, m) => addMdev(text, { uuid: m.uuid, type: m.type, parent: m.to, props: new Map() }, op), xml),
    );
}
