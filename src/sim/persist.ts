// Writing sim files atomically (temp file + rename): a process killed mid-save leaves the old host.
import { renameSync, writeFileSync } from 'node:fs';
import { normalizeOrder, sortKeys, type SimFile } from './state.js';

/** A sim file for people to read (`passthru sim init`): sorted keys, one field a line. */
export function writeSimFile(file: string, state: SimFile): void {
  normalizeOrder(state);
  writeAtomically(file, `${JSON.stringify(sortKeys(state), null, 1)}\n`);
}

/**
 * The save after every simulated write (other processes and the kill tests read the file at once):
 * compact and with keys in whatever order the writes left them, which costs a fraction of sorting
 * them again on every write. Comparisons go through canonicalState (or `passthru sim state`), which
 * sorts. Devices and mdevs stay in address order: the simulator's own iteration order depends on it.
 * Returns the text written: the saving SimKernel keeps it as its copy of the state for rollback.
 */
export function saveSimFile(file: string, state: SimFile): string {
  normalizeOrder(state);
  const text = JSON.stringify(state);
  writeAtomically(file, text);
  return text;
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
