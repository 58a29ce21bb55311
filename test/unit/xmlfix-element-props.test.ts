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
import {
  CONTROLLER_PCI_PROPS,
  GUEST_PCI_ADDRESS_PROPS,
  HOSTDEV_MDEV_PROPS,
  HOSTDEV_PCI_PROPS,
  INTERFACE_HOSTDEV_PROPS,
  INTERFACE_NETWORK_PROPS,
  MEMORY_BACKING_PROPS,
  VIDEO_PROPS,
} from '../../src/xml/element-tables.js';
import { el, serialize, type XmlNode } from '../../src/xml/fragment.js';
import {
  PASSTHRU_CONSOLE_PROPS,
  PASSTHRU_MDEV_PROPS,
  PASSTHRU_PF_PROPS,
  PASSTHRU_VF_PROPS,
  PASSTHRU_VGPU_PROPS,
} from '../../src/xml/metadata-tables.js';
import { FORWARD_PF_PROPS, FORWARD_PROPS, NETWORK_PROPS } from '../../src/xml/network-tables.js';
import {
  CPU_PROPS,
  DOMAIN_PROPS,
  NUMATUNE_PROPS,
  OS_PROPS,
  QEMU_ARG_PROPS,
  VCPU_PROPS,
  VCPUPIN_PROPS,
} from '../../src/xml/domain-tables.js';
import { detectStyle } from '../../src/xml/style.js';
import { parseTree } from '../../src/xml/tree.js';

const SCHEMAS = process.env.PASSTHRU_LIBVIRT_SCHEMAS ?? '/usr/share/libvirt/schemas';
const DOMAIN_SCHEMA = `${SCHEMAS}/domain.rng`;
const NETWORK_SCHEMA = `${SCHEMAS}/network.rng`;
const OUR_SCHEMA = 'schemas/passthru-metadata.rng';
const style = detectStyle(parseTree("<domain type='kvm'>\n  <name>x</name>\n</domain>\n"));
const pci = { domain: '0x0000', bus: '0x01', slot: '0x00', function: '0x0' };

const domainWith = (device: string) =>
  `<domain type='kvm'>\n  <name>props</name>\n  <memory>65536</memory>\n  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n  <devices>\n    <graphics type='vnc'/>\n    ${device}\n  </devices>\n</domain>\n`;
const metadataWith = (entry: string) =>
  `<passthru:devices xmlns:passthru='https://passthru.dev/xmlns/domain/1'>\n  ${entry}\n</passthru:devices>\n`;
const networkWith = (forward: string) => `<network>\n  <name>pool</name>\n  ${forward}\n</network>\n`;
const pfForward = "<forward mode='hostdev' managed='yes'><pf dev='enp3s0f0'/></forward>";

type Built = ReturnType<typeof buildProps>;

interface Table {
  /** The element as the reference names it. */
  name: string;
  props: readonly Prop[];
  /** Values (XML text by key) the element needs besides the property under test. */
  base: (key: string) => Record<string, string | undefined>;
  /** The element with these properties, as xmlfix writes it. */
  build: (props: Built) => XmlNode;
  /** The schema that must take it, and the document it stands in there. */
  schema: string;
  document: (element: string) => string;
  /** How the element's tag looks in a golden output (our prefix varies: passthru:, pt:). */
  tag: string;
}

const metadata = (local: string, props: readonly Prop[], base: Table['base']): Table => ({
  name: `passthru:${local}`,
  props,
  base,
  build: (p) => el(`passthru:${local}`, p.attrs, ...p.children),
  schema: OUR_SCHEMA,
  document: metadataWith,
  tag: `[a-z]+:${local}`,
});

// one entry a table, alike in shape on purpose: each says how its element stands in a document
const TABLES: Table[] = [
  {
    name: "hostdev type='pci'",
    props: HOSTDEV_PCI_PROPS,
    base: () => ({}),
    build: (p) =>
      el(
        'hostdev',
        { mode: 'subsystem', type: 'pci', ...p.attrs },
        el('source', {}, el('address', pci)),
        ...p.children,
      ),
    schema: DOMAIN_SCHEMA,
    document: domainWith,
    tag: 'hostdev',
  },
  {
    name: "hostdev type='mdev'",
    props: HOSTDEV_MDEV_PROPS,
    base: () => ({ uuid: 'c2177883-f1bb-47f0-914d-32a22e3a8804', model: 'vfio-pci' }),
    build: (p) => el('hostdev', { mode: 'subsystem', type: 'mdev', ...p.attrs }, ...p.children),
    schema: DOMAIN_SCHEMA,
    document: domainWith,
    tag: 'hostdev',
  },
  {
    name: "interface type='hostdev'",
    props: INTERFACE_HOSTDEV_PROPS,
    base: () => ({ managed: 'yes' }),
    build: (p) =>
      el(
        'interface',
        { type: 'hostdev', ...p.attrs },
        el('source', {}, el('address', { type: 'pci', ...pci })),
        ...p.children,
      ),
    schema: DOMAIN_SCHEMA,
    document: domainWith,
    tag: 'interface',
  },
  {
    name: "interface type='network'",
    props: INTERFACE_NETWORK_PROPS,
    base: () => ({ network: 'vf-pool' }),
    build: (p) => el('interface', { type: 'network', ...p.attrs }, ...p.children),
    schema: DOMAIN_SCHEMA,
    document: domainWith,
    tag: 'interface',
  },
  {
    name: "controller type='pci'",
    props: CONTROLLER_PCI_PROPS,
    base: () => ({ index: '1', model: 'pcie-root-port' }),
    build: (p) => el('controller', { type: 'pci', ...p.attrs }),
    schema: DOMAIN_SCHEMA,
    document: domainWith,
    tag: 'controller',
  },
  {
    name: "address type='pci'",
    props: GUEST_PCI_ADDRESS_PROPS,
    base: () => ({}),
    build: (p) => el('address', { type: 'pci', ...pci, ...p.attrs }),
    schema: DOMAIN_SCHEMA,
    document: (address) =>
      domainWith(
        `<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></source>${address}</hostdev>`,
      ),
    tag: 'address',
  },
  {
    name: 'video',
    props: VIDEO_PROPS,
    base: () => ({}),
    build: (p) => el('video', p.attrs, ...p.children),
    schema: DOMAIN_SCHEMA,
    document: domainWith,
    tag: 'video',
  },
  {
    name: 'memoryBacking',
    props: MEMORY_BACKING_PROPS,
    base: () => ({ allocationMode: 'immediate', allocationThreads: '2' }),
    build: (p) => el('memoryBacking', p.attrs, el('hugepages'), ...p.children),
    schema: DOMAIN_SCHEMA,
    document: (mb) => domainWith('').replace('<memory>65536</memory>', `<memory>65536</memory>\n  ${mb}`),
    tag: 'memoryBacking',
  },
  {
    name: 'domain',
    props: DOMAIN_PROPS,
    base: (key) => ({
      name: 'props',
      memory: '65536',
      ...(key === 'currentMemoryUnit' ? { currentMemory: '65536' } : {}),
    }),
    build: (p) =>
      el(
        'domain',
        { type: 'kvm', ...p.attrs },
        ...p.children,
        el(
          'os',
          {},
          {
            name: 'type',
            attrs: [
              ['arch', 'x86_64'],
              ['machine', 'q35'],
            ],
            text: 'hvm',
          },
        ),
      ),
    schema: DOMAIN_SCHEMA,
    document: (domain) => domain,
    tag: 'domain',
  },
  {
    name: 'os',
    props: OS_PROPS,
    base: () => ({}),
    // <type> holds 'hvm' whether or not it has a machine
    build: (p) => {
      const type = p.children.find((c) => c.name === 'type');
      const rest = p.children.filter((c) => c !== type);
      return el('os', p.attrs, { name: 'type', attrs: type?.attrs ?? [], text: 'hvm' }, ...rest);
    },
    schema: DOMAIN_SCHEMA,
    document: (os) => domainWith('').replace(/ {2}<os>[\s\S]*?<\/os>/, `  ${os}`),
    tag: 'os',
  },
  {
    name: 'cpu',
    props: CPU_PROPS,
    // a bit count goes with mode='emulate'
    base: (key) => (key === 'maxPhysAddrBits' ? { maxPhysAddrMode: 'emulate' } : {}),
    build: (p) => el('cpu', p.attrs, ...p.children),
    schema: DOMAIN_SCHEMA,
    document: (cpu) => domainWith('').replace('  <devices>', `  ${cpu}\n  <devices>`),
    tag: 'cpu',
  },
  {
    name: 'vcpu',
    props: VCPU_PROPS,
    base: () => ({}),
    build: (p) => ({ name: 'vcpu', attrs: Object.entries(p.attrs), text: '2' }),
    schema: DOMAIN_SCHEMA,
    document: (vcpu) => domainWith('').replace('  <os>', `  ${vcpu}\n  <os>`),
    tag: 'vcpu',
  },
  {
    name: 'cputune><vcpupin',
    props: VCPUPIN_PROPS,
    base: () => ({}),
    build: (p) => el('vcpupin', { vcpu: '0', ...p.attrs }),
    schema: DOMAIN_SCHEMA,
    document: (pin) => domainWith('').replace('  <os>', `  <vcpu>2</vcpu>\n  <cputune>${pin}</cputune>\n  <os>`),
    tag: 'vcpupin',
  },
  {
    name: 'qemu:commandline><qemu:arg',
    props: QEMU_ARG_PROPS,
    base: () => ({}),
    build: (p) => el('qemu:arg', p.attrs),
    schema: DOMAIN_SCHEMA,
    document: (arg) =>
      domainWith('')
        .replace("<domain type='kvm'>", "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>")
        .replace('</domain>', `  <qemu:commandline><qemu:arg value='-fw_cfg'/>${arg}</qemu:commandline>\n</domain>`),
    tag: 'qemu:arg',
  },
  {
    name: 'numatune',
    props: NUMATUNE_PROPS,
    base: () => ({}),
    build: (p) => el('numatune', p.attrs, ...p.children),
    schema: DOMAIN_SCHEMA,
    document: (numatune) => domainWith('').replace('  <os>', `  ${numatune}\n  <os>`),
    tag: 'numatune',
  },
  metadata('mdev', PASSTHRU_MDEV_PROPS, () => ({ uuid: 'c2177883-f1bb-47f0-914d-32a22e3a8804', type: 'mtty-1' })),
  metadata('vf', PASSTHRU_VF_PROPS, () => ({ address: '0000:03:10.0' })),
  // dev or address, never both
  metadata('pf', PASSTHRU_PF_PROPS, (key) => (key === 'address' ? { vfs: '4' } : { dev: 'enp3s0f0', vfs: '4' })),
  metadata('vgpu', PASSTHRU_VGPU_PROPS, () => ({ address: '0000:41:00.4', type: '1157' })),
  metadata('console', PASSTHRU_CONSOLE_PROPS, () => ({})),
  {
    name: 'network',
    props: NETWORK_PROPS,
    base: () => ({}),
    build: (p) => el('network', p.attrs, { name: 'name', text: 'pool' }, ...p.children),
    schema: NETWORK_SCHEMA,
    // the built <network> is the document; the hostdev pool's <forward> goes in
    document: (network) => network.replace('</name>', `</name>\n  ${pfForward}`),
    tag: 'network',
  },
  {
    name: 'network><forward',
    props: FORWARD_PROPS,
    base: () => ({ mode: 'hostdev', managed: 'yes' }),
    build: (p) => el('forward', p.attrs, el('pf', { dev: 'enp3s0f0' })),
    schema: NETWORK_SCHEMA,
    document: networkWith,
    tag: 'forward',
  },
  {
    name: 'network><forward><pf',
    props: FORWARD_PF_PROPS,
    base: () => ({ dev: 'enp3s0f0' }),
    build: (p) => el('pf', p.attrs),
    schema: NETWORK_SCHEMA,
    document: (pf) => networkWith(`<forward mode='hostdev' managed='yes'>${pf}</forward>`),
    tag: 'pf',
  },
];

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
    // not this file, whose documents stand in for the tables' own examples
    if (path === join('test', 'unit', 'xmlfix-element-props.test.ts')) return [];
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
