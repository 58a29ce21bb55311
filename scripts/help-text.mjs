// Reads the programs' own --help output: the one source of the man pages' command and option lists
// and of the bash completions (scripts/build-docs.mjs), so neither is written by hand beside the help.

/**
 * A commander help text as data: `Usage: passthru install [options]`, a description, then sections
 * (`Options:`, `Commands:`, `Arguments:`) of `  TERM  description` items whose descriptions wrap onto
 * lines indented to the description column.
 */
export function parseCommanderHelp(text) {
  const lines = text.replace(/\n+$/, '').split('\n');
  const usage = (lines.shift() ?? '').replace(/^Usage: /, '');
  const description = [];
  const sections = {};
  let section;
  let item;
  for (const line of lines) {
    const head = /^([A-Z][a-z]+):$/.exec(line);
    if (head) {
      section = sections[head[1]] = [];
      item = undefined;
    } else if (!section) {
      if (line.trim()) description.push(line.trim());
    } else if (/^ {2}\S/.test(line)) {
      const [, term, desc = ''] = /^ {2}(\S.*?)(?: {2,}(\S.*))?$/.exec(line);
      item = { term, description: desc };
      section.push(item);
    } else if (item && line.trim()) {
      item.description = `${item.description} ${line.trim()}`.trim();
    }
  }
  return { usage, description: description.join(' '), sections };
}

/** `--root <dir>` -> names ['--root'] taking a value; `-o, --output <file>` -> ['-o', '--output']. */
export function optionNames(term) {
  const [flags, ...rest] = term.split(/ (?=[<[])/);
  return { names: flags.split(/, */).map((f) => f.trim()), takesValue: rest.length > 0 };
}

/**
 * Options of a free-form usage text (xmlfix's): each `-x` or `--name`, taking a value when an
 * upper-case word follows it (`--backup SUFFIX`, `-o|--output OUT`).
 */
export function usageOptions(text) {
  const out = new Map();
  for (const m of text.matchAll(/(?<![\w-])(--?[a-z][\w-]*)((?:\|--?[a-z][\w-]*)*)(?:[ =]([A-Z][\w|]*))?/g)) {
    const names = [m[1], ...m[2].split('|').filter(Boolean)];
    for (const n of names) out.set(n, out.get(n) || m[3] !== undefined);
  }
  return [...out].map(([name, takesValue]) => ({ name, takesValue }));
}
