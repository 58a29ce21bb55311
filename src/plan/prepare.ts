// planPrepare: what `prepare begin` must change so libvirt can start the domain, and how to undo it.
// PURE: the domain's request, a host snapshot, the config, host facts and the other running domains'
// holds in; an ordered plan out, or a PlanRefusal thrown before anything was decided. The rules live
// in one section each, over one shared context (prepare-context.ts), in this order:
//  - prepare-pfs:     PF VF counts from <passthru:pf vfs=N>;
//  - prepare-pools:   hostdev pool networks exist and have VFs;
//  - prepare-devices: assigned devices and their IOMMU group peers (what may be taken, protection);
//  - vgpu:            NVIDIA vGPU types of VFs (such VFs stay on the nvidia driver);
//  - prepare-devices: binds to vfio-pci;
//  - prepare-mdevs:   mdevs created after checking available_instances;
//  - prepare-vfs:     VF settings.
// Every refusal comes before the plan is returned, so a refused domain changes nothing.
// `passthru doctor --domain`, `passthru hook --dry-run` and the hook's prepare all judge by this.
import { InputError } from '../errors.js';
import type { DomainPassthrough } from '../xml/model.js';
import type { Holds, Plan } from './types.js';
import { checkUuid } from './names.js';
import { byText } from './order.js';
import { planVgpus } from './vgpu.js';
import { newContext, type PrepareInput } from './prepare-context.js';
import { planPfCounts } from './prepare-pfs.js';
import { checkPoolNetworks } from './prepare-pools.js';
import { planBinds, planTaking } from './prepare-devices.js';
import { planMdevs } from './prepare-mdevs.js';
import { planVfs } from './prepare-vfs.js';
import { planDevicePolicies } from './gpu-policy.js';
import { planConsoleHandover } from './console.js';

export type { PrepareInput } from './prepare-context.js';

export function domainUuid(domain: DomainPassthrough): string {
  if (!domain.uuid) throw new InputError(`domain '${domain.name}' has no <uuid> in its XML`);
  return checkUuid(domain.uuid, 'domain UUID');
}

export function planPrepare(input: PrepareInput): Plan {
  const uuid = domainUuid(input.domain);
  const ctx = newContext(input);
  const sriov = planPfCounts(ctx);
  checkPoolNetworks(ctx);
  const taking = planTaking(ctx);
  // NVIDIA vGPU VFs (checked before any bind is planned: a refusal changes nothing)
  const vgpu = planVgpus({
    domain: input.domain,
    snapshot: ctx.snap,
    done: ctx.done,
    deferred: ctx.deferred,
    refuse: ctx.refuse,
  });
  // reset/power policy and the console handover, before any bind (their undo runs after the binds')
  const policy = planDevicePolicies({
    taken: [...taking.taken].sort(),
    snapshot: ctx.snap,
    config: input.config,
    power: input.power ?? {},
    done: ctx.done,
    refuse: ctx.refuse,
  });
  const handover = planConsoleHandover({
    gpus: taking.handover,
    snapshot: ctx.snap,
    ...(input.console ? { console: input.console } : {}),
    done: ctx.done,
    refuse: ctx.refuse,
  });
  const binds = planBinds(ctx, taking, vgpu.vfs, new Set(handover.map((a) => a.id)));
  const mdevs = planMdevs(ctx);
  const vfs = planVfs(ctx);
  return {
    domain: { name: input.domain.name, uuid },
    actions: [...sriov, ...mdevs, ...vgpu.actions, ...policy, ...handover, ...binds, ...vfs],
    holds: sortHolds(ctx.holds),
    deferred: ctx.deferred,
  };
}

function sortHolds(h: Holds): Holds {
  return {
    groups: [...h.groups].sort((a, b) => a - b),
    devices: [...h.devices].sort(),
    mdevs: [...h.mdevs].sort(),
    pfs: [...h.pfs].sort((a, b) => byText(a.pf, b.pf)),
  };
}
