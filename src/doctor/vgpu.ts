// `passthru doctor --domain`: each <passthru:vgpu> entry (NVIDIA vGPU 17+, vendor-specific VFIO)
// judged by the planner's own rules, so doctor and the hook can never disagree on it.
import { formatPciAddress } from '../pci/address.js';
import type { DomainPassthrough } from '../xml/model.js';
import type { HostSnapshot } from '../host/types.js';
import { planVgpus } from '../plan/vgpu.js';
import { PlanRefusal } from '../plan/refusal.js';
import { both, type CheckResult } from './types.js';

export function vgpuChecks(dp: DomainPassthrough, snap: HostSnapshot): CheckResult[] {
  return (dp.metadata.vgpus ?? []).map((req) => {
    const addr = formatPciAddress(req.address);
    const base = { id: `domain-vgpu:${addr}`, title: `vGPU ${req.type} on ${addr}` };
    try {
      const one = { ...dp, metadata: { ...dp.metadata, vgpus: [req] } };
      const plan = planVgpus({ domain: one, snapshot: snap, done: new Set(), refuse: (device, reason) => { throw new PlanRefusal(device, reason); } });
      const action = plan.actions[0];
      return { ...base, status: 'pass', detail: action ? `the hook creates it: ${action.why}, and destroys it at stop` : `${addr} already has this vGPU type: used as it is, never reset by the hook` };
    } catch (err) {
      if (!(err instanceof PlanRefusal)) throw err;
      return { ...base, status: 'fail', detail: `${err.device} ${err.reason}`, fix: both(`passthru list --filter 10de:   # each VF's vGPU type and what it can take; then xmlfix --add-vgpu`) };
    }
  });
}
