// The one command that changes the kernel command line of the next boot on this host, for doctor's
// fixes: people paste it, so it is exact for the files as they are (edits are whole-line sed
// substitutions of the line as read, a no-op if the file changed since), and it applies the change
// the way this host's boot loader needs (update-grub, proxmox-boot-tool refresh, grubby). Where a
// step cannot be known, it is said in a shell comment, which pasting leaves alone.
import type { ConfFile } from './conf-files.js';
import type { BootSetup } from './platform.js';

export interface CmdlineChange {
  /** Words the command line must have ('intel_iommu=on'). */
  add: string[];
  /** Words it must not have ('amd_iommu=off'). */
  remove: string[];
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const hostPath = (p: string): string => `/${p}`;

/** A sed substitution that replaces the whole line `from` (matched literally) by `to`. */
export function sedReplaceLine(from: string, to: string): string {
  const delim = ['|', '#', '%', '@', ',', '~', '!', ':'].find((d) => !from.includes(d) && !to.includes(d)) ?? '|';
  const guard = (s: string) => s.split(delim).join(`\\${delim}`);
  const pattern = guard(from.replace(/[\\.*[\]^$]/g, '\\$&'));
  const replacement = guard(to.replace(/[\\&]/g, '\\$&'));
  return `s${delim}^${pattern}$${delim}${replacement}${delim}`;
}

const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);
/** "add 'a b' to X and remove 'c' from it" */
const describe = (c: CmdlineChange, where: string): string =>
  [
    c.add.length ? `add '${c.add.join(' ')}' to ${where}` : '',
    c.remove.length ? `remove '${c.remove.join(' ')}' from ${c.add.length ? 'it' : where}` : '',
  ]
    .filter(Boolean)
    .join(' and ');

export function cmdlineCommand(boot: BootSetup, change: CmdlineChange): string {
  switch (boot.kind) {
    case 'grubby': {
      // --args replaces the value of a parameter already there, so what it adds is not also removed
      const keys = new Set(change.add.map((w) => w.split('=')[0]));
      const remove = change.remove.filter((w) => !keys.has(w.split('=')[0]));
      return [
        'grubby --update-kernel=ALL',
        change.add.length ? ` --args="${change.add.join(' ')}"` : '',
        remove.length ? ` --remove-args="${remove.join(' ')}"` : '',
        ' && reboot',
      ].join('');
    }
    case 'kernel-cmdline': {
      const line = boot.file.text.split('\n')[0]!;
      const next = withChange(words(line), change);
      const edit = next
        ? [`sed -i ${shellQuote(sedReplaceLine(line, next.join(' ')))} ${hostPath(boot.file.path)}`]
        : [];
      return [...edit, boot.apply, 'reboot'].join(' && ');
    }
    case 'grub':
      return grubCommand(boot.files, change, boot.apply);
    case 'unknown':
      return `# ${describe(change, "the kernel command line in the boot loader's configuration")}, then reboot (no GRUB, grubby or proxmox-boot-tool found)`;
  }
}

/** The words after the change, or undefined when they already have it. */
function withChange(current: string[], change: CmdlineChange): string[] | undefined {
  const kept = current.filter((w) => !change.remove.includes(w));
  const next = [...kept, ...change.add.filter((w) => !kept.includes(w))];
  return next.length === current.length && next.every((w, i) => w === current[i]) ? undefined : next;
}

interface Assignment {
  file: ConfFile;
  line: string;
  /** Everything before the value's first character, and its quote. */
  lead: string;
  quote: string;
  name: 'GRUB_CMDLINE_LINUX' | 'GRUB_CMDLINE_LINUX_DEFAULT';
  words: string[];
}

const ASSIGNMENT = /^(\s*(?:export\s+)?(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)=)(.*)$/;

/** The command-line assignments of the GRUB files in the order the shell sources them; undefined if one is beyond a simple quoted value. */
function assignments(files: ConfFile[]): Assignment[] | undefined {
  const out: Assignment[] = [];
  for (const file of files) {
    for (const line of file.text.split('\n')) {
      const m = ASSIGNMENT.exec(line);
      if (!m) continue;
      const v = /^"([^"\\`]*)"\s*$|^'([^']*)'\s*$|^([^\s"'\\`;&|#]*)\s*$/.exec(m[3]!);
      if (!v) return undefined;
      const quote = v[1] !== undefined ? '"' : v[2] !== undefined ? "'" : '';
      out.push({
        file,
        line,
        lead: m[1]!,
        quote,
        name: m[2] as Assignment['name'],
        words: words(v[1] ?? v[2] ?? v[3] ?? ''),
      });
    }
  }
  return out;
}

function grubCommand(files: ConfFile[], change: CmdlineChange, apply: string | undefined): string {
  const grub = files[0]!;
  const all = assignments(files);
  if (!all)
    return `# ${describe(change, `GRUB_CMDLINE_LINUX_DEFAULT in ${hostPath(grub.path)}`)}, then ${apply ?? 'regenerate grub.cfg'} and reboot`;
  // removals from every assignment that has them; additions to the assignment that takes effect
  // (the last GRUB_CMDLINE_LINUX_DEFAULT), unless the effective command line has them already
  const edited = new Map<Assignment, string[]>();
  for (const a of all) {
    const kept = a.words.filter((w) => !change.remove.includes(w));
    if (kept.length !== a.words.length) edited.set(a, kept);
  }
  const effective = (name: Assignment['name']) => {
    const last = all.filter((a) => a.name === name).pop();
    return last ? { last, words: edited.get(last) ?? last.words } : undefined;
  };
  const linux = effective('GRUB_CMDLINE_LINUX');
  const dflt = effective('GRUB_CMDLINE_LINUX_DEFAULT');
  const missing = change.add.filter((w) => !(linux?.words ?? []).includes(w) && !(dflt?.words ?? []).includes(w));
  const appended: string[] = [];
  if (missing.length && dflt) edited.set(dflt.last, [...dflt.words, ...missing]);
  else if (missing.length) appended.push(`GRUB_CMDLINE_LINUX_DEFAULT="${missing.join(' ')}"`);

  const commands: string[] = [];
  for (const file of files) {
    const subs = [...edited]
      .filter(([a]) => a.file === file)
      .map(([a, w]) => {
        const q = a.quote || '"';
        return `-e ${shellQuote(sedReplaceLine(a.line, `${a.lead}${q}${w.join(' ')}${q}`))}`;
      });
    if (subs.length) commands.push(`sed -i ${subs.join(' ')} ${hostPath(file.path)}`);
  }
  for (const line of appended) commands.push(`echo ${shellQuote(line)} >> ${hostPath(grub.path)}`);
  if (!apply)
    return commands.length
      ? `${commands.join(' && ')}   # then regenerate grub.cfg with this distribution's tool and reboot`
      : "# the GRUB configuration has it: regenerate grub.cfg with this distribution's tool and reboot";
  return [...commands, apply, 'reboot'].join(' && ');
}
