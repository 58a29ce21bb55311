// Which devices the hook must never take from the host, and why (pure: host facts come as data).
// Each reason names its override, so a refusal line tells the admin how to allow it on purpose.
import { isPciAddress, parsePciAddress, parsePciSelector, formatPciAddress } from '../pci/address.js';
import { matchesPciFilter, parsePciFilter, type PciFilterTerm } from '../pci/filter.js';
import type { PciDeviceInfo } from '../host/types.js';
import type { EffectiveConfig } from '../config/types.js';
import type { HostFacts } from './types.js';

type Matcher = (d: PciDeviceInfo) => boolean;

/** Turns one config `protected` entry into a matcher; throws InputError on a malformed entry. */
export function protectedMatcher(entry: string): Matcher {
  if (isPciAddress(entry)) {
    const a = formatPciAddress(parsePciAddress(entry));
    return (d) => d.address === a;
  }
  if (/^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}$/i.test(entry)) {
    const s = parsePciSelector(entry);
    if (s.kind === 'slot') {
      const prefix = formatPciAddress({ domain: s.domain, bus: s.bus, slot: s.slot, function: 0 }).slice(0, -1);
      return (d) => d.address.startsWith(prefix);
    }
  }
  const terms: PciFilterTerm[] = parsePciFilter(entry);
  return (d) => matchesPciFilter(d, terms);
}

export interface ProtectContext {
  config: EffectiveConfig;
  facts: HostFacts;
  /** Every device the domain takes (assigned + peers): a display among them is no console for the host. */
  taken: Set<string>;
  /** Boot VGA devices whose console the domain opted to take over (src/plan/console.ts): not refused. */
  handover?: Set<string>;
}

/** The reason `dev` is protected, or undefined when the hook may detach it. */
export function protectionReason(dev: PciDeviceInfo, ctx: ProtectContext): string | undefined {
  const { config, facts } = ctx;
  for (const entry of config.protected) {
    if (protectedMatcher(entry)(dev))
      return `is protected by the configuration ('${entry}'; override: remove it from "protected")`;
  }
  if (config.autoProtect.rootDisk && facts.rootDiskDevices.includes(dev.address))
    return `is protected: the root file system's disk depends on it (override: "autoProtect": {"rootDisk": false} in the config)`;
  if (config.autoProtect.defaultRoute && facts.defaultRouteDevices.includes(dev.address))
    return `is protected: it carries the host's default route (override: "autoProtect": {"defaultRoute": false} in the config)`;
  if (config.autoProtect.bootVga && dev.bootVga && !facts.serialConsole && !ctx.handover?.has(dev.address)) {
    const other = facts.displayDevices.some((a) => a !== dev.address && !ctx.taken.has(a));
    if (!other)
      return `is protected: it is the boot VGA and the host has no other console (override: "autoProtect": {"bootVga": false} in the config, console=ttyS0 on the kernel command line, or the console handover: <passthru:console handover='on'/> or consoleHandover in the device's config)`;
  }
  return undefined;
}
