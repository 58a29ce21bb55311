// The property tables (src/xml/*-tables.ts) against everything they must agree with, as virtinst's
// test_checkprops: each property written alone gives XML that the RNG accepts (libvirt's, or ours
// for our metadata) and a misspelt one does not, reads back to its value through the table (the
// model's field too), is in the help when it is a sub-option and in the reference of docs/xmlfix.md
// always, is exercised by a golden case under its own name, and shows in some golden output or
// test input. `UPDATE_GOLDEN=1` rewrites the reference.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { USAGE } from '../../src/cli/xmlfix/args.js';
import {
  buildProps,
  keyOf,
  parseProps,
  pathLabel,
  type Prop,
  readFields,
  readProps,
  splitPath,
} from '../../src/xml/element-props.js';
import { serialize } from '../../src/xml/fragment.js';
import { detectStyle } from '../../src/xml/style.js';
import { parseTree } from '../../src/xml/tree.js';
import { TABLES } from '../support/element-documents.js';

const style = detectStyle(parseTree("<domain type='kvm'>\n  <name>x</name>\n</domain>\n"));

/** The installed libvirt's release, whose RNG judges; a property newer than it must be refused by it. */
const installed = /^(\d+)\.(\d+)/.exec(spawnSync('virsh', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const knows = (since: string) => {
  const [major, minor] = since.split('.').map(Number) as [number, number];
  return (
    !!installed && (Number(installed[1]) > major || (Number(installed[1]) === major && Number(installed[2]) >= minor))
  );
};

const validates = (schema: string, xml: string) =>
  spawnSync('xmllint', ['--noout', '--relaxng', schema, '-'], { input: xml, encoding: 'utf8' }).status === 0;

const goldenDir = 'test/golden/xmlfix';
const caseArgs = readdirSync(goldenDir)
  .filter((f) => f.endsWith('.args'))
  .map((f) => readFileSync(join(goldenDir, f), 'utf8'));
const outputs = [
  ...readdirSync(goldenDir)
    .filter((f) => f.endsWith('.out'))
    .map((f) => join(goldenDir, f)),
  ...readdirSync('fixtures/xml/golden').map((f) => join('fixtures/xml/golden', f)),
].map((f) => readFileSync(f, 'utf8'));

/** Every text file of the tests and fixtures: where a property nobody writes must be read from. */
function textFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    if (statSync(path).isDirectory()) return textFiles(path);
    // not the documents that stand in for the tables' own examples
    if (path === join('test', 'support', 'element-documents.ts')) return [];
    return /\.(xml|ts|sh|args|out|err)$/.test(f) ? [readFileSync(path, 'utf8')] : [];
  });
}
const testInputs = [...textFiles('test'), ...textFiles('fixtures')];

const cell = (s: string) => s.replaceAll('|', '\\|');
const optionCell = (p: Prop) =>
  [...(p.option ? [p.option, ...(p.aliases ?? [])] : []), ...(p.flag ? [`--${p.flag}`] : [])]
    .map((o) => `\`${o}\``)
    .join(', ');
/** The reference of docs/xmlfix.md: every property of every table. */
function reference(): string {
  return TABLES.map(
    (t) =>
      `\`<${t.name}>\`\n\n| XML | sub-option or flag | values | read into |\n|---|---|---|---|\n${t.props
        .map(
          (p) =>
            `| \`${pathLabel(p.path)}\`${p.required ? ' (required)' : ''}${p.libvirt ? ` (libvirt ${p.libvirt}+)` : ''} | ${optionCell(p)} | ${cell(p.values)} | ${p.field ? `\`${p.field}\`` : ''} |`,
        )
        .join('\n')}\n`,
  ).join('\n');
}

const DOC = 'docs/xmlfix.md';
const START = '<!-- element-reference: generated from src/xml/*-tables.ts by the test of the tables -->\n';
const END = '<!-- element-reference end -->';

describe.each(TABLES.map((t) => [t.name, t] as const))('<%s> properties', (_name, table) => {
  const { props, base, build, schema, document, tag } = table;
  it.each(props.map((p) => [keyOf(p), p] as const))('%s', (key, p) => {
    expect(
      p.option ?? p.field ?? p.flag,
      'a property is a sub-option, a flag or a field, or nothing uses it',
    ).toBeDefined();
    const text = p.option
      ? parseProps('--test', new Map([[p.option, p.example]]), props).get(p.option)!
      : (p.parse?.(p.example, 'test') ?? p.example);
    const values = new Map<string, string | undefined>([...Object.entries(base(key)), [key, text]]);
    const built = serialize(build(buildProps(props, values)), style, '    ');
    const [childName, attr] = splitPath(p.path);
    const holder = childName?.split('/').pop() ?? tag;
    // an attribute, or the text of a child element
    expect(built).toContain(attr === undefined ? `>${text}</${holder}>` : ` ${attr}=`);
    const misspelt =
      attr === undefined
        ? built.replace(new RegExp(`<${holder}([ >/])`), `<${holder}x$1`).replace(`</${holder}>`, `</${holder}x>`)
        : built.replace(` ${attr}=`, ` ${attr}x=`);
    if (p.libvirt && !knows(p.libvirt)) {
      // newer than this libvirt: its schema refuses it, which is why xmlfix checks the host's release
      expect(validates(schema, document(built)), built).toBe(false);
    } else {
      // the schema (libvirt's, or ours for our metadata) takes it…
      expect(validates(schema, document(built)), built).toBe(true);
      // …and would refuse it misspelt: the check can fail
      expect(validates(schema, document(misspelt)), misspelt).toBe(false);
    }
    // the same table reads it back, into the model's field too
    const element = parseTree(built).root;
    expect(readProps(element, props).get(key)).toBe(text);
    if (p.field)
      expect(readFields<Record<string, unknown>>(element, props, 'test')[p.field]).toEqual(
        p.read ? p.read(text, 'test') : text,
      );
    // the reference names it
    expect(readFileSync(DOC, 'utf8')).toContain(`\`${pathLabel(p.path)}\``);
    const inXml = attr === undefined ? new RegExp(`<${holder}[ >]`) : new RegExp(`<${holder} [^>]*${attr}=`);
    // what the command line writes is in the help and in a golden case, under its own name
    if (p.option) {
      expect(USAGE).toContain(`${p.option}=${p.values}`);
      expect(caseArgs.some((a) => new RegExp(`(?:^|,)${p.option!.replaceAll('.', '\\.')}=`, 'm').test(a))).toBe(true);
      // an older name is the same option
      for (const alias of p.aliases ?? [])
        expect(parseProps('--test', new Map([[alias, p.example]]), props)).toEqual(new Map([[p.option, text]]));
    }
    if (p.flag) {
      expect(USAGE).toContain(`--${p.flag}`);
      expect(caseArgs.some((a) => a.includes(`--${p.flag}\n`))).toBe(true);
    }
    if ((p.option || p.flag) && !p.libvirt)
      expect(
        outputs.some((o) => inXml.test(o)),
        'a golden output holds it',
      ).toBe(true);
    // else nothing writes it, or a golden output would not define on every libvirt we support: a test reads it
    else
      expect(
        testInputs.some((o) => inXml.test(o)),
        'some test reads it',
      ).toBe(true);
  });
});

it("docs/xmlfix.md's element reference is the tables'", () => {
  const doc = readFileSync(DOC, 'utf8');
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  expect(from, `${DOC} holds the reference between its markers`).toBeGreaterThan(0);
  const fresh = `${doc.slice(0, from + START.length)}\n${reference()}\n${doc.slice(to)}`;
  if (process.env.UPDATE_GOLDEN) writeFileSync(DOC, fresh);
  else expect(doc).toBe(fresh);
});
