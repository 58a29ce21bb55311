// `passthru attach DOMAIN EDIT...`: hot-plug with the host prepared first, as prepare would. libvirt
// runs no hook for attach-device, so this administrator's command does what the hook does at start:
// under the host-wide lock (taken by the CLI), plan the added devices against the host and the other
// domains' journals (same rules and refusals as prepare), journal, prepare the host (group peers,
// mdevs, VF settings), then `virsh attach-device`. If libvirt refuses, undo and say libvirt's reason.
// The changes join the domain's journal, so its release at shutdown undoes them too; the journal's
// `attached` entry (state attaching -> attached) lets detach undo just them, and recover finish a
// crash between the host's half and libvirt's. Never run inside a hook (libvirt would deadlock).
import { existsSync } from 'node:fs';
import { InputError, oneLine, PassthruError } from '../errors.js';
import { formatPciAddress, printable } from '../pci/address.js';
import { applyEdits } from '../cli/xmlfix/apply.js';
import type { Edit } from '../cli/xmlfix/args.js';
import type { HostLookup } from '../cli/xmlfix/host-lookup.js';
import { readDomainPassthrough } from '../xml/domain-reader.js';
import { deviceFragments, type DeviceFragment } from '../xml/device-fragments.js';
import { addedPassthrough, holdsBeyond } from '../plan/hotplug.js';
import { formatPlan } from '../plan/format.js';
import { emptyHolds, type Plan } from '../plan/types.js';
import type { HookContext } from '../hook/context.js';
import { execEnv } from '../hook/context.js';
import { otherDomains, planFromHost } from '../hook/inputs.js';
import {
  ensureStateDir,
  journalPath,
  readJournalFile,
  writeJournal,
  type AttachedEntry,
  type Journal,
} from './journal.js';
import { executeMore, newJournal } from './run.js';
import { undoEntry } from './hotplug-journal.js';
import {
  attachDevice,
  detachDevice,
  domainXml,
  lookupDomain,
  syncConfigMetadata,
  type LibvirtDomain,
  type Scope,
} from './libvirt-domain.js';

export interface HotplugOptions {
  live?: boolean;
  config?: boolean;
  dryRun?: boolean;
  uri?: string;
}

export interface HotplugIo {
  out(line: string): void;
  err(line: string): void;
}

/** virsh's rule: --live and/or --config as given; neither = the live domain when it runs, else its definition. */
export function hotplugScope(d: LibvirtDomain, o: HotplugOptions): Scope {
  if (o.live && !d.running)
    throw new InputError(`domain '${printable(d.name)}' is not running: --live needs a running domain (use --config)`);
  if (!o.live && !o.config) return { live: d.running, config: !d.running };
  return { live: !!o.live, config: !!o.config };
}

export async function attach(ctx: HookContext, name: string, edits: Edit[], o: HotplugOptions, io: HotplugIo) {
  if (edits.length === 0)
    throw new InputError('attach needs at least one edit (--add-hostdev, --add-mdev, --add-vf, --add-vgpu)');
  const bad = edits.find((e) => !e.flag.startsWith('add-') || e.flag === 'add-pf' || e.flag === 'add-vf-address');
  if (bad) throw new InputError(`attach takes --add-hostdev, --add-mdev, --add-vf and --add-vgpu, not --${bad.flag}`);
  const d = await lookupDomain(name, o.uri);
  const scope = hotplugScope(d, o);
  let hostLookup: Promise<HostLookup> | undefined;
  const host = () => (hostLookup ??= import('../cli/xmlfix/host-lookup-impl.js').then((m) => m.openHostLookup()));
  const before = await domainXml(name, o.uri, !scope.live);
  const after = await applyEdits(before, edits, { all: false, host, what: `domain '${printable(name)}'` });
  const added = addedPassthrough(readDomainPassthrough(before), readDomainPassthrough(after));
  const keys = new Set([
    ...[...added.pciHostdevs, ...added.hostdevInterfaces].map((h) => formatPciAddress(h.address)),
    ...added.mdevHostdevs.map((m) => m.uuid.toLowerCase()),
  ]);
  const frags = deviceFragments(after).filter((f) => keys.has(f.key));
  if (frags.length === 0) {
    io.out(`nothing to attach: domain '${printable(name)}' already has ${edits.map((e) => e.value).join(', ')}`);
    return;
  }
  if (!scope.live) {
    // the definition only: the host is prepared by the next start's prepare
    if (o.dryRun) return io.out(describe(frags, 'to attach to the definition (the next start prepares the host)'));
    for (const f of frags) {
      const why = await attachDevice(name, o.uri, f.xml, scope);
      if (why) throw new PassthruError(`libvirt refused to attach ${f.key} to '${printable(name)}': ${why}`);
    }
    await syncConfigMetadata(name, o.uri, before, after);
    io.out(`attached ${frags.map((f) => f.key).join(', ')} to the definition of '${printable(name)}'`);
    return;
  }
  const others = otherDomains(ctx.stateDir, d.uuid);
  const plan = await planFromHost(ctx, { ...added, uuid: d.uuid }, others);
  if (o.dryRun) return io.out(`${formatPlan(plan)}${describe(frags, 'then virsh attach-device')}`);
  const env = execEnv(ctx, io.err);
  ensureStateDir(ctx.stateDir);
  const file = journalPath(ctx.stateDir, d.uuid);
  const j: Journal = existsSync(file)
    ? readJournalFile(file)
    : { ...newJournal(plan), holds: emptyHolds(), state: 'running' };
  const entry: AttachedEntry = {
    devices: frags.map((f) => f.key),
    state: 'attaching',
    actions: plan.actions.map((a) => a.id),
    holds: holdsBeyond(j.holds, plan.holds),
    xml: frags.map((f) => f.xml),
  };
  j.attached = [...(j.attached ?? []), entry];
  try {
    await executeMore(env, j, plan); // journals the entry and the actions before the first change
    if (plan.deferred.length) {
      const more: Plan = await planFromHost(ctx, { ...added, uuid: d.uuid }, others, j.actions);
      entry.actions.push(...more.actions.map((a) => a.id));
      await executeMore(env, j, more);
    }
  } catch (err) {
    // executeMore undid its own actions; this takes the entry (and a journal attach made) away again
    const r = await undoEntry(env, j, entry);
    const why = oneLine(err).replace(/; its VF settings undone$/, '');
    throw new PassthruError(`${why}; ${r.failed ? "journal kept for 'passthru recover'" : 'host restored'}`);
  }
  const changes = j.actions.filter((a) => entry.actions.includes(a.id)).length;
  io.out(`host prepared for ${entry.devices.join(', ')} (${changes} change(s) journaled)`);
  const done: DeviceFragment[] = [];
  for (const f of frags) {
    const why = await attachDevice(name, o.uri, f.xml, scope);
    if (why) {
      for (const g of done.reverse()) await detachDevice(name, o.uri, g.xml, { live: true, config: scope.config });
      const r = await undoEntry(env, j, entry);
      throw new PassthruError(
        `libvirt refused to attach ${f.key} to '${printable(name)}': ${why}; ${r.failed ? `${r.failed} undo step(s) failed, journal kept for 'passthru recover'` : 'host restored'}`,
      );
    }
    done.push(f);
  }
  entry.state = 'attached';
  writeJournal(ctx.stateDir, j);
  if (scope.config) await syncConfigMetadata(name, o.uri, await domainXml(name, o.uri, true), after);
  io.out(
    `attached ${entry.devices.join(', ')} to '${printable(name)}'${scope.config ? ' (live and definition)' : ' (live)'}`,
  );
}

function describe(frags: DeviceFragment[], what: string): string {
  return `devices ${what}:\n${frags.map((f) => f.xml.replace(/^/gm, '  ')).join('')}`;
}
