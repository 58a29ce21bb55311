// What is held by which domain, read from the journals (no host access), for `passthru status`; a
// journal whose domain does not run (libvirt, or the processes, say so) is an orphan for `recover`.
import { listJournals, type JournalState } from './journal.js';
import type { LivenessCheck } from './liveness.js';
import type { Holds } from '../plan/types.js';
import { byText } from '../plan/order.js';

export interface StatusReport {
  stateDir: string;
  domains: {
    name: string;
    uuid: string;
    state: JournalState;
    /** Whether the domain runs (when it could be asked); a journal without one is an orphan. */
    domainRunning?: boolean;
    orphaned: boolean;
    pid: number;
    updated: string;
    holds: Holds;
    actions: { id: string; status: string; why: string }[];
    /** Devices hot-plugged by `passthru attach`, with their state. */
    hotplugged: { devices: string[]; state: string }[];
  }[];
  problems: { file: string; error: string }[];
}

export function statusReport(stateDir: string, isRunning?: LivenessCheck): StatusReport {
  const report: StatusReport = { stateDir, domains: [], problems: [] };
  for (const e of listJournals(stateDir)) {
    if (!e.journal) {
      report.problems.push({ file: e.file, error: e.error?.message ?? 'unreadable' });
      continue;
    }
    const j = e.journal;
    const running = isRunning?.(j.domain.uuid).running;
    report.domains.push({
      name: j.domain.name,
      uuid: j.domain.uuid,
      state: j.state,
      ...(running === undefined ? {} : { domainRunning: running }),
      orphaned: running === false,
      pid: j.pid,
      updated: j.updated,
      holds: j.holds,
      actions: j.actions.map((a) => ({ id: a.id, status: a.status, why: a.why })),
      hotplugged: (j.attached ?? []).map((e) => ({ devices: e.devices, state: e.state })),
    });
  }
  report.domains.sort((a, b) => byText(a.name, b.name) || byText(a.uuid, b.uuid));
  return report;
}

export function formatStatus(r: StatusReport): string {
  const lines: string[] = [];
  if (r.domains.length === 0 && r.problems.length === 0)
    lines.push(`no domain holds passthrough resources (${r.stateDir})`);
  for (const d of r.domains) {
    const how = d.orphaned
      ? `orphaned: run passthru recover (the domain is not running; journal ${d.state})`
      : `${d.state}${d.state === 'running' ? '' : ' — interrupted or being released; `passthru recover` can restore it'}`;
    lines.push(`${d.name} (${d.uuid}): ${how}`);
    if (d.holds.groups.length) lines.push(`  IOMMU groups: ${d.holds.groups.join(', ')}`);
    if (d.holds.devices.length) lines.push(`  devices:      ${d.holds.devices.join(', ')}`);
    if (d.holds.mdevs.length) lines.push(`  mdevs:        ${d.holds.mdevs.join(', ')}`);
    if (d.holds.pfs.length)
      lines.push(
        `  VFs:          ${d.holds.pfs.map((p) => `${p.pf} needs ${p.vfs} (originally ${p.original})`).join(', ')}`,
      );
    if (d.hotplugged.length)
      lines.push(`  hot-plugged:  ${d.hotplugged.map((h) => `${h.devices.join(' ')} (${h.state})`).join(', ')}`);
    for (const a of d.actions) lines.push(`  ${a.status === 'done' ? 'done   ' : 'pending'} ${a.id}: ${a.why}`);
  }
  for (const p of r.problems) lines.push(`problem: ${p.error}`);
  return `${lines.join('\n')}\n`;
}
