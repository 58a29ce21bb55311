// VFIO variant drivers the kernel offers for a device, as libvirt >= 10 finds them: the modules
// whose modules.alias lines start `alias vfio_pci:` (the form vfio variant drivers declare with
// PCI_DRIVER_OVERRIDE_DEVICE_VFIO), matched against the device's modalias with its `pci:` prefix
// read as `vfio_pci:`; of several matches the most specific pattern wins (fewest wildcards, then
// the longest), ties broken by module name so the answer never depends on file order.
import { layout } from './layout.js';
import type { Sysfs } from './sysfs.js';
import type { PciDeviceInfo } from './types.js';

export interface VariantAlias {
  pattern: string;
  module: string;
}

const PREFIX = 'alias vfio_pci:';

/** The vfio_pci aliases of a modules.alias text (other lines skipped without splitting the file). */
export function parseVariantAliases(text: string): VariantAlias[] {
  const out: VariantAlias[] = [];
  for (let i = text.indexOf(PREFIX); i >= 0; i = text.indexOf(PREFIX, i + 1)) {
    if (i > 0 && text[i - 1] !== '\n') continue;
    const end = text.indexOf('\n', i);
    const [, pattern, module] = text.slice(i, end < 0 ? undefined : end).split(/\s+/);
    if (pattern && module) out.push({ pattern: pattern.slice('vfio_pci:'.length), module });
  }
  return out;
}

const hex = (v: string, n: number): string => v.toUpperCase().padStart(n, '0');

/** Subsystem ids, read only for a device some alias names them for (file2alias writes sv*sd* mostly). */
export interface SubsystemIds {
  vendor: string;
  device: string;
}

/** The device's modalias without 'pci:', as the kernel writes it (pci_uevent / modalias_show). */
export function modaliasOf(d: PciDeviceInfo, sub: SubsystemIds): string {
  const c = d.class.padStart(6, '0').toUpperCase();
  return `v${hex(d.vendor, 8)}d${hex(d.device, 8)}sv${hex(sub.vendor, 8)}sd${hex(sub.device, 8)}bc${c.slice(0, 2)}sc${c.slice(2, 4)}i${c.slice(4, 6)}`;
}

/** fnmatch with `*` and `?`, as the alias patterns use them. */
function glob(p: string): RegExp {
  return new RegExp(
    `^${p
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/** An alias pattern's subsystem part: what it asks of sv/sd ('*' for anything). */
const SUBSYSTEM = /sv([^s]*)sd([^b]*)bc/;

/** Whether an alias matches the device in its ids and class, whatever it asks of the subsystem ids. */
function matchesIgnoringSubsystem(d: PciDeviceInfo, pattern: string): boolean {
  return glob(pattern.replace(SUBSYSTEM, 'sv*sd*bc')).test(modaliasOf(d, { vendor: '0', device: '0' }));
}

/** Whether choosing the device's variant needs its subsystem ids (an alias matching it names them). */
export function needsSubsystem(d: PciDeviceInfo, aliases: VariantAlias[]): boolean {
  return aliases.some((a) => {
    const m = SUBSYSTEM.exec(a.pattern);
    return m && (m[1] !== '*' || m[2] !== '*') && matchesIgnoringSubsystem(d, a.pattern);
  });
}

export function bestVariant(d: PciDeviceInfo, aliases: VariantAlias[], sub?: SubsystemIds): string | undefined {
  const m = sub ? modaliasOf(d, sub) : undefined;
  const hits = aliases.filter((a) => {
    const s = SUBSYSTEM.exec(a.pattern);
    if (s && s[1] === '*' && s[2] === '*') return matchesIgnoringSubsystem(d, a.pattern);
    return m !== undefined && glob(a.pattern).test(m); // names subsystem ids: only with them
  });
  const wild = (p: string): number => (p.match(/[*?]/g) ?? []).length;
  hits.sort(
    (a, b) =>
      wild(a.pattern) - wild(b.pattern) ||
      b.pattern.length - a.pattern.length ||
      (a.module < b.module ? -1 : a.module > b.module ? 1 : 0),
  );
  return hits[0]?.module;
}

/** The device's subsystem ids from sysfs. */
export async function readSubsystem(sysfs: Sysfs, address: string): Promise<SubsystemIds> {
  const [vendor, device] = await Promise.all([
    sysfs.read(layout.pciAttr(address, 'subsystem_vendor')),
    sysfs.read(layout.pciAttr(address, 'subsystem_device')),
  ]);
  const id = (t: string): string => t.trim().replace(/^0x/i, '');
  return { vendor: id(vendor), device: id(device) };
}

/** lib/modules/RELEASE/modules.alias under the host root; [] when the file is not there. */
export async function readVariantAliases(sysfs: Sysfs, kernel: string | undefined): Promise<VariantAlias[]> {
  if (!kernel) return [];
  try {
    return parseVariantAliases(await sysfs.read(layout.modulesAlias(kernel)));
  } catch {
    return [];
  }
}
