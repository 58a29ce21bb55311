// Configuration files under the host root for doctor (modprobe.d, modules-load.d, grub.d): a file that
// is missing or unreadable is simply absent (the checks say what its absence means).
import { tryList, tryRead } from '../host/optional-reads.js';
import type { Sysfs } from '../host/sysfs.js';

export interface ConfFile {
  /** Root-relative, like every host path ('etc/modprobe.d/vfio.conf'). */
  path: string;
  text: string;
}

/** The files of `dir` whose names end in `suffix`, in name order (the order tools read them in). */
export async function confFiles(s: Sysfs, dir: string, suffix: string): Promise<ConfFile[]> {
  const out: ConfFile[] = [];
  for (const n of (await tryList(s, dir)).filter((x) => x.endsWith(suffix)).sort()) {
    const text = await tryRead(s, `${dir}/${n}`);
    if (text !== undefined) out.push({ path: `${dir}/${n}`, text });
  }
  return out;
}
