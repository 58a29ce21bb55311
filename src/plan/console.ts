// PURE: the single-GPU console handover. By default a domain may not take the boot VGA when the host
// has no other display (src/plan/protect.ts). With the opt-in (<passthru:console handover='on'/> in
// the domain, or consoleHandover in the device's config policy) prepare hands the console over
// instead, in the order careful administrators do it by hand:
//   1. stop the display-manager units that are active (systemctl; never libvirt from the hook),
//   2. unbind the virtual consoles that can be unbound (vtconN/bind, those named '(M) …': the kernel
//      never unbinds its built-in '(S)' consoles, the dummy one among them),
//   3. release the firmware framebuffer (efi-framebuffer, simple-framebuffer (simplefb or simpledrm),
//      vesa-framebuffer platform devices),
//   4. release the GPU's host driver (bind it to vfio-pci; libvirt finds it ready),
// then the group peers as usual. Each step's undo is recorded with it, so release and recover give it
// all back in reverse: driver, framebuffer, virtual consoles, display managers.
import type { EffectiveConfig } from '../config/types.js';
import type { HostSnapshot } from '../host/types.js';
import type { DomainPassthrough } from '../xml/model.js';
import { bindVfioAction } from './actions.js';
import { policyFor } from './gpu-policy.js';
import type { Action, Op } from './types.js';

/** The platform drivers of firmware framebuffers (simpledrm registers as simple-framebuffer too). */
export const FIRMWARE_FB_DRIVERS = ['efi-framebuffer', 'simple-framebuffer', 'vesa-framebuffer'] as const;

/** What the host's console looks like now (src/host/console.ts reads it). */
export interface ConsoleState {
  /** sys/class/vtconsole/vtconN: its name ('(M) frame buffer device') and whether it is bound. */
  vtcons: { id: string; name: string; bound: boolean }[];
  /** Firmware framebuffer platform devices bound to their driver now. */
  framebuffers: { driver: string; device: string }[];
  /** The configured display managers: active now, or why systemd could not be asked. */
  units: { unit: string; active?: boolean; error?: string }[];
}

/** Whether the domain or the device's policy asks for the handover. */
export function handoverWanted(
  domain: DomainPassthrough,
  config: EffectiveConfig,
  snap: HostSnapshot,
  addr: string,
): boolean {
  const dev = snap.devices[addr];
  if (!dev) return false;
  return domain.metadata.consoleHandover ?? policyFor(config, dev).policy.consoleHandover ?? false;
}

/** The assigned boot VGA devices whose console is handed over (the protection rule lets these go). */
export function handoverDevices(
  domain: DomainPassthrough,
  config: EffectiveConfig,
  snap: HostSnapshot,
  assigned: string[],
): Set<string> {
  return new Set(assigned.filter((a) => snap.devices[a]?.bootVga && handoverWanted(domain, config, snap, a)));
}

export interface ConsolePlanInput {
  gpus: Set<string>;
  snapshot: HostSnapshot;
  console?: ConsoleState;
  done: Set<string>;
  refuse(device: string, reason: string): never;
}

export function planConsoleHandover(input: ConsolePlanInput): Action[] {
  const actions: Action[] = [];
  for (const addr of [...input.gpus].sort()) {
    const c = input.console ?? input.refuse(addr, 'console handover: the console state was not read');
    const bad = c.units.find((u) => u.active === undefined);
    if (bad)
      input.refuse(
        addr,
        `console handover: cannot ask systemd whether ${bad.unit} is active (${bad.error ?? 'no answer'}); nothing was changed`,
      );
    const units = c.units.filter((u) => u.active).map((u) => u.unit);
    const vtcons = c.vtcons.filter((v) => v.bound && v.name.startsWith('(M)')).map((v) => v.id);
    const doOps: Op[] = [
      ...units.map((unit): Op => ({ op: 'unit', unit, active: false })),
      ...vtcons.map((vtcon): Op => ({ op: 'vtcon-bind', vtcon, bound: false })),
      ...c.framebuffers.map((f): Op => ({ op: 'platform-bind', driver: f.driver, device: f.device, bound: false })),
    ];
    const undoOps: Op[] = doOps.map((o): Op => {
      if (o.op === 'unit') return { ...o, active: true };
      if (o.op === 'vtcon-bind' || o.op === 'platform-bind') return { ...o, bound: true };
      return o;
    });
    const id = `console-handover ${addr}`;
    const parts = [
      units.length ? `stop ${units.join(', ')}` : 'no display manager active',
      vtcons.length ? `unbind ${vtcons.join(', ')}` : 'no virtual console to unbind',
      c.framebuffers.length ? `release ${c.framebuffers.map((f) => f.device).join(', ')}` : 'no firmware framebuffer',
    ];
    if (doOps.length && !input.done.has(id))
      actions.push({
        id,
        kind: 'console-handover',
        device: addr,
        why: `boot VGA handed over to the domain: ${parts.join('; ')}`,
        do: doOps,
        undo: undoOps.reverse(),
      });
    const dev = input.snapshot.devices[addr]!;
    // the host driver lets go only now that nothing draws on the GPU any more
    if (dev.driver && dev.driver !== 'vfio-pci') {
      const bind = bindVfioAction(dev, 'console handover: the host driver lets go of the boot VGA');
      if (!input.done.has(bind.id)) actions.push(bind);
    }
  }
  return actions;
}
