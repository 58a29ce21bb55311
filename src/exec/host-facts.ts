// Detects the host facts that protect devices (see plan/protect.ts), reading through the Sysfs door
// so a simulated or materialized host answers the same way as the real one:
//  - the root file system: proc/mounts -> its block device -> (dm/md slaves) -> the PCI devices in
//    the sys/class/block link (controller and the bridges above it);
//  - the default route: proc/net/route and proc/net/ipv6_route -> interface -> (bridge ports, bond
//    and VLAN lower devices) -> the PCI device behind sys/class/net/IF/device;
//  - display controllers (class 03) and a serial console on the kernel command line, for boot VGA.
// Anything that cannot be read yields no fact (a container without proc/mounts protects nothing).
import { layout } from '../host/layout.js';
import { tryLink, tryList, tryRead } from '../host/optional-reads.js';
import type { Sysfs } from '../host/sysfs.js';
import type { HostFacts } from '../plan/types.js';

const PCI = /[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]/g;
const SAFE = /^[A-Za-z0-9_.:@+-]{1,64}$/;

/** The block device name under sys/class/block for a mount source such as /dev/nvme0n1p2 or /dev/mapper/vg-root. */
async function blockName(s: Sysfs, source: string): Promise<string | undefined> {
  const m = /^\/dev\/(.+)$/.exec(source);
  if (!m) return undefined;
  const name = m[1]!;
  if (name.startsWith('mapper/')) {
    const dmName = name.slice('mapper/'.length);
    for (const b of await tryList(s, layout.blockClass)) {
      if (b.startsWith('dm-') && (await tryRead(s, `${layout.blockClass}/${b}/dm/name`))?.trim() === dmName) return b;
    }
    return undefined;
  }
  const base = name.split('/').pop()!;
  return SAFE.test(base) ? base : undefined;
}

async function blockDevices(s: Sysfs, name: string, out: Set<string>, depth = 0): Promise<void> {
  if (depth > 8 || !SAFE.test(name)) return;
  const link = await tryLink(s, `${layout.blockClass}/${name}`);
  for (const a of link?.match(PCI) ?? []) out.add(a);
  for (const slave of await tryList(s, `${layout.blockClass}/${name}/slaves`))
    await blockDevices(s, slave, out, depth + 1);
}

export async function rootDiskDevices(s: Sysfs): Promise<string[]> {
  const mounts = await tryRead(s, layout.mounts);
  if (!mounts) return [];
  let source: string | undefined;
  for (const line of mounts.split('\n')) {
    const [src, mnt] = line.split(' ');
    if (mnt === '/' && src) source = src; // the last mount on / is the one in effect
  }
  const name = source ? await blockName(s, source) : undefined;
  const out = new Set<string>();
  if (name) await blockDevices(s, name, out);
  return [...out].sort();
}

async function netdevDevices(s: Sysfs, iface: string, out: Set<string>, depth = 0): Promise<void> {
  if (depth > 8 || !SAFE.test(iface)) return;
  const link = await tryLink(s, `${layout.netClass}/${iface}/device`);
  const hits = link?.match(PCI);
  if (hits?.length) out.add(hits[hits.length - 1]!);
  for (const e of await tryList(s, `${layout.netClass}/${iface}`)) {
    if (e.startsWith('lower_')) await netdevDevices(s, e.slice('lower_'.length), out, depth + 1);
  }
  for (const port of await tryList(s, `${layout.netClass}/${iface}/brif`)) await netdevDevices(s, port, out, depth + 1);
}

export async function defaultRouteDevices(s: Sysfs): Promise<string[]> {
  const ifaces = new Set<string>();
  for (const line of ((await tryRead(s, layout.ipv4Routes)) ?? '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 8 && f[1] === '00000000' && f[7] === '00000000') ifaces.add(f[0]!);
  }
  for (const line of ((await tryRead(s, layout.ipv6Routes)) ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 10 && /^0{32}$/.test(f[0]!) && f[1] === '00' && f[9] !== 'lo') ifaces.add(f[9]!);
  }
  const out = new Set<string>();
  for (const i of [...ifaces].sort()) await netdevDevices(s, i, out);
  return [...out].sort();
}

export async function displayDevices(s: Sysfs): Promise<string[]> {
  const out: string[] = [];
  for (const d of await tryList(s, layout.pciDevices)) {
    const cls = (await tryRead(s, layout.pciAttr(d, 'class')))?.trim().replace(/^0x/, '');
    if (cls?.startsWith('03')) out.push(d);
  }
  return out.sort();
}

export async function serialConsole(s: Sysfs): Promise<boolean> {
  const cmdline = (await tryRead(s, layout.cmdline)) ?? '';
  return /(?:^|\s)console=(?:ttyS|ttyAMA|hvc|ttyUSB)/.test(cmdline);
}

/** All facts; `displays` only when a device in question is the boot VGA (listing the bus costs reads). */
export async function detectHostFacts(s: Sysfs, opts: { displays: boolean }): Promise<HostFacts> {
  const [root, route, displays, serial] = await Promise.all([
    rootDiskDevices(s),
    defaultRouteDevices(s),
    opts.displays ? displayDevices(s) : Promise.resolve([]),
    opts.displays ? serialConsole(s) : Promise.resolve(false),
  ]);
  return { rootDiskDevices: root, defaultRouteDevices: route, displayDevices: displays, serialConsole: serial };
}
