// The plan prepare would run for a domain XML, as text or JSON; changes nothing, takes no lock.
import { readDomainPassthrough } from '../xml/domain-reader.js';
import { formatPlan } from '../plan/format.js';
import { domainUuid } from '../plan/prepare.js';
import { openContext } from './context.js';
import { otherDomains, planFromHost } from './inputs.js';

export async function dryRun(xml: string | Buffer, env: NodeJS.ProcessEnv, json: boolean): Promise<string> {
  const domain = readDomainPassthrough(xml);
  const ctx = await openContext(env);
  const plan = await planFromHost(ctx, domain, otherDomains(ctx.stateDir, domainUuid(domain)));
  return json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan);
}
