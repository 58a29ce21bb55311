// Root's alone, as sshd's StrictModes: the hook runs as root, so what it runs (node, its bundle) and
// reads (the config, the state dir with journals and lock), and every directory above them, must be
// owned by root and writable by no one else; otherwise another user could change what root runs or
// undoes. `passthru install`, the hook (before it acts) and `doctor` ask the same question here.
// A root-owned sticky directory (/tmp) is accepted *above* a path: others cannot rename or remove
// what they do not own in it. A few stat calls per path: cheap enough for every hook run.
import { realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { layout } from './layout.js';

export interface Owner {
  uid: number;
  mode: number;
}

/** stat(2) following symlinks; undefined when the path does not exist. */
export type StatOwner = (path: string) => Owner | undefined;

export const statOwner: StatOwner = (p) => {
  try {
    // no exception for a missing path: building one costs more than the stat
    const st = statSync(p, { throwIfNoEntry: false });
    return st && { uid: st.uid, mode: st.mode };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
};

export interface TrustOptions {
  stat?: StatOwner;
  /** The user who may own the paths beside root (sshd's rule): the one running us. */
  uid?: number;
  realpath?: (p: string) => string;
}

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

/** The path itself and every directory above it, from `/` down. */
function ancestry(path: string): string[] {
  const out: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    out.unshift(p);
    if (dirname(p) === p) return out;
  }
}

function chainProblem(path: string, stat: StatOwner, uid: number): string | undefined {
  const chain = ancestry(path);
  for (const [i, p] of chain.entries()) {
    const st = stat(p);
    if (!st) continue; // not there (yet): what is above it decides who can create it
    if (st.uid !== 0 && st.uid !== uid) return `${p} is owned by uid ${st.uid}, not root: chown root ${p}`;
    if ((st.mode & 0o022) === 0) continue;
    const stickyAbove = i < chain.length - 1 && st.uid === 0 && (st.mode & 0o1000) !== 0;
    if (stickyAbove) continue;
    const who = st.mode & 0o020 ? (st.mode & 0o002 ? 'group and others' : 'its group') : 'others';
    return `${p} is writable by ${who} (mode ${octal(st.mode)}): chmod go-w ${p}`;
  }
  return undefined;
}

/**
 * The first reason `path` is not root's alone, as `PATH is ...: FIX` (the path named and the chmod or
 * chown that fixes it), or undefined. A symlinked path is checked along both its own and its target's way.
 */
export function notRootsAlone(path: string, opts: TrustOptions = {}): string | undefined {
  const stat = opts.stat ?? statOwner;
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  const problem = chainProblem(path, stat, uid);
  if (problem || !stat(path)) return problem; // a missing path: its existing ancestors were checked
  const real = (opts.realpath ?? realpathSync.native)(path);
  return real !== path ? chainProblem(real, stat, uid) : undefined;
}

/** What the installed hook runs and reads, for the environment it runs with. */
export function hookTrustedPaths(env: NodeJS.ProcessEnv, node: string, hookJs: string, stateDir: string): string[] {
  const paths = [node, hookJs, join(dirname(hookJs), 'hook-main.cjs'), stateDir];
  // a simulated host keeps its config inside the simulation unless PASSTHRU_CONFIG names a file
  if (env.PASSTHRU_CONFIG) paths.push(env.PASSTHRU_CONFIG);
  else if (!env.PASSTHRU_SIM) paths.push(join(env.PASSTHRU_ROOT || '/', layout.passthruConfig));
  return paths;
}

/** The first of `paths` that is not root's alone, with its fix; undefined when all are. */
export function firstUntrusted(paths: string[], opts: TrustOptions = {}): string | undefined {
  for (const p of paths) {
    const why = notRootsAlone(p, opts);
    if (why) return why;
  }
  return undefined;
}
