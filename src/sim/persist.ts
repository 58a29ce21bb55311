// Sim files: read with one clear error, written atomically (temp file + rename), so a process
// killed mid-save leaves the old host and a reader in another process never sees half a host.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { errnoError } from '../host/sysfs.js';
import { normalizeOrder, type SimFile, sortKeys } from './state.js';

/** Reads a sim file; one clear error when it is missing or not a sim host. */
export function readSimFile(file: string): SimFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw errnoError((err as { code?: string }).code ?? 'EIO', `cannot read simulated host file`, file);
  }
  let doc: SimFile;
  try {
    doc = JSON.parse(text) as SimFile;
  } catch {
    throw errnoError('EINVAL', 'simulated host file is not valid JSON', file);
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.devices))
    throw errnoError('EINVAL', "simulated host file has no 'devices' list", file);
  return doc;
}

/** A sim file for people to read (`passthru sim init`): sorted keys, one field a line. */
export function simFileText(state: SimFile): string {
  normalizeOrder(state);
  return `${JSON.stringify(sortKeys(state), null, 1)}\n`;
}

export function writeSimFile(file: string, state: SimFile): void {
  writeAtomically(file, simFileText(state));
}

/**
 * The save after every simulated write: compact, keys in whatever order the writes left them
 * (comparisons go through canonicalState or `passthru sim state`, which sort). Devices and mdevs
 * are kept in address order, so a host's file never depends on its history.
 */
export function saveSimFile(file: string, state: SimFile): void {
  normalizeOrder(state);
  writeAtomically(file, JSON.stringify(state));
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
