// Runs the doctor: host checks, then (with a domain) its device checks; counts verdicts.
import type { Sysfs } from '../host/sysfs.js';
import type { DomainPassthrough } from '../xml/model.js';
import { gatherContext } from './context.js';
import { hostChecks } from './checks.js';
import { domainChecks } from './domain.js';
import { vgpuChecks } from './vgpu.js';
import { hookEntryChecks, type HookEntryInputs } from './hook-entry.js';
import { gpuChecks } from './gpu.js';
import { startChecks } from './start.js';
import type { StartFacts } from '../xml/start-facts.js';
import type { LibvirtVersion } from '../host/libvirt-version.js';
import type { CommandRunner } from './kernel-log.js';
import type { DoctorReport } from './types.js';
import { oneLine } from '../errors.js';
import type { HookContext } from '../hook/context.js';
import { withDefaults } from '../config/types.js';
import { judgePrepare } from '../hook/verdict.js';
import { readNetworks } from '../hook/inputs.js';
import type { DomainJudgement } from './domain.js';
import { verdictCheck } from './verdict.js';
import type { NetLink } from '../host/netlink.js';

/**
 * What the hook would see: the CLI passes the hook's own context (config, state dir, libvirt's
 * files); without one (tests on a bare Sysfs), default config, no other domains, no networks.
 */
function planningContext(sysfs: Sysfs, given: HookContext | undefined, lockedReadMs: number | undefined): HookContext {
  if (given) return given;
  const netlink: NetLink =
    'listVfs' in sysfs ? (sysfs as unknown as NetLink) : { listVfs: async () => [], setVf: async () => {} };
  return {
    sysfs,
    netlink,
    config: withDefaults({}),
    stateDir: '',
    timeoutMs: lockedReadMs ?? 10_000,
    realRoot: false,
  };
}

async function judge(hook: HookContext, domain: DomainPassthrough): Promise<DomainJudgement> {
  // doctor takes a domain file that libvirt has not defined yet: a UUID stands in for the one define gives it
  const d = domain.uuid ? domain : { ...domain, uuid: '00000000-0000-4000-8000-000000000000' };
  let networks: DomainJudgement['networks'];
  try {
    networks = await readNetworks(hook, d);
    // the verdict plans from the networks read here, not from a second read of libvirt's files
    return { verdict: await judgePrepare(hook, d, { networks }), networks };
  } catch (err) {
    return { verdict: { kind: 'error', message: oneLine(err) }, networks };
  }
}

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
  /** The hook's context (config, state dir, libvirt's files) for the domain's verdict. */
  hook?: HookContext;
  /** The domain file's name, for the fixes printed. */
  domainFile?: string;
  /** What the domain XML says about its start (memory, firmware, placement): start-time checks. */
  start?: StartFacts;
  libvirt?: LibvirtVersion;
}): Promise<DoctorReport> {
  const ctx = await gatherContext(opts.sysfs, {
    realRoot: opts.realRoot,
    ...(opts.run ? { run: opts.run } : {}),
    ...(opts.lockedReadMs !== undefined ? { lockedReadMs: opts.lockedReadMs } : {}),
  });
  const checks = await hostChecks(ctx);
  if (opts.hookEntry) checks.push(...hookEntryChecks(opts.hookEntry));
  if (opts.domain) {
    const hook = planningContext(opts.sysfs, opts.hook, opts.lockedReadMs);
    const j = await judge(hook, opts.domain);
    checks.push(
      verdictCheck(opts.domain.name, j.verdict, opts.domainFile ?? 'DOMAIN.xml'),
      ...domainChecks(opts.domain, ctx.snap, j),
      ...vgpuChecks(opts.domain, ctx.snap),
      ...(await gpuChecks(opts.domain, ctx.snap, opts.sysfs, hook.config)),
    );
    if (opts.start)
      checks.push(
        ...(await startChecks({
          dp: opts.domain,
          facts: opts.start,
          snap: ctx.snap,
          sysfs: opts.sysfs,
          ...(opts.libvirt ? { libvirt: opts.libvirt } : {}),
        })),
      );
  }
  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status]++;
  const report: DoctorReport = { host: opts.host, checks, summary };
  if (ctx.family) report.family = ctx.family;
  if (ctx.kernel) report.kernel = ctx.kernel;
  return report;
}
