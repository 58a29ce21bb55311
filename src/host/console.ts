// Reads the host console for the handover planner (src/plan/console.ts): virtual consoles, bound
// firmware framebuffers, and whether the configured display managers are active.
import { layout } from './layout.js';
import { isErrno, type Sysfs } from './sysfs.js';
import type { UnitControl } from './units.js';
import { FIRMWARE_FB_DRIVERS, type ConsoleState } from '../plan/console.js';

const DRIVER_FILES = new Set(['bind', 'unbind', 'uevent', 'module', 'new_id', 'remove_id']);

async function list(sysfs: Sysfs, path: string): Promise<string[]> {
  try {
    return await sysfs.list(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

export async function readConsoleState(
  sysfs: Sysfs,
  units: UnitControl | undefined,
  displayManagers: string[],
): Promise<ConsoleState> {
  const vtcons: ConsoleState['vtcons'] = [];
  const ids = (await list(sysfs, layout.vtconsoles)).filter((n) => /^vtcon\d+$/.test(n));
  ids.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  for (const id of ids) {
    const [name, bind] = await Promise.all([
      sysfs.read(`${layout.vtconsoles}/${id}/name`),
      sysfs.read(layout.vtconBind(id)),
    ]);
    vtcons.push({ id, name: name.trim(), bound: bind.trim() === '1' });
  }
  const framebuffers: ConsoleState['framebuffers'] = [];
  for (const driver of FIRMWARE_FB_DRIVERS)
    for (const device of await list(sysfs, layout.platformDriver(driver)))
      if (!DRIVER_FILES.has(device)) framebuffers.push({ driver, device });
  const out: ConsoleState['units'] = [];
  for (const unit of displayManagers) {
    if (!units) {
      out.push({ unit, error: 'no systemctl for a host under another root; set PASSTHRU_SYSTEMCTL' });
      continue;
    }
    try {
      out.push({ unit, active: await units.isActive(unit) });
    } catch (err) {
      out.push({ unit, error: (err as Error).message });
    }
  }
  return { vtcons, framebuffers, units: out };
}
