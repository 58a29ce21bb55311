// The libvirt side of hot-plug, through virsh (src/exec/virsh.ts): which domain, whether it runs, its
// XML, attach-device / detach-device, and our metadata in its persistent definition. Each failure is a
// PassthruError carrying libvirt's own reason on one line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassthruError } from '../errors.js';
import { printable } from '../pci/address.js';
import { PASSTHRU_NS, PASSTHRU_PREFIX } from '../xml/model.js';
import { findContainer } from '../xml/metadata-edit.js';
import { parseTree } from '../xml/tree.js';
import { virsh, virshReason } from './virsh.js';

export interface LibvirtDomain {
  name: string;
  uuid: string;
  running: boolean;
}

export async function lookupDomain(name: string, uri?: string): Promise<LibvirtDomain> {
  const u = await virsh(['domuuid', '--', name], { uri });
  if (u.code !== 0) throw new PassthruError(`domain '${printable(name)}': ${virshReason(u)}`, 2);
  const s = await virsh(['domstate', '--', name], { uri });
  if (s.code !== 0) throw new PassthruError(`domain '${printable(name)}': ${virshReason(s)}`);
  const state = s.stdout.trim();
  return { name, uuid: u.stdout.trim().toLowerCase(), running: state !== 'shut off' && state !== 'crashed' };
}

export async function domainXml(name: string, uri: string | undefined, inactive: boolean): Promise<string> {
  const r = await virsh(['dumpxml', ...(inactive ? ['--inactive'] : []), '--', name], { uri });
  if (r.code !== 0) throw new PassthruError(`domain '${printable(name)}': ${virshReason(r)}`);
  return r.stdout;
}

export interface Scope {
  live: boolean;
  config: boolean;
}

const scopeFlags = (s: Scope): string[] => [...(s.live ? ['--live'] : []), ...(s.config ? ['--config'] : [])];

/** virsh attach-device/detach-device with the device XML in a private temp file (node's pipes are
 * sockets, which /dev/stdin cannot open); libvirt's reason when it refuses, else undefined. */
async function withDevice(cmd: string, name: string, uri: string | undefined, xml: string, s: Scope) {
  const dir = mkdtempSync(join(tmpdir(), 'passthru-device-'));
  try {
    const file = join(dir, 'device.xml');
    writeFileSync(file, xml, { mode: 0o600 });
    const r = await virsh([cmd, '--file', file, ...scopeFlags(s), '--', name], { uri });
    // virsh's own first line names our temp file; libvirt's reason follows it
    return r.code === 0 ? undefined : virshReason(r).replace(/^Failed to (at|de)tach device from [^;\s]+(; )?/, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const attachDevice = (name: string, uri: string | undefined, xml: string, s: Scope) =>
  withDevice('attach-device', name, uri, xml, s);
export const detachDevice = (name: string, uri: string | undefined, xml: string, s: Scope) =>
  withDevice('detach-device', name, uri, xml, s);

/**
 * Our metadata container in a domain document as `virsh metadata --set` takes it (libvirt puts the
 * namespace on it from --uri/--key and refuses a declaration of its own): prefix and xmlns dropped.
 */
export function metadataOf(xml: string): string | undefined {
  const c = findContainer(parseTree(xml));
  if (!c) return undefined;
  const text = xml.slice(c.element.start, c.element.end);
  const p = c.prefix.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  if (!c.prefix) return text.replace(/\s+xmlns=(['"])[^'"]*\1/, '');
  return text.replace(new RegExp(`\\s+xmlns:${p}=(['"])[^'"]*\\1`), '').replace(new RegExp(`<(/?)${p}:`, 'g'), '<$1');
}

/** Puts `after`'s metadata of ours into the persistent definition when it differs from `before`'s. */
export async function syncConfigMetadata(name: string, uri: string | undefined, before: string, after: string) {
  const [was, now] = [metadataOf(before), metadataOf(after)];
  if (was === now) return;
  const args = now
    ? ['metadata', '--uri', PASSTHRU_NS, '--key', PASSTHRU_PREFIX, '--set', now, '--config', '--', name]
    : ['metadata', '--uri', PASSTHRU_NS, '--remove', '--config', '--', name];
  const r = await virsh(args, { uri });
  if (r.code !== 0) throw new PassthruError(`domain '${printable(name)}': setting our metadata: ${virshReason(r)}`);
}
