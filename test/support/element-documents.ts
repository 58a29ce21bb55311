// How each property table's element stands in a document that a schema can judge: the elements
// of src/xml/*-tables.ts, for the coverage test (test/unit/xmlfix-element-props.test.ts).
import type { buildProps, Prop } from '../../src/xml/element-props.js';
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
import { el, type XmlNode } from '../../src/xml/fragment.js';
import {
  PASSTHRU_CONSOLE_PROPS,
  PASSTHRU_MDEV_PROPS,
  PASSTHRU_PF_PROPS,
  PASSTHRU_VF_PROPS,
  PASSTHRU_VGPU_PROPS,
} from '../../src/xml/metadata-tables.js';
import { FORWARD_PF_PROPS, FORWARD_PROPS, NETWORK_PROPS } from '../../src/xml/network-tables.js';
import * as domainTables from '../../src/xml/domain-tables.js';

const SCHEMAS = process.env.PASSTHRU_LIBVIRT_SCHEMAS ?? '/usr/share/libvirt/schemas';
const DOMAIN_SCHEMA = `${SCHEMAS}/domain.rng`;
const NETWORK_SCHEMA = `${SCHEMAS}/network.rng`;
const OUR_SCHEMA = 'schemas/passthru-metadata.rng';
const pci = { domain: '0x0000', bus: '0x01', slot: '0x00', function: '0x0' };

const domainWith = (device: string) =>
  `<domain type='kvm'>\n  <name>props</name>\n  <memory>65536</memory>\n  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n  <devices>\n    <graphics type='vnc'/>\n    ${device}\n  </devices>\n</domain>\n`;
const metadataWith = (entry: string) =>
  `<passthru:devices xmlns:passthru='https://passthru.dev/xmlns/domain/1'>\n  ${entry}\n</passthru:devices>\n`;
const networkWith = (forward: string) => `<network>\n  <name>pool</name>\n  ${forward}\n</network>\n`;
const pfForward = "<forward mode='hostdev' managed='yes'><pf dev='enp3s0f0'/></forward>";

type Built = ReturnType<typeof buildProps>;

export interface Table {
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
export const TABLES: Table[] = [
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
    props: domainTables.DOMAIN_PROPS,
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
    props: domainTables.OS_PROPS,
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
    props: domainTables.CPU_PROPS,
    // a bit count goes with mode='emulate'
    base: (key) => (key === 'maxPhysAddrBits' ? { maxPhysAddrMode: 'emulate' } : {}),
    build: (p) => el('cpu', p.attrs, ...p.children),
    schema: DOMAIN_SCHEMA,
    document: (cpu) => domainWith('').replace('  <devices>', `  ${cpu}\n  <devices>`),
    tag: 'cpu',
  },
  {
    name: 'vcpu',
    props: domainTables.VCPU_PROPS,
    base: () => ({}),
    build: (p) => ({ name: 'vcpu', attrs: Object.entries(p.attrs), text: '2' }),
    schema: DOMAIN_SCHEMA,
    document: (vcpu) => domainWith('').replace('  <os>', `  ${vcpu}\n  <os>`),
    tag: 'vcpu',
  },
  {
    name: 'cputune><vcpupin',
    props: domainTables.VCPUPIN_PROPS,
    base: () => ({}),
    build: (p) => el('vcpupin', { vcpu: '0', ...p.attrs }),
    schema: DOMAIN_SCHEMA,
    document: (pin) => domainWith('').replace('  <os>', `  <vcpu>2</vcpu>\n  <cputune>${pin}</cputune>\n  <os>`),
    tag: 'vcpupin',
  },
  {
    name: 'qemu:commandline><qemu:arg',
    props: domainTables.QEMU_ARG_PROPS,
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
    props: domainTables.NUMATUNE_PROPS,
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
