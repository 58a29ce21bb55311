// `passthru doctor --domain`: each <passthru:vgpu> entry (NVIDIA vGPU 17+, vendor-specific VFIO)
// judged by the planner's own rules, so doctor and the hook can never disagree on it.
import { formatPciAddress } from '../pci/address.js';
import type { DomainPassthrough } from '../xml/model.js';
import type { HostSnapshot } from '../host/types.js';
import { planVgpus } from '../plan/vgpu.js';
import { PlanRefusal } from '../plan/refusal.js';
import { both, type CheckResult } from './types.js';

export function vgpuChecks(dp: DomainPassthrough, snap: HostSnapshot): CheckResult[] {
  return [...entryChecks(dp, snap), ...byHandChecks(dp, snap)];
}

/** managed='no' VFs with an nvidia/ vGPU interface and no entry: vGPUs made by hand. */
function byHandChecks(dp: DomainPassthrough, snap: HostSnapshot): CheckResult[] {
  const described = new Set(dp.metadata.vgpus.map((v) => formatPciAddress(v.address)));
  return dp.pciHostdevs.flatMap((h): CheckResult[] => {
    const addr = formatPciAddress(h.address);
    const v = snap.devices[addr]?.nvidiaVgpu;
    if (h.managed || described.has(addr) || !v) return [];
    const base = { id: `domain-vgpu:${addr}`, title: `vGPU on ${addr}` };
    if (v.currentType !== 0)
      return [
        {
          ...base,
          status: 'pass',
          detail: `${addr} has vGPU type ${v.currentType} (made outside passthru): the hook leaves it as it is, on its driver`,
        },
      ];
    return [
      {
        ...base,
        status: 'fail',
        detail: `${addr} is a VF of an NVIDIA GPU in vGPU mode with no vGPU type: the hook refuses to start the domain`,
        fix: both(`xmlfix --add-vgpu ${addr},type=ID -i DOMAIN.xml   # IDs: passthru list --filter 10de:`),
      },
    ];
  });
}

function entryChecks(dp: DomainPassthrough, snap: HostSnapshot): CheckResult[] {
  return dp.metadata.vgpus.map((req) => {
    const addr = formatPciAddress(req.address);
    const base = { id: `domain-vgpu:${addr}`, title: `vGPU ${req.type} on ${addr}` };
    try {
      // this entry alone (other VFs get their own check)
      const one = {
        ...dp,
        pciHostdevs: dp.pciHostdevs.filter((h) => formatPciAddress(h.address) === addr),
        metadata: { ...dp.metadata, vgpus: [req] },
      };
      const plan = planVgpus({
        domain: one,
        snapshot: snap,
        done: new Set(),
        refuse: (device, reason) => {
          throw new PlanRefusal(device, reason);
        },
      });
      const action = plan.actions[0];
      return {
        ...base,
        status: 'pass',
        detail: action
          ? `the hook creates it: ${action.why}, and destroys it at stop`
          : `${addr} already has this vGPU type: used as it is, never reset by the hook`,
      };
    } catch (err) {
      if (!(err instanceof PlanRefusal)) throw err;
      return {
        ...base,
        status: 'fail',
        detail: `${err.device} ${err.reason}`,
        fix: both(`passthru list --filter 10de:   # each VF's vGPU type and what it can take; then xmlfix --add-vgpu`),
      };
    }
  });
}
