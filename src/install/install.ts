// `passthru install [--uninstall]`: puts our entry into <root>/etc/libvirt/hooks/qemu.d/passthru (or
// takes it out) without disturbing hooks/qemu or any other qemu.d script. Inputs are checked first;
// nothing is written when one is bad. The write is atomic (temp file beside qemu.d, then rename), so
// libvirtd never runs a half-written entry.
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, PassthruError } from '../errors.js';
import { layout } from '../host/layout.js';
import { firstUntrusted, hookTrustedPaths } from '../host/root-owned.js';
import { LOCK_FILE, stateDirFor } from '../exec/state-dir.js';
import { decideInstall, decideUninstall, readEntry, renderEntry, type EntrySettings, type HookFacts } from './entry.js';

export const ENTRY_NAME = 'passthru';

export interface InstallOptions {
  root?: string;
  sim?: string;
  stateDir?: string;
  config?: string;
  uninstall?: boolean;
}

export interface InstallOutcome {
  path: string;
  did: 'installed' | 'updated' | 'unchanged' | 'removed' | 'absent';
  restartNeeded: boolean;
  /** After --uninstall: the state dir still holding journals (domains that hold devices). */
  journalsLeftIn?: string;
}

/** The package this module runs from: its hooks/qemu template and its built hook, dist/hook.cjs. */
export function packageFiles(from = fileURLToPath(import.meta.url)): { template: string; hookJs: string } {
  let dir = dirname(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(join(dir, 'hooks', 'qemu'))) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'passthru')
          return { template: join(dir, 'hooks', 'qemu'), hookJs: join(dir, 'dist', 'hook.cjs') };
      } catch {
        // not our package.json: keep looking upwards
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new PassthruError(`cannot find the passthru package (hooks/qemu) above ${dirname(from)}`);
    dir = up;
  }
}

const kindOf = (st: Stats): string =>
  st.isSymbolicLink() ? 'a symlink' : st.isDirectory() ? 'a directory' : st.isFile() ? 'a file' : 'not a regular file';

function statOrUndefined(p: string, follow: boolean): Stats | undefined {
  try {
    return follow ? statSync(p) : lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PassthruError(`cannot inspect ${p}: ${(err as Error).message}`);
  }
}

function existingDir(flag: string, value: string, cwd: string): string {
  if (value === '') throw new InputError(`${flag}: empty path`);
  const p = resolve(cwd, value);
  const st = statOrUndefined(p, true);
  if (!st) throw new InputError(`${flag} ${value}: no such directory`);
  if (!st.isDirectory()) throw new InputError(`${flag} ${value}: not a directory`);
  return p;
}

function existingFile(flag: string, value: string, cwd: string): string {
  if (value === '') throw new InputError(`${flag}: empty path`);
  const p = resolve(cwd, value);
  const st = statOrUndefined(p, true);
  if (!st) throw new InputError(`${flag} ${value}: no such file`);
  if (!st.isFile()) throw new InputError(`${flag} ${value}: not a regular file`);
  return p;
}

/** Flags win; the same PASSTHRU_* variables of the caller's environment fill in the rest. */
export async function resolveSettings(
  opts: InstallOptions,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ root: string; env: EntrySettings['env'] }> {
  const root = existingDir('--root', opts.root ?? env.PASSTHRU_ROOT ?? '/', cwd);
  const out: EntrySettings['env'] = {};
  if (root !== '/') out.PASSTHRU_ROOT = root;
  if (opts.uninstall) {
    const extra = (['sim', 'stateDir', 'config'] as const).filter((k) => opts[k] !== undefined);
    if (extra.length)
      throw new InputError(
        `--uninstall takes only --root (not ${extra.map((k) => `--${k === 'stateDir' ? 'state-dir' : k}`).join(', ')})`,
      );
    return { root, env: out };
  }
  const sim = opts.sim ?? env.PASSTHRU_SIM;
  if (sim !== undefined) {
    out.PASSTHRU_SIM = existingFile('--sim', sim, cwd);
    try {
      JSON.parse(readFileSync(out.PASSTHRU_SIM, 'utf8'));
    } catch {
      throw new InputError(`--sim ${sim}: not a simulated host (not JSON)`);
    }
  }
  const config = opts.config ?? env.PASSTHRU_CONFIG;
  if (config !== undefined) {
    out.PASSTHRU_CONFIG = existingFile('--config', config, cwd);
    const { parseConfig } = await import('../config/load.js');
    parseConfig(readFileSync(out.PASSTHRU_CONFIG, 'utf8'), out.PASSTHRU_CONFIG); // a broken config fails here, not at a domain's start
  }
  const stateDir = opts.stateDir ?? env.PASSTHRU_STATE_DIR;
  if (stateDir !== undefined) {
    if (stateDir === '') throw new InputError('--state-dir: empty path');
    const p = resolve(cwd, stateDir);
    const st = statOrUndefined(p, true);
    if (st && !st.isDirectory()) throw new InputError(`--state-dir ${stateDir}: exists and is not a directory`);
    out.PASSTHRU_STATE_DIR = p; // the hook creates it when missing
  }
  return { root, env: out };
}

function isExecutableFile(p: string): boolean {
  const st = statOrUndefined(p, true); // libvirt follows symlinks here
  return !!st && st.isFile() && (st.mode & 0o111) !== 0;
}

export function gatherFacts(root: string): HookFacts {
  const hooks = join(root, layout.hooksDir);
  const dropIn = join(hooks, 'qemu.d');
  const ours = join(dropIn, ENTRY_NAME);
  const st = statOrUndefined(ours, false);
  let entry: HookFacts['entry'];
  if (!st) entry = { kind: 'absent' };
  else if (!st.isFile()) entry = { kind: 'other', what: kindOf(st) };
  else entry = { kind: 'file', text: readFileSync(ours, 'utf8'), mode: st.mode };
  let names: string[] = [];
  try {
    names = readdirSync(dropIn);
  } catch {
    // no qemu.d yet
  }
  return {
    entry,
    qemuHook: isExecutableFile(join(hooks, 'qemu')),
    otherEntries: names.filter((n) => n !== ENTRY_NAME && isExecutableFile(join(dropIn, n))).sort(),
  };
}

function atomicWrite(hooksDir: string, target: string, text: string): void {
  // the temp file sits in hooks/, not qemu.d/, so libvirtd can never run it half-written
  const tmp = join(hooksDir, `.${ENTRY_NAME}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(tmp, 0o755);
    renameSync(tmp, target);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (someone else's hooks), or not there
  }
}

/** Removes the hook's state dir when it holds only the lock; returns it when journals remain. */
function removeStateDir(dir: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined; // never created
  }
  if (names.some((n) => n !== LOCK_FILE)) return dir;
  if (names.includes(LOCK_FILE)) unlinkSync(join(dir, LOCK_FILE));
  removeIfEmpty(dir);
  return undefined;
}

export async function install(
  opts: InstallOptions,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Promise<InstallOutcome> {
  const { root, env: entryEnv } = await resolveSettings(opts, env, cwd);
  const hooks = join(root, layout.hooksDir);
  const target = join(hooks, 'qemu.d', ENTRY_NAME);
  const facts = gatherFacts(root);

  if (opts.uninstall) {
    const d = decideUninstall(facts);
    if (d.kind === 'refuse') throw new PassthruError(`${target} ${d.why}`);
    if (d.kind === 'absent') return { path: target, did: 'absent', restartNeeded: false };
    const installed = facts.entry.kind === 'file' ? readEntry(facts.entry.text) : undefined;
    unlinkSync(target);
    // nothing of ours stays: the directories the install made (when now empty), the lock
    for (const dir of [join(hooks, 'qemu.d'), hooks]) removeIfEmpty(dir);
    const journalsLeftIn = removeStateDir(stateDirFor(installed?.env ?? entryEnv));
    return { path: target, did: 'removed', restartNeeded: false, ...(journalsLeftIn ? { journalsLeftIn } : {}) };
  }

  const files = packageFiles();
  if (!existsSync(files.hookJs))
    throw new PassthruError(`${files.hookJs} is missing: build passthru first (npm run build)`);
  // the hook refuses to run what is not root's alone: so does the install, before writing anything
  const untrusted = firstUntrusted(hookTrustedPaths(entryEnv, process.execPath, files.hookJs, stateDirFor(entryEnv)));
  if (untrusted) throw new PassthruError(`not installing ${target}: the hook runs as root and ${untrusted}`);
  const text = renderEntry(readFileSync(files.template, 'utf8'), {
    node: process.execPath,
    hookJs: files.hookJs,
    env: entryEnv,
  });
  const d = decideInstall(facts, text);
  if (d.kind === 'refuse') throw new PassthruError(`${target} ${d.why}`);
  if (d.kind === 'unchanged') return { path: target, did: 'unchanged', restartNeeded: false };
  try {
    mkdirSync(join(hooks, 'qemu.d'), { recursive: true, mode: 0o755 });
    atomicWrite(hooks, target, text);
  } catch (err) {
    throw new PassthruError(`cannot write ${target}: ${(err as Error).message}`);
  }
  return { path: target, did: facts.entry.kind === 'file' ? 'updated' : 'installed', restartNeeded: d.restartNeeded };
}

export function describeOutcome(o: InstallOutcome): string[] {
  const lines = [
    {
      installed: `installed ${o.path}`,
      updated: `updated ${o.path}`,
      unchanged: `${o.path} is already installed as wanted; nothing changed`,
      removed: `removed ${o.path}`,
      absent: `${o.path} is not installed; nothing to remove`,
    }[o.did],
  ];
  if (o.journalsLeftIn)
    lines.push(
      `journals remain in ${o.journalsLeftIn}: domains still hold devices, and without the hook nothing undoes them at their stop; passthru recover --all undoes them now`,
    );
  if (o.restartNeeded)
    lines.push('restart libvirtd (or virtqemud) now: it notices hooks only if one existed when it started');
  return lines;
}
