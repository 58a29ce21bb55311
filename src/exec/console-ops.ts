// The console handover's operations (src/plan/console.ts): display-manager units, virtual console
// binds and firmware framebuffer platform devices. Each reads first and acts only when the host
// differs, like every operation; a vtcon or framebuffer that is gone has nothing left to restore
// (fbcon re-registers and binds itself when a framebuffer comes back; a GPU driver that takes the
// console removes the firmware framebuffer for good).
import { layout } from '../host/layout.js';
import { isErrno } from '../host/sysfs.js';
import type { Op } from '../plan/types.js';
import { bounded } from '../host/bounded.js';
import type { HostAccess } from './ops.js';

type UnitOp = Extract<Op, { op: 'unit' }>;
type VtconOp = Extract<Op, { op: 'vtcon-bind' }>;
type PlatformOp = Extract<Op, { op: 'platform-bind' }>;

export async function applyUnit(h: HostAccess, o: UnitOp): Promise<boolean> {
  const units = h.units;
  if (!units)
    throw new Error(
      `cannot drive systemd here (no systemctl for this host) to ${o.active ? 'start' : 'stop'} ${o.unit}`,
    );
  if ((await bounded(`systemctl is-active ${o.unit}`, h.timeoutMs, units.isActive(o.unit))) === o.active) return false;
  await bounded(
    `systemctl ${o.active ? 'start' : 'stop'} ${o.unit}`,
    h.timeoutMs,
    o.active ? units.start(o.unit) : units.stop(o.unit),
  );
  return true;
}

export async function applyVtcon(h: HostAccess, o: VtconOp): Promise<boolean> {
  const path = layout.vtconBind(o.vtcon);
  let now: string;
  try {
    now = (await bounded(`reading ${path}`, h.timeoutMs, h.sysfs.read(path))).trim();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
  if ((now === '1') === o.bound) return false;
  await bounded(`writing to ${path}`, h.timeoutMs, h.sysfs.write(path, o.bound ? '1' : '0'));
  const after = (await bounded(`reading ${path}`, h.timeoutMs, h.sysfs.read(path))).trim();
  if ((after === '1') !== o.bound) throw new Error(`${o.vtcon} still reads bind=${after}`);
  return true;
}

export async function applyPlatformBind(h: HostAccess, o: PlatformOp): Promise<boolean> {
  let driver: string | undefined;
  try {
    const link = await bounded(
      `reading ${o.device}/driver`,
      h.timeoutMs,
      h.sysfs.readlink(`${layout.platformDevice(o.device)}/driver`),
    );
    driver = link.split('/').pop();
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
    if (!(await bounded(`checking ${o.device}`, h.timeoutMs, h.sysfs.exists(layout.platformDevice(o.device)))))
      return false; // the device is gone: nothing to bind or unbind
  }
  if (o.bound ? driver === o.driver : driver !== o.driver) return false;
  const path = `${layout.platformDriver(o.driver)}/${o.bound ? 'bind' : 'unbind'}`;
  await bounded(`writing '${o.device}' to ${path}`, h.timeoutMs, h.sysfs.write(path, o.device));
  return true;
}
