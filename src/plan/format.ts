// The plan as text for `passthru hook --dry-run` and the demo: each action, why, and the exact
// operations of do and undo, in order.
import type { Action, Op, Plan } from './types.js';

export function describeOp(o: Op): string {
  switch (o.op) {
    case 'load-driver':
      return `load module ${o.driver} unless loaded`;
    case 'driver-override':
      return `${o.device}: driver_override = ${o.value ?? '(clear)'}`;
    case 'unbind':
      return `${o.device}: unbind from its driver${o.keep ? ` unless ${o.keep}` : ''}`;
    case 'probe':
      return `${o.device}: drivers_probe${o.unless ? ` unless on ${o.unless}` : ''}`;
    case 'expect-driver':
      return `${o.device}: check bound to ${o.driver}`;
    case 'sriov-numvfs':
      return `${o.pf}: sriov_numvfs = ${o.count}`;
    case 'sriov-release':
      return `${o.pf}: sriov_numvfs = ${o.count} unless another running domain needs its VFs`;
    case 'mdev-create':
      return `${o.parent}: create mdev ${o.uuid} of type ${o.type}`;
    case 'mdev-remove':
      return `remove mdev ${o.uuid}`;
    case 'vf-set':
      return `ip link set dev ${o.pfNetdev} vf ${o.index} ${Object.entries(o.settings)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(' ')} (${o.vf})`;
    case 'vgpu-type':
      return o.type === 0
        ? `${o.vf}: nvidia/current_vgpu_type = 0 (destroy the vGPU) if it is ${o.from}`
        : `${o.vf}: nvidia/current_vgpu_type = ${o.type} (create the vGPU) if it is ${o.from}`;
    case 'unit':
      return `systemctl ${o.active ? 'start' : 'stop'} ${o.unit} unless it already is`;
    case 'vtcon-bind':
      return `${o.vtcon}: ${o.bound ? 'bind' : 'unbind'} the virtual console`;
    case 'platform-bind':
      return `${o.device}: ${o.bound ? 'bind to' : 'unbind from'} ${o.driver}`;
    case 'pci-attr':
      return `${o.device}: ${o.attr} = '${o.value}'${o.attr === 'reset_method' && o.value === '' ? ' (every method disabled)' : ''}`;
  }
}

export function formatAction(a: Action, n: number): string[] {
  const out = [`${n}. ${a.id}: ${a.why}`];
  a.do.forEach((o, i) => out.push(`     ${i === 0 ? 'do:  ' : '     '} ${describeOp(o)}`));
  if (a.do.length === 0)
    out.push('     do:   (nothing to change; recorded so the host keeps it while the domain runs)');
  a.undo.forEach((o, i) => out.push(`     ${i === 0 ? 'undo:' : '     '} ${describeOp(o)}`));
  return out;
}

export function formatPlan(plan: Plan): string {
  const lines = [`prepare for domain '${plan.domain.name}' (${plan.domain.uuid}):`];
  if (plan.actions.length === 0) lines.push('  nothing to change');
  plan.actions.forEach((a, i) => lines.push(...formatAction(a, i + 1).map((l) => `  ${l}`)));
  if (plan.deferred.length)
    lines.push(`  then, once the new VFs exist, planned again for: ${plan.deferred.join(', ')}`);
  const h = plan.holds;
  const held = [
    h.groups.length ? `IOMMU groups ${h.groups.join(', ')}` : '',
    h.devices.length ? `devices ${h.devices.join(', ')}` : '',
    h.mdevs.length ? `mdevs ${h.mdevs.join(', ')}` : '',
    h.pfs.length ? `VFs of ${h.pfs.map((p) => `${p.pf} (${p.vfs})`).join(', ')}` : '',
  ].filter(Boolean);
  lines.push(`  held while running: ${held.join('; ') || 'nothing'}`);
  return `${lines.join('\n')}\n`;
}
