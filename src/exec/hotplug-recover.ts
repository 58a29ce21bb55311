// recover's part for hot-plug: a crash between the host's half of `passthru attach`/`detach` and
// libvirt's leaves an entry 'attaching' or 'detaching' in a running domain's journal. libvirt's live
// XML settles it: a device the guest has is attached; one it does not have gets its steps undone. With
// libvirt not answering, nothing is decided.
import type { Journal } from './journal.js';
import { writeJournal } from './journal.js';
import { undoEntry } from './hotplug-journal.js';
import type { ExecEnv } from './run.js';

export function unsettled(j: Journal): boolean {
  return (j.attached ?? []).some((e) => e.state !== 'attached');
}

/** One line per entry decided or left; `liveDevices` = host side keys of the domain's live devices, undefined when libvirt did not answer. */
export async function settleHotplug(env: ExecEnv, j: Journal, liveDevices: Set<string> | undefined): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of [...(j.attached ?? [])]) {
    if (entry.state === 'attached') continue;
    const what = `${j.domain.name}: hot-plug of ${entry.devices.join(', ')} (${entry.state})`;
    if (!liveDevices) {
      lines.push(`${what}: left as it is, libvirt did not answer (run recover again once it does)`);
      continue;
    }
    const inGuest = entry.devices.some((d) => liveDevices.has(d));
    if (inGuest && entry.state === 'attaching') {
      entry.state = 'attached';
      writeJournal(env.stateDir, j);
      lines.push(`${what}: libvirt has the device, kept as attached`);
    } else if (inGuest) {
      lines.push(`${what}: libvirt still has the device, left for 'passthru detach'`);
    } else {
      const r = await undoEntry(env, j, entry);
      lines.push(
        `${what}: not in the guest, ${r.changed} change(s) undone${r.failed ? `, ${r.failed} step(s) failed (kept)` : ''}`,
      );
    }
  }
  return lines;
}
