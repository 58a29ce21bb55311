// The executor: carries out a plan with the journal written before any change, and undoes what a
// journal records. Prepare stops at the first failure and undoes what it did, in reverse; release
// and recover keep going past failures (each reported) so one stuck device never strands the rest.
import { PassthruError, oneLine } from '../errors.js';
import type { NetLink } from '../host/netlink.js';
import type { Sysfs } from '../host/sysfs.js';
import type { Action, Holds, Op, Plan } from '../plan/types.js';
import { applyOp, deviceGone, stepName, type HostAccess } from './ops.js';
import { ensureStateDir, JOURNAL_SCHEMA, listJournals, removeJournal, writeJournal, type Journal } from './journal.js';
import { byText } from '../plan/order.js';
import type { UnitControl } from '../host/units.js';

export interface ExecEnv {
  sysfs: Sysfs;
  netlink: NetLink;
  stateDir: string;
  /** Upper bound of each host access (PASSTHRU_WRITE_TIMEOUT_MS / config writeTimeoutMs). */
  timeoutMs: number;
  /** Kernel module loader (real host at root '/' only). */
  loadModule?(name: string): Promise<void>;
  /** systemd for the console handover's units. */
  units?: UnitControl;
  /** One line per problem met while undoing (stderr in the hook and the CLI). */
  report(line: string): void;
}

/** A prepare that failed at one step ('DEVICE: STEP failed: WHY; host restored'); `leftover` = undo steps that failed. */
export class PrepareFailed extends PassthruError {
  constructor(
    message: string,
    readonly leftover: number,
  ) {
    super(message, 1);
  }
}

export interface UndoResult {
  /** Operations that changed the host. */
  changed: number;
  /** Operations that failed (each reported). */
  failed: number;
}

function hostAccess(env: ExecEnv, ownUuid: string): HostAccess {
  let others: Holds[] | undefined;
  return {
    sysfs: env.sysfs,
    netlink: env.netlink,
    timeoutMs: env.timeoutMs,
    ...(env.loadModule ? { loadModule: env.loadModule } : {}),
    ...(env.units ? { units: env.units } : {}),
    pfHeldByOthers(pf) {
      if (!others) {
        others = [];
        for (const e of listJournals(env.stateDir, ownUuid)) {
          // an unreadable journal may hold the PF: keep its VFs rather than pull them from under a guest
          if (!e.journal) others.push({ groups: [], devices: [], mdevs: [], pfs: [{ pf, vfs: 0, original: 0 }] });
          else others.push(e.journal.holds);
        }
      }
      return others.some((h) => h.pfs.some((p) => p.pf === pf));
    },
  };
}

export function newJournal(plan: Plan): Journal {
  return {
    schema: JOURNAL_SCHEMA,
    domain: { ...plan.domain },
    state: 'preparing',
    pid: process.pid,
    updated: '',
    holds: plan.holds,
    actions: [],
  };
}

function mergeHolds(a: Holds, b: Holds): Holds {
  const uniq = <T>(xs: T[]): T[] => [...new Set(xs)];
  const pfs = new Map(a.pfs.map((p) => [p.pf, p]));
  for (const p of b.pfs) if (!pfs.has(p.pf)) pfs.set(p.pf, p);
  return {
    groups: uniq([...a.groups, ...b.groups]).sort((x, y) => x - y),
    devices: uniq([...a.devices, ...b.devices]).sort(),
    mdevs: uniq([...a.mdevs, ...b.mdevs]).sort(),
    pfs: [...pfs.values()].sort((x, y) => byText(x.pf, y.pf)),
  };
}

class StepFailed extends Error {
  constructor(
    readonly action: Action,
    readonly op: Op,
    readonly failure: unknown,
  ) {
    super(`${action.device}: ${stepName(op)} failed: ${oneLine(failure)}`);
  }
}

/**
 * Journals the whole of `plan`, then performs its actions in order; throws StepFailed at the first
 * failing step. The journal is written ONCE per plan, before its first change, with every action
 * 'pending' (recorded, may or may not have happened), not once per action: every undo checks the
 * host first and changes nothing when the host already is as it was (src/exec/ops.ts), so undoing
 * an action that never ran is a no-op, and recover after a crash anywhere in the plan undoes
 * exactly what happened. Every change is still recorded before it is made.
 */
async function applyActions(env: ExecEnv, h: HostAccess, j: Journal, plan: Plan): Promise<void> {
  j.holds = mergeHolds(j.holds, plan.holds);
  for (const prev of j.actions) prev.status = 'done';
  // an action that changes nothing (recording a PF's VF need) is done as soon as it is recorded
  for (const action of plan.actions) j.actions.push({ ...action, status: action.do.length ? 'pending' : 'done' });
  writeJournal(env.stateDir, j);
  for (const action of plan.actions) {
    for (const o of action.do) {
      try {
        await applyOp(h, o);
      } catch (err) {
        throw new StepFailed(action, o, err);
      }
    }
  }
  for (const prev of j.actions) prev.status = 'done';
}

/**
 * prepare: runs `plan` for its domain, then (when it raised VF counts for devices that did not exist
 * yet) asks `replan` for the rest and runs that too. On failure undoes everything in reverse and
 * throws PrepareFailed naming the device and the step.
 */
export async function executePrepare(
  env: ExecEnv,
  plan: Plan,
  replan?: (done: Action[]) => Promise<Plan>,
): Promise<Journal> {
  ensureStateDir(env.stateDir);
  const j = newJournal(plan);
  const h = hostAccess(env, j.domain.uuid);
  try {
    await applyActions(env, h, j, plan);
    if (plan.deferred.length && replan) {
      const more = await replan(j.actions);
      // a VF the count should have created is still missing: the PF driver did not make it
      if (more.deferred.length)
        throw new PassthruError(`${more.deferred[0]}: not found on this host after raising its PF's sriov_numvfs`);
      await applyActions(env, h, j, more);
    }
    j.state = 'running';
    writeJournal(env.stateDir, j);
    return j;
  } catch (err) {
    const what = err instanceof StepFailed ? err.message : oneLine(err);
    const r = await undoJournal(env, j);
    const tail = r.failed
      ? `; ${r.failed} undo step(s) failed, journal kept for 'passthru recover'`
      : '; host restored';
    if (err instanceof PassthruError && !(err instanceof StepFailed))
      throw new PrepareFailed(`${oneLine(err)}${tail}`, r.failed);
    throw new PrepareFailed(`${what}${tail}`, r.failed);
  }
}

/** Adds the actions of a later plan (pool VFs at `start begin`) to a running domain's journal. */
export async function executeMore(env: ExecEnv, j: Journal, plan: Plan): Promise<Journal> {
  const h = hostAccess(env, j.domain.uuid);
  const before = j.actions.length;
  try {
    await applyActions(env, h, j, plan);
    writeJournal(env.stateDir, j);
    return j;
  } catch (err) {
    // undo only this step's actions; the rest belongs to release
    const mine: Journal = { ...j, actions: j.actions.slice(before) };
    const r = await undoActions(env, h, mine);
    j.actions = j.actions.slice(0, before);
    writeJournal(env.stateDir, j);
    const what = err instanceof StepFailed ? err.message : oneLine(err);
    throw new PrepareFailed(
      `${what}${r.failed ? `; ${r.failed} undo step(s) failed` : '; its VF settings undone'}`,
      r.failed,
    );
  }
}

async function undoActions(env: ExecEnv, h: HostAccess, j: Journal): Promise<UndoResult> {
  const result: UndoResult = { changed: 0, failed: 0 };
  for (const action of [...j.actions].reverse()) {
    for (const o of action.undo) {
      try {
        if (await applyOp(h, o, true)) result.changed++;
      } catch (err) {
        // a VF gone with its PF's count (the disable that waited for qemu finished later) has nothing left to restore
        if (await deviceGone(h, o).catch(() => false)) continue;
        result.failed++;
        env.report(`passthru: undo for '${j.domain.name}': ${action.device}: ${stepName(o)} failed: ${oneLine(err)}`);
      }
    }
  }
  return result;
}

/** Undoes the journal's actions with these ids (newest first, past failures); the journal is left as it is. */
export async function undoActionIds(env: ExecEnv, j: Journal, ids: string[]): Promise<UndoResult> {
  const mine: Journal = { ...j, actions: j.actions.filter((a) => ids.includes(a.id)) };
  return undoActions(env, hostAccess(env, j.domain.uuid), mine);
}

/**
 * release / recover: undoes every action the journal records, newest first, past failures. The
 * journal is removed when everything was undone, else kept (state 'releasing') for a later recover.
 */
export async function undoJournal(env: ExecEnv, j: Journal): Promise<UndoResult> {
  ensureStateDir(env.stateDir);
  j.state = 'releasing';
  writeJournal(env.stateDir, j);
  const result = await undoActions(env, hostAccess(env, j.domain.uuid), j);
  if (result.failed === 0) removeJournal(env.stateDir, j.domain.uuid);
  return result;
}
