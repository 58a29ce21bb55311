// `passthru detach DOMAIN ADDR|SLOT|UUID|MAC`: `virsh detach-device`, a wait until libvirt has let go
// of the device (the guest must release it first: the detach completes asynchronously), then the undo
// of that device's steps only, as `passthru attach` journaled them. A device attach did not plug is
// detached all the same; nothing of ours is undone for it (its domain's release does that).
import { InputError, PassthruError } from '../errors.js';
import { printable } from '../pci/address.js';
import { deviceFragments, fragmentMatches, type DeviceFragment } from '../xml/device-fragments.js';
import { applyEdits } from '../cli/xmlfix/apply.js';
import type { HookContext } from '../hook/context.js';
import { execEnv } from '../hook/context.js';
import { journalPath, readJournalFile, writeJournal, type Journal } from './journal.js';
import { undoEntry } from './hotplug-journal.js';
import { hotplugScope, type HotplugIo, type HotplugOptions } from './attach.js';
import { detachDevice, domainXml, lookupDomain, syncConfigMetadata } from './libvirt-domain.js';
import { existsSync } from 'node:fs';

const POLL_MS = 250;

export function detachWaitMs(env: NodeJS.ProcessEnv): number {
  const n = Number(env.PASSTHRU_DETACH_WAIT_S);
  return (Number.isFinite(n) && n > 0 && n <= 3600 ? n : 30) * 1000;
}

export async function detach(
  ctx: HookContext,
  name: string,
  selector: string,
  o: HotplugOptions & { waitMs: number },
  io: HotplugIo,
) {
  if (!/^[0-9A-Fa-f:.-]{5,40}$/.test(selector))
    throw new InputError(`detach: '${printable(selector)}' is not a PCI address, a slot, an mdev UUID or a MAC`);
  const d = await lookupDomain(name, o.uri);
  const scope = hotplugScope(d, o);
  const file = journalPath(ctx.stateDir, d.uuid);
  const j: Journal | undefined = scope.live && existsSync(file) ? readJournalFile(file) : undefined;
  const xml = await domainXml(name, o.uri, !scope.live);
  const entry = j?.attached?.find((e) => e.xml.some((x) => matchesXml(x, selector)));
  const frags = deviceFragments(xml).filter(
    (f) => fragmentMatches(f, selector) || (entry?.devices.includes(f.key) ?? false),
  );
  if (frags.length === 0 && !entry)
    throw new InputError(
      `domain '${printable(name)}' has no passthrough device '${printable(selector)}' ${scope.live ? 'running' : 'in its definition'}`,
    );
  const names = [...new Set([...frags.map((f) => f.key), ...(entry?.devices ?? [])])].join(', ');
  if (o.dryRun)
    return io.out(`would detach ${names} from '${printable(name)}'${entry ? ' and undo its hot-plug steps' : ''}`);
  const env = execEnv(ctx, io.err);
  const conf = scope.config ? (scope.live ? await domainXml(name, o.uri, true) : xml) : undefined;
  if (entry && j) {
    entry.state = 'detaching';
    writeJournal(ctx.stateDir, j);
  }
  for (const f of frags) {
    const why = await detachDevice(name, o.uri, f.xml, scope);
    if (why) {
      if (entry && j) {
        entry.state = 'attached';
        writeJournal(ctx.stateDir, j);
      }
      throw new PassthruError(`libvirt refused to detach ${f.key} from '${printable(name)}': ${why}`);
    }
  }
  if (conf) {
    // our metadata about the device goes from the definition with it
    const edits = frags.map((f) => ({
      flag: f.kind === 'interface' ? ('remove-vf' as const) : ('remove-hostdev' as const),
      value: f.key,
    }));
    await syncConfigMetadata(name, o.uri, conf, await applyEdits(conf, edits, { all: false, host: noHost }));
  }
  if (!scope.live) return io.out(`detached ${names} from the definition of '${printable(name)}'`);
  await waitUntilGone(name, o, frags);
  if (!entry || !j)
    return io.out(
      `detached ${names} from '${printable(name)}' (not plugged by passthru attach: nothing of ours to undo)`,
    );
  const r = await undoEntry(env, j, entry);
  if (r.failed)
    throw new PassthruError(
      `detached ${names}, but ${r.failed} undo step(s) failed; journal kept, run 'passthru recover --domain ${printable(name)}'`,
    );
  io.out(`detached ${names} from '${printable(name)}': ${r.changed} change(s) undone`);
}

/** libvirt answers detach-device before the guest lets go: poll its live XML, bounded. */
async function waitUntilGone(name: string, o: HotplugOptions & { waitMs: number }, frags: DeviceFragment[]) {
  const keys = new Set(frags.map((f) => f.key));
  const deadline = Date.now() + o.waitMs;
  for (;;) {
    const live = deviceFragments(await domainXml(name, o.uri, false));
    const still = live.filter((f) => keys.has(f.key)).map((f) => f.key);
    if (still.length === 0) return;
    if (Date.now() >= deadline)
      throw new PassthruError(
        `libvirt still has ${still.join(', ')} in '${printable(name)}' after ${o.waitMs / 1000} s (the guest has not released it); its steps stay journaled: run 'passthru detach' again, or they are undone when the domain stops`,
      );
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function matchesXml(xml: string, selector: string): boolean {
  const wrapped = `<domain><devices>${xml}</devices></domain>`;
  return deviceFragments(wrapped).some((f) => fragmentMatches(f, selector));
}

const noHost = () => Promise.reject(new Error('detach resolves nothing against the host'));
