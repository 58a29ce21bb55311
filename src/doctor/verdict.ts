// `passthru doctor --domain`: the hook's own verdict (src/hook/verdict.ts) as a finding, and which
// of the domain's other findings the refusal names. doctor judges the plan, never a rule of its own.
import type { Verdict } from '../hook/verdict.js';
import type { PlanRefusal } from '../plan/refusal.js';
import { both, type CheckResult } from './types.js';

/** What the hook decided, or the error that kept it from deciding. */
export type DoctorVerdict = Verdict | { kind: 'error'; message: string };

export function verdictCheck(name: string, v: DoctorVerdict, file: string): CheckResult {
  const base = { id: 'domain-verdict', title: `hook prepare of ${name}` };
  const dry = `passthru hook --dry-run ${file}   # the same verdict, with the plan`;
  switch (v.kind) {
    case 'nothing':
      return { ...base, status: 'pass', detail: 'nothing to do: the domain asks for no passthrough' };
    case 'error':
      return { ...base, status: 'fail', detail: `the hook could not plan: ${v.message}`, fix: both(dry) };
    case 'refused':
      return { ...base, status: 'fail', detail: v.refusal.message, fix: both(dry) };
    case 'plan': {
      const n = v.plan.actions.filter((a) => a.do.length > 0).length;
      const later = v.plan.deferred.length
        ? `; ${v.plan.deferred.join(', ')} judged again once its PF has the VFs`
        : '';
      return {
        ...base,
        status: 'pass',
        detail: `accepted: ${n ? `${n} change(s), undone at release` : 'nothing to change'}${later}`,
      };
    }
  }
}

/** The refusal, when it is about one of `names` (a device address, 'mdev UUID', 'PF …', "network '…'"). */
export function refusalAbout(v: DoctorVerdict, names: string[]): PlanRefusal | undefined {
  if (v.kind !== 'refused') return undefined;
  const d = v.refusal.device;
  return names.some((n) => d === n || d.startsWith(`${n} `)) ? v.refusal : undefined;
}
