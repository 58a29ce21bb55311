// The man pages and bash completions are built from the programs' --help (scripts/build-docs.mjs):
// the help must name every option, and the help readers must read it right.
import { describe, expect, it } from 'vitest';
import { USAGE, XMLFIX_OPTIONS } from '../../src/cli/xmlfix/args.js';
import { optionNames, parseCommanderHelp, usageOptions } from '../../scripts/help-text.mjs';

describe("xmlfix's usage, the source of its man page and completion", () => {
  it('names every option it takes, long and short, and which take a value', () => {
    const stated = new Map(usageOptions(USAGE).map((o) => [o.name, o.takesValue]));
    const wanted = Object.entries(XMLFIX_OPTIONS).flatMap(([name, o]) => {
      const takesValue = o.type === 'string';
      const short = 'short' in o ? [[`-${o.short}`, takesValue] as const] : [];
      return [[`--${name}`, takesValue] as const, ...short];
    });
    expect(wanted.filter(([n, v]) => stated.get(n) !== v)).toEqual([]);
  });
});

describe('reading a commander help text', () => {
  const help = `Usage: passthru install [options]

install the libvirt qemu hook entry (etc/libvirt/hooks/qemu.d/passthru); other
hooks are left alone

Options:
  --uninstall        remove our entry (only a file passthru install wrote)
  --root <dir>       host root: install under DIR/etc/libvirt/hooks; the hook
                     uses DIR as its host root (default /, or PASSTHRU_ROOT)
  -o, --output <file>  sim file to write
  -h, --help         display help for command
`;

  it('usage, description and items whose descriptions wrap', () => {
    const h = parseCommanderHelp(help);
    expect(h.usage).toBe('passthru install [options]');
    expect(h.description).toBe(
      'install the libvirt qemu hook entry (etc/libvirt/hooks/qemu.d/passthru); other hooks are left alone',
    );
    expect(h.sections.Options?.map((o) => o.term)).toEqual([
      '--uninstall',
      '--root <dir>',
      '-o, --output <file>',
      '-h, --help',
    ]);
    expect(h.sections.Options?.[1]?.description).toBe(
      'host root: install under DIR/etc/libvirt/hooks; the hook uses DIR as its host root (default /, or PASSTHRU_ROOT)',
    );
  });

  it('option names and whether they take a value', () => {
    expect(optionNames('-o, --output <file>')).toEqual({ names: ['-o', '--output'], takesValue: true });
    expect(optionNames('--uninstall')).toEqual({ names: ['--uninstall'], takesValue: false });
    expect(optionNames('--fixture <name|path>')).toEqual({ names: ['--fixture'], takesValue: true });
  });
});
