// Reads of entries that may be missing or unreadable on a given host (an optional attribute, a
// container without proc/mounts): such an entry yields no fact, not an error.
import type { Sysfs } from './sysfs.js';

export async function tryRead(s: Sysfs, path: string): Promise<string | undefined> {
  try {
    return await s.read(path);
  } catch {
    return undefined;
  }
}

export async function tryList(s: Sysfs, path: string): Promise<string[]> {
  try {
    return await s.list(path);
  } catch {
    return [];
  }
}

export async function tryLink(s: Sysfs, path: string): Promise<string | undefined> {
  try {
    return await s.readlink(path);
  } catch {
    return undefined;
  }
}
