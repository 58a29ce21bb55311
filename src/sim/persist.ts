// Writing sim files atomically (temp file + rename): a process killed mid-save leaves the old host.
import { renameSync, writeFileSync } from 'node:fs';
import { normalizeOrder, sortKeys, type SimFile } from './state.js';

export function writeSimFile(file: string, state: SimFile): void {
  normalizeOrder(state);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(sortKeys(state), null, 1) + '\n');
  renameSync(tmp, file);
}
