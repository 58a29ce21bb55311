// The plan prepare would run for a domain XML, as text or JSON, or its refusal (thrown, exit 1);
// changes nothing, takes no lock. The verdict is the hook's own (verdict.ts).
import { readDomainPassthrough } from '../xml/domain-reader.js';
import { formatPlan } from '../plan/format.js';
import { emptyHolds, type Plan } from '../plan/types.js';
import { openContext } from './context.js';
import { judgePrepare } from './verdict.js';

export async function dryRun(xml: string | Buffer, env: NodeJS.ProcessEnv, json: boolean): Promise<string> {
  const domain = readDomainPassthrough(xml);
  const verdict = await judgePrepare(await openContext(env), domain);
  if (verdict.kind === 'refused') throw verdict.refusal;
  if (verdict.kind === 'nothing' && !json)
    return `nothing to do: domain '${domain.name}' asks for no passthrough (the hook exits at once)\n`;
  const plan: Plan =
    verdict.kind === 'plan'
      ? verdict.plan
      : { domain: { name: domain.name, uuid: domain.uuid ?? '' }, actions: [], holds: emptyHolds(), deferred: [] };
  return json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan);
}
