// The property tables (src/xml/element-tables.ts) against everything they must agree with, as
// virtinst's test_checkprops: each property written alone gives XML that the RNG accepts (libvirt's,
// or ours for <passthru:vf>) and a misspelt one does not, reads back to its value, is in the help,
// is exercised by a golden case under its own name, and shows in some golden output.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { USAGE } from '../../src/cli/xmlfix/args.js';
import { buildProps, parseProps, type Prop, readProps, splitPath } from '../../src/xml/element-props.js';
import {
  HOSTDEV_MDEV_PROPS,
  HOSTDEV_PCI_PROPS,
  INTERFACE_HOSTDEV_PROPS,
  PASSTHRU_VF_PROPS,
} from '../../src/xml/element-tables.js';
import { el, serialize, type XmlNode } from '../../src/xml/fragment.js';
import { detectStyle } from '../../src/xml/style.js';
import { parseTree } from '../../src/xml/tree.js';

const LIBVIRT_SCHEMA = `${process.env.PASSTHRU_LIBVIRT_SCHEMAS ?? '/usr/share/libvirt/schemas'}/domain.rng`;
const OUR_SCHEMA = 'schemas/passthru-metadata.rng';
const style = detectStyle(parseTree("<domain type='kvm'>\n  <name>x</name>\n</domain>\n"));
const pci = { domain: '0x0000', bus: '0x01', slot: '0x00', function: '0x0' };

const domainWith = (device: string) =>
  `<domain type='kvm'>\n  <name>props</name>\n  <memory>65536</memory>\n  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n  <devices>\n    <graphics type='vnc'/>\n    ${device}\n  </devices>\n</domain>\n`;
const metadataWith = (entry: string) =>
  `<passthru:devices xmlns:passthru='https://passthru.dev/xmlns/domain/1'>\n  ${entry}\n</passthru:devices>\n`;

interface Table {
  name: string;
  props: readonly Prop[];
  /** The element with these properties, as xmlfix writes it. */
  build: (props: ReturnType<typeof buildProps>) => XmlNode;
  /** The schema that must take it, and the document it stands in there. */
  schema: string;
  document: (element: string) => string;
  /** How the element's tag looks in a golden output (our prefix varies: passthru:, pt:). */
  tag: string;
}

const TABLES: Table[] = [
  {
    name: "hostdev type='pci'",
    props: HOSTDEV_PCI_PROPS,
    build: (p) =>
      el(
        'hostdev',
        { mode: 'subsystem', type: 'pci', ...p.attrs },
        el('source', {}, el('address', pci)),
        ...p.children,
      ),
    schema: LIBVIRT_SCHEMA,
    document: domainWith,
    tag: 'hostdev',
  },
  {
    name: "hostdev type='mdev'",
    props: HOSTDEV_MDEV_PROPS,
    build: (p) =>
      el(
        'hostdev',
        { mode: 'subsystem', type: 'mdev', model: 'vfio-pci', ...p.attrs },
        el('source', {}, el('address', { uuid: 'c2177883-f1bb-47f0-914d-32a22e3a8804' })),
        ...p.children,
      ),
    schema: LIBVIRT_SCHEMA,
    document: domainWith,
    tag: 'hostdev',
  },
  {
    name: "interface type='hostdev'",
    props: INTERFACE_HOSTDEV_PROPS,
    build: (p) =>
      el(
        'interface',
        { type: 'hostdev', managed: 'yes', ...p.attrs },
        el('source', {}, el('address', { type: 'pci', ...pci })),
        ...p.children,
      ),
    schema: LIBVIRT_SCHEMA,
    document: domainWith,
    tag: 'interface',
  },
  {
    name: 'passthru:vf',
    props: PASSTHRU_VF_PROPS,
    build: (p) => el('passthru:vf', { address: '0000:03:10.0', ...p.attrs }, ...p.children),
    schema: OUR_SCHEMA,
    document: metadataWith,
    tag: '[a-z]+:vf',
  },
];

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

describe.each(TABLES.map((t) => [t.name, t] as const))('<%s> properties', (_name, table) => {
  const { props, build, schema, document, tag } = table;
  it.each(props.map((p) => [p.option, p] as const))('%s', (option, p) => {
    const values = parseProps('--test', new Map([[option, p.example]]), props);
    const built = serialize(build(buildProps(props, values)), style, '    ');
    // the schema (libvirt's, or ours for our metadata) takes it…
    expect(validates(schema, document(built)), built).toBe(true);
    // …and would refuse it misspelt: the check can fail
    const [childName, attr] = splitPath(p.path);
    expect(validates(schema, document(built.replace(` ${attr}=`, ` ${attr}x=`)))).toBe(false);
    // the same table reads it back
    expect(readProps(parseTree(built).root, props).get(option)).toBe(values.get(option));
    // the help names it
    expect(USAGE).toContain(`${option}=${p.values}`);
    // a golden case uses it by its own name, and a golden output holds it
    expect(caseArgs.some((a) => new RegExp(`(?:^|,)${option.replaceAll('.', '\\.')}=`, 'm').test(a))).toBe(true);
    const holder = childName?.split('/').pop() ?? tag;
    const inXml = new RegExp(`<${holder} [^>]*${attr}=`);
    expect(outputs.some((o) => inXml.test(o))).toBe(true);
    // an older name is the same option
    for (const alias of p.aliases ?? [])
      expect(parseProps('--test', new Map([[alias, p.example]]), props)).toEqual(values);
  });
});
