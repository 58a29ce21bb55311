// The host's libvirt version, for checks that depend on it (iommufd information, <driver model=…>
// on a hostdev from libvirt 10.0). PASSTHRU_LIBVIRT_VERSION wins (tests, a re-rooted host, or an
// administrator preparing XML for another host); on the real host `virsh --version` answers (it
// prints the library version and connects to nothing); elsewhere the version is unknown.
import type { CommandRunner } from '../doctor/kernel-log.js';

export interface LibvirtVersion {
  text: string;
  major: number;
  minor: number;
}

export function parseLibvirtVersion(text: string): LibvirtVersion | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? { text: m[0], major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

export function atLeast(v: LibvirtVersion, major: number, minor = 0): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

export async function libvirtVersion(
  env: NodeJS.ProcessEnv,
  realRoot: boolean,
  run?: CommandRunner,
): Promise<LibvirtVersion | undefined> {
  if (env.PASSTHRU_LIBVIRT_VERSION) return parseLibvirtVersion(env.PASSTHRU_LIBVIRT_VERSION);
  if (!realRoot || !run) return undefined;
  try {
    const r = await run('virsh', ['--version']);
    return r.ok ? parseLibvirtVersion(r.stdout) : undefined;
  } catch {
    return undefined;
  }
}
