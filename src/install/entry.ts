// What `passthru install` writes and decides, without touching anything: the entry's text (the
// hooks/qemu template filled in, plus a marker line that says the file is ours) and what to do given
// what is already on the host.
import { renderHookEntry } from '../hook/entry-template.js';

/** The line that makes a qemu.d file ours: --uninstall removes a file only when it holds this line. */
export const MARKER = "# passthru-entry: written by 'passthru install'; 'passthru install --uninstall' removes it";

export interface EntrySettings {
  node: string;
  hookJs: string;
  env: { PASSTHRU_SIM?: string; PASSTHRU_STATE_DIR?: string; PASSTHRU_CONFIG?: string; PASSTHRU_ROOT?: string };
}

export function renderEntry(template: string, s: EntrySettings): string {
  const text = renderHookEntry(template, { node: s.node, hookJs: s.hookJs, env: s.env });
  // the marker goes right after the shebang, which must stay the first line
  const nl = text.indexOf('\n');
  return nl < 0 || !text.startsWith('#!')
    ? `${MARKER}\n${text}`
    : `${text.slice(0, nl + 1)}${MARKER}\n${text.slice(nl + 1)}`;
}

export function isOurs(text: string): boolean {
  return text.split('\n').includes(MARKER);
}

/** What the host holds before we act (facts gathered by the caller). */
export interface HookFacts {
  /** Our path: absent, a regular file (text, mode), or something else (symlink, dir, ...). */
  entry: { kind: 'absent' } | { kind: 'file'; text: string; mode: number } | { kind: 'other'; what: string };
  /** hooks/qemu exists as an executable file. */
  qemuHook: boolean;
  /** Executable entries of qemu.d other than ours, sorted. */
  otherEntries: string[];
}

export type InstallDecision =
  | { kind: 'write'; restartNeeded: boolean }
  | { kind: 'unchanged' }
  | { kind: 'refuse'; why: string };

export function decideInstall(facts: HookFacts, wanted: string): InstallDecision {
  const e = facts.entry;
  if (e.kind === 'other') return { kind: 'refuse', why: `is ${e.what}, not a file passthru wrote; left as it is` };
  if (e.kind === 'file' && !isOurs(e.text))
    return { kind: 'refuse', why: 'exists and was not written by passthru install (no marker line); left as it is' };
  if (e.kind === 'file' && e.text === wanted && (e.mode & 0o777) === 0o755) return { kind: 'unchanged' };
  // libvirtd looks for hooks once, at its start: with none there then, it never runs a new one
  const hookExisted = facts.qemuHook || facts.otherEntries.length > 0 || e.kind === 'file';
  return { kind: 'write', restartNeeded: !hookExisted };
}

export type UninstallDecision = { kind: 'remove' } | { kind: 'absent' } | { kind: 'refuse'; why: string };

export function decideUninstall(facts: HookFacts): UninstallDecision {
  const e = facts.entry;
  if (e.kind === 'absent') return { kind: 'absent' };
  if (e.kind === 'other') return { kind: 'refuse', why: `is ${e.what}, not a file passthru wrote; left as it is` };
  if (!isOurs(e.text))
    return { kind: 'refuse', why: 'was not written by passthru install (no marker line); left as it is' };
  return { kind: 'remove' };
}

const QUOTED = String.raw`'(?:[^']|'\\'')*'`;
const unquote = (q: string): string => q.slice(1, -1).replace(/'\\''/g, "'");

/** What an entry written by renderEntry runs: node, the hook bundle and the environment it sets; undefined when the text is not such an entry. */
export function readEntry(text: string): EntrySettings | undefined {
  if (!isOurs(text)) return undefined;
  const run = new RegExp(`(${QUOTED}) (${QUOTED}) "\\$@"\\s*$`).exec(text);
  if (!run) return undefined;
  const env: Record<string, string> = {};
  for (const m of text.matchAll(new RegExp(`^(PASSTHRU_[A-Z_]+)=(${QUOTED})$`, 'gm'))) env[m[1]!] = unquote(m[2]!);
  return { node: unquote(run[1]!), hookJs: unquote(run[2]!), env };
}
