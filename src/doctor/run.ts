// Runs the doctor: host checks, then (with a domain) its device checks; counts verdicts.
import type { Sysfs } from '../host/sysfs.js';
import type { DomainPassthrough } from '../xml/model.js';
import { gatherContext } from './context.js';
import { hostChecks } from './checks.js';
import { domainChecks } from './domain.js';
import { vgpuChecks } from './vgpu.js';
import { hookEntryChecks, type HookEntryInputs } from './hook-entry.js';
import type { CommandRunner } from './kernel-log.js';
import type { DoctorReport } from './types.js';
import { rootDiskDevices, defaultRouteDevices } from '../exec/host-facts.js';

/** lockedReadMs: bound of each device-lock read (HostReader); without it such reads wait as the kernel does. */
export async function runDoctor(opts: {
  sysfs: Sysfs;
  host: string;
  realRoot: boolean;
  domain?: DomainPassthrough;
  run?: CommandRunner;
  lockedReadMs?: number;
  /** The real host's installed hook entry, checked when given (never for a simulated host). */
  hookEntry?: HookEntryInputs;
}): Promise<DoctorReport> {
  const ctx = await gatherContext(opts.sysfs, {
    realRoot: opts.realRoot,
    ...(opts.run ? { run: opts.run } : {}),
    ...(opts.lockedReadMs !== undefined ? { lockedReadMs: opts.lockedReadMs } : {}),
  });
  const checks = await hostChecks(ctx);
  if (opts.hookEntry) checks.push(...hookEntryChecks(opts.hookEntry));
  if (opts.domain) {
    const prot = {
      rootDiskDevices: await rootDiskDevices(opts.sysfs),
      defaultRouteDevices: await defaultRouteDevices(opts.sysfs),
    };
    checks.push(...domainChecks(opts.domain, ctx.snap, prot), ...vgpuChecks(opts.domain, ctx.snap));
  }
  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status]++;
  const report: DoctorReport = { host: opts.host, checks, summary };
  if (ctx.family) report.family = ctx.family;
  if (ctx.kernel) report.kernel = ctx.kernel;
  return report;
}
