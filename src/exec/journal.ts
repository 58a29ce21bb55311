// The journal: one file per running domain, <statedir>/<uuid>.json (schemas/journal.schema.json).
// It is rewritten atomically (temp file, rename) BEFORE any change it records, with each change and
// its undo already in it, so after any crash the journal names everything that may have been done. Reading refuses symlinks (O_NOFOLLOW), non-files, oversize, corrupt JSON and
// wrong schemas with one clear line, and never changes anything.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { PassthruError } from '../errors.js';
import { printable } from '../pci/address.js';
import type { Action, Holds } from '../plan/types.js';
import { validateJournal } from '../config/validators.generated.js';
import { describeSchemaError } from '../config/schema-error.js';

export const JOURNAL_SCHEMA = 'passthru-journal/1';
const MAX_JOURNAL_BYTES = 8 * 1024 * 1024;
const NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json$/;

export type JournalState = 'preparing' | 'running' | 'releasing';

export interface JournalAction extends Action {
  /** pending: recorded before the change, which may or may not have happened; done: completed. */
  status: 'pending' | 'done';
}

export interface Journal {
  schema: typeof JOURNAL_SCHEMA;
  domain: { name: string; uuid: string };
  state: JournalState;
  pid: number;
  updated: string;
  holds: Holds;
  actions: JournalAction[];
  /** Devices hot-plugged by `passthru attach` (src/exec/attach.ts). */
  attached?: AttachedEntry[];
}

export interface AttachedEntry {
  /** Host side of each device: PCI address or mdev UUID. */
  devices: string[];
  state: 'attaching' | 'attached' | 'detaching';
  /** Ids of this attach's actions in `actions`. */
  actions: string[];
  /** What the attach added to the domain's holds. */
  holds: Holds;
  /** The device XML given to virsh attach-device, one per device. */
  xml: string[];
}

/** A journal that cannot be used: exit code 2, nothing was changed. */
export class JournalError extends PassthruError {
  constructor(message: string) {
    super(message, 2);
  }
}

export function journalPath(stateDir: string, uuid: string): string {
  return join(stateDir, `${uuid}.json`);
}

export function ensureStateDir(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
}

/**
 * Atomic replace: temp file in the same directory, then rename over it; a killed process leaves the
 * old journal or the new one, never a mix, and a completed rename is never lost. No fsync: the
 * journal's home is /run/passthru, a tmpfs, where fsync buys nothing, and a power loss that could
 * lose an unsynced write also wipes /run and resets every device the journal could name.
 */
export function writeJournal(stateDir: string, j: Journal): void {
  j.updated = new Date().toISOString();
  const file = journalPath(stateDir, j.domain.uuid);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(j, null, 1)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function removeJournal(stateDir: string, uuid: string): void {
  try {
    unlinkSync(journalPath(stateDir, uuid));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Reads and checks one journal file; JournalError with one line naming the file otherwise. */
export function readJournalFile(file: string): Journal {
  let st;
  try {
    st = lstatSync(file);
  } catch (err) {
    throw new JournalError(
      `journal ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (st.isSymbolicLink()) throw new JournalError(`journal ${file} is a symbolic link; refusing to follow it`);
  if (!st.isFile()) throw new JournalError(`journal ${file} is not a regular file`);
  let text: string;
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new JournalError(
      `journal ${file} cannot be opened: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_JOURNAL_BYTES) throw new JournalError(`journal ${file} is too large (${size} bytes)`);
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    text = buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
  return parseJournal(text, file);
}

export function parseJournal(text: string, where: string): Journal {
  if (text.trim() === '') throw new JournalError(`journal ${where} is empty`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new JournalError(`journal ${where} is corrupt (not JSON: ${printable((err as Error).message)})`);
  }
  if (!validateJournal(data))
    throw new JournalError(
      `journal ${where} does not match the journal schema: ${describeSchemaError(validateJournal.errors)}`,
    );
  const j = data as Journal;
  if (!where.endsWith(`${j.domain.uuid}.json`) && NAME.test(where.split('/').pop() ?? '')) {
    throw new JournalError(`journal ${where} names another domain (${j.domain.uuid})`);
  }
  return j;
}

export interface JournalEntry {
  uuid: string;
  file: string;
  journal?: Journal;
  error?: JournalError;
}

/** Every journal file in the state dir (by UUID order), each parsed or with its error; `except` (a UUID) is left out unread. */
export function listJournals(stateDir: string, except?: string): JournalEntry[] {
  let names: string[];
  try {
    names = readdirSync(stateDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => NAME.test(n) && n !== `${except}.json`)
    .sort()
    .map((n) => {
      const file = join(stateDir, n);
      const uuid = n.slice(0, -5);
      try {
        return { uuid, file, journal: readJournalFile(file) };
      } catch (err) {
        if (err instanceof JournalError) return { uuid, file, error: err };
        throw err;
      }
    });
}
