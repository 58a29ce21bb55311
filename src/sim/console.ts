// The host console as the simulator models it, for the single-GPU handover:
//  - sys/class/vtconsole/vtconN/{name,bind}: writing a number binds (non-zero) or unbinds (0) the
//    console driver, parsed like simple_strtoul (junk reads as 0); the kernel's built-in '(S)'
//    drivers (the dummy console) are never unbound, the write is accepted and changes nothing;
//  - firmware framebuffers as platform devices (sys/bus/platform/devices/NAME, driver link) and
//    their drivers (sys/bus/platform/drivers/DRIVER/{bind,unbind} and one link per bound device):
//    bind of a bound device or to another driver is EBUSY/ENODEV, unbind of an unbound one ENODEV;
//  - systemd units (active or not), driven through the UnitControl interface instead of systemctl.
//  - fbcon ('(M) frame buffer device') exists only while a framebuffer does (a bound firmware
//    framebuffer, or a display controller on a driver other than vfio-pci/pci-stub): when the last one
//    goes it unregisters, its vtcon disappears (the others keep their numbers) and the dummy console
//    reads bound; when a framebuffer comes back it takes the console over, bound (lab-measured, 6.1,
//    bochs-drm: test/lab/FINDINGS.md).
// Deliberately simpler than the kernel: a DRM driver removing the firmware framebuffer when it binds
// (aperture handover) is not modelled.
import { errnoError } from '../host/sysfs.js';
import type { UnitControl } from '../host/units.js';
import type { SimHostState } from './state.js';

type Node =
  | { t: 'file'; get?: () => string; set?: (data: string) => void }
  | { t: 'dir'; entries: () => string[] }
  | { t: 'link'; target: string; to?: string };

export interface SimVtcon {
  name: string;
  bound: boolean;
}

export interface SimFramebuffer {
  /** Platform device name: efi-framebuffer.0, simple-framebuffer.0. */
  device: string;
  /** Its driver: efi-framebuffer, simple-framebuffer (simplefb or simpledrm). */
  driver: string;
  /** Bound now (absent = true). */
  bound?: boolean;
}

const strtoul = (v: string): number => {
  const m = /^\s*(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)/i.exec(v);
  return m ? Number(m[1]) : 0;
};

const FBCON = '(M) frame buffer device';
const NOT_A_FRAMEBUFFER = new Set(['vfio-pci', 'pci-stub']);

/** Whether any framebuffer exists for fbcon to draw on. */
function framebufferPresent(state: SimHostState): boolean {
  return (
    (state.framebuffers ?? []).some((f) => f.bound !== false) ||
    state.devices.some((d) => d.class.startsWith('03') && d.driver && !NOT_A_FRAMEBUFFER.has(d.driver))
  );
}

/** The vtcons that exist now, by number; fbcon's is gone (and bound again for its return) without a framebuffer. */
function presentVtcons(state: SimHostState): Map<number, SimVtcon> {
  const fb = framebufferPresent(state);
  const out = new Map<number, SimVtcon>();
  (state.vtconsoles ?? []).forEach((v, i) => {
    if (v.name === FBCON && !fb) {
      v.bound = true; // fbcon binds itself when it takes over a new framebuffer
      return;
    }
    out.set(i, v);
  });
  return out;
}

/** The dummy console is bound exactly when no other module console is. */
function shownBound(list: Map<number, SimVtcon>, v: SimVtcon): boolean {
  if (!/dummy device$/.test(v.name)) return v.bound;
  return ![...list.values()].some((o) => o !== v && o.name.startsWith('(M)') && o.bound);
}

/** sys/class/vtconsole[/vtconN[/ATTR]]. */
export function vtconsoleNode(state: SimHostState, s: string[]): Node | undefined {
  const list = presentVtcons(state);
  if (s.length === 0) return { t: 'dir', entries: () => [...list.keys()].map((i) => `vtcon${i}`) };
  const m = /^vtcon(\d+)$/.exec(s[0]!);
  const v = m ? list.get(Number(m[1])) : undefined;
  if (!v) return undefined;
  if (s.length === 1) return { t: 'dir', entries: () => ['bind', 'name', 'uevent'] };
  if (s.length !== 2) return undefined;
  if (s[1] === 'name') return { t: 'file', get: () => `${v.name}\n` };
  if (s[1] === 'uevent') return { t: 'file', get: () => '' };
  if (s[1] === 'bind')
    return {
      t: 'file',
      get: () => (shownBound(list, v) ? '1\n' : '0\n'),
      set: (data) => {
        // a built-in console driver stays bound; the dummy one is bound by whoever lets go
        if (!v.name.startsWith('(M)') || /dummy device$/.test(v.name)) return;
        v.bound = strtoul(data) !== 0;
      },
    };
  return undefined;
}

const isBound = (f: SimFramebuffer): boolean => f.bound !== false;

/** sys/bus/platform[/devices|/drivers…]. */
export function platformNode(state: SimHostState, s: string[]): Node | undefined {
  const fbs = state.framebuffers ?? [];
  if (s.length === 0) return { t: 'dir', entries: () => ['devices', 'drivers'] };
  if (s[0] === 'devices') {
    if (s.length === 1) return { t: 'dir', entries: () => fbs.map((f) => f.device) };
    const f = fbs.find((x) => x.device === s[1]);
    if (!f) return undefined;
    if (s.length === 2)
      return {
        t: 'link',
        target: `../../../devices/platform/${f.device}`,
        to: `sys/bus/platform/devices/${f.device}/.`,
      };
    if (s[2] === '.' && s.length === 3)
      return { t: 'dir', entries: () => (isBound(f) ? ['driver', 'uevent'] : ['uevent']) };
    if (s[2] === 'driver' && s.length === 3)
      return isBound(f)
        ? { t: 'link', target: `../../../bus/platform/drivers/${f.driver}`, to: `sys/bus/platform/drivers/${f.driver}` }
        : undefined;
    if (s[2] === 'uevent' && s.length === 3) return { t: 'file', get: () => `DRIVER=${isBound(f) ? f.driver : ''}\n` };
    return undefined;
  }
  if (s[0] !== 'drivers') return undefined;
  const drivers = [...new Set(fbs.map((f) => f.driver))].sort();
  if (s.length === 1) return { t: 'dir', entries: () => drivers };
  const drv = s[1]!;
  if (!drivers.includes(drv)) return undefined;
  const bound = () => fbs.filter((f) => f.driver === drv && isBound(f)).map((f) => f.device);
  if (s.length === 2) return { t: 'dir', entries: () => ['bind', 'uevent', 'unbind', ...bound()] };
  if (s.length !== 3) return undefined;
  const named = (v: string) => {
    const f = fbs.find((x) => x.device === v.trim());
    if (!f) throw errnoError('ENODEV', `no platform device '${v.trim()}'`);
    return f;
  };
  if (s[2] === 'bind')
    return {
      t: 'file',
      set: (v) => {
        const f = named(v);
        if (f.driver !== drv) throw errnoError('ENODEV', `${drv} does not match ${f.device}`);
        if (isBound(f)) throw errnoError('EBUSY', `${f.device} is bound to ${f.driver}`);
        delete f.bound;
      },
    };
  if (s[2] === 'unbind')
    return {
      t: 'file',
      set: (v) => {
        const f = named(v);
        if (f.driver !== drv || !isBound(f)) throw errnoError('ENODEV', `${f.device} is not bound to ${drv}`);
        f.bound = false;
      },
    };
  if (s[2] === 'uevent') return { t: 'file', set: () => {} };
  const f = fbs.find((x) => x.device === s[2] && x.driver === drv && isBound(x));
  return f ? { t: 'link', target: `../../../../devices/platform/${f.device}` } : undefined;
}

/** Units of a simulated host; `change` runs a mutation of the state and persists it. */
export function simUnits(
  read: <T>(fn: (s: SimHostState) => T) => T,
  change: (fn: (s: SimHostState) => void) => void,
): UnitControl {
  const known = (s: SimHostState, unit: string): void => {
    if (!s.units || !(unit in s.units)) throw new Error(`Unit ${unit} could not be found.`);
  };
  return {
    async isActive(unit) {
      return read((s) => s.units?.[unit] === 'active');
    },
    async start(unit) {
      change((s) => {
        known(s, unit);
        s.units![unit] = 'active';
      });
    },
    async stop(unit) {
      change((s) => {
        known(s, unit);
        s.units![unit] = 'inactive';
      });
    },
  };
}
