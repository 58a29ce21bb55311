// Hostile inputs, hand-written: XML that attacks the parser (entities, depth, size, encoding,
// truncation) and domain XML whose values attack the paths they become (traversal, separators,
// control characters, overlong names, out-of-range numbers). Each case says which input it targets
// so a failure names it.
import { domainXml, type DomainSpec } from './domains.js';
import { gpusWithPeers, mdevParents, sriovPfs, vfAddress, type HostFixture } from './scenarios.js';

export interface XmlCase {
  name: string;
  body: Buffer;
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** A valid domain with one PCI hostdev, used as the carrier of hostile documents. */
export function carrierDomain(address = '0000:01:00.0'): string {
  return domainXml({ name: 'hostile', hostdevs: [{ address, managed: true }] });
}

export function hostileDocuments(carrier: string): XmlCase[] {
  const [head, ...rest] = carrier.split('\n');
  const body = rest.join('\n');
  const laughs = [
    '<!ENTITY l0 "lol">',
    ...Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`),
  ].join('');
  const depth = 200_000;
  return [
    {
      name: 'doctype-external-entity',
      body: b(
        `<?xml version="1.0"?>\n<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n${carrier.replace('<name>hostile</name>', '<name>&x;</name>')}`,
      ),
    },
    {
      name: 'billion-laughs',
      body: b(`<!DOCTYPE domain [${laughs}]>\n${carrier.replace('<name>hostile</name>', '<name>&l9;</name>')}`),
    },
    {
      name: 'parameter-entity',
      body: b(`<!DOCTYPE domain [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>\n${carrier}`),
    },
    { name: 'doctype-only', body: b(`<!DOCTYPE domain>\n${carrier}`) },
    { name: 'deep-nesting', body: b(`${head}\n${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}\n${body}`) },
    {
      name: 'long-attribute',
      body: b(carrier.replace("<domain type='kvm'>", `<domain type='kvm' x='${'A'.repeat(200 * 1024)}'>`)),
    },
    {
      name: 'huge-attribute',
      body: b(carrier.replace("<domain type='kvm'>", `<domain type='kvm' x='${'A'.repeat(32 * 1024 * 1024)}'>`)),
    },
    {
      name: 'huge-text',
      body: b(carrier.replace('<name>hostile</name>', `<name>${'n'.repeat(32 * 1024 * 1024)}</name>`)),
    },
    {
      name: 'invalid-utf8',
      body: Buffer.concat([
        b(carrier.slice(0, carrier.indexOf('hostile'))),
        Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
        b(carrier.slice(carrier.indexOf('hostile'))),
      ]),
    },
    { name: 'truncated', body: b(carrier.slice(0, Math.floor(carrier.length * 0.6))) },
    { name: 'truncated-in-tag', body: b(carrier.slice(0, carrier.indexOf("bus='0x") + 6)) },
    { name: 'nul-byte', body: b(carrier.replace('hostile', 'host\u0000ile')) },
    { name: 'empty', body: Buffer.alloc(0) },
    { name: 'not-xml', body: b('{"domain": "json, not xml"}\n') },
    { name: 'two-roots', body: b(`${carrier}${carrier}`) },
    { name: 'non-libvirt-root', body: b(carrier.replace(/<(\/?)domain\b/g, '<$1evil')) },
    { name: 'binary-garbage', body: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)) },
  ];
}

export interface ValueCase {
  name: string;
  spec: DomainSpec;
  /** Raw XML replacing the whole document when a builder cannot express the case. */
  xml?: string;
}

const traversal = [
  '../../../../etc/passwd',
  '../x',
  'a/b',
  '/etc/shadow',
  'x\ny',
  'x\u0001y',
  'x y',
  '',
  '.',
  '..',
  'a'.repeat(4096),
];

/** The real names of a fixture that the hostile cases vary one at a time. */
export interface HostileContext {
  pfDev: string;
  vf: string;
  mdevParent: string;
  mdevType: string;
  gpu: string;
}

/** The first GPU with peers, SR-IOV PF and mdev parent of a fixture, as the cases need them. */
export function hostileContext(fx: HostFixture): HostileContext {
  const gpu = gpusWithPeers(fx)[0]!;
  const pf = sriovPfs(fx)[0]!;
  const mdev = mdevParents(fx)[0]!;
  return {
    pfDev: pf.netdev ?? pf.netdevs![0]!,
    vf: vfAddress(pf, 0),
    mdevParent: mdev.parent.address,
    mdevType: mdev.type,
    gpu: gpu.address,
  };
}

/** Domain XML whose values are hostile; each case changes one value of an otherwise plausible domain. */
export function hostileValueCases(ctx: HostileContext): ValueCase[] {
  const out: ValueCase[] = [];
  const uuid = '3b6e1b7a-8f0e-4c61-9a3c-2f4a8b1c0d11';
  let i = 0;
  const add = (name: string, spec: Omit<DomainSpec, 'name'>): void => {
    out.push({ name, spec: { name: `hostile-${i++}`, ...spec } });
  };
  for (const t of traversal) {
    const label = JSON.stringify(t.length > 20 ? `${t.slice(0, 8)}…(${t.length})` : t);
    add(`mdev type ${label}`, { mdevs: [{ uuid, type: t, parent: ctx.mdevParent }] });
    add(`mdev parent ${label}`, { mdevs: [{ uuid, type: ctx.mdevType, parent: t }] });
    add(`pf dev ${label}`, { pfs: [{ dev: t, vfs: 2 }] });
  }
  for (const u of [
    '../../../x',
    'not-a-uuid',
    '3b6e1b7a-8f0e-4c61-9a3c-2f4a8b1c0d1',
    '3b6e1b7a-8f0e-4c61-9a3c-2f4a8b1c0d11/../../x',
    `g${uuid.slice(1)}`,
  ]) {
    add(`mdev uuid ${JSON.stringify(u)}`, { mdevs: [{ uuid: u, type: ctx.mdevType, parent: ctx.mdevParent }] });
  }
  for (const n of [-1, 100000, 2 ** 31, 1.5]) add(`pf vfs ${n}`, { pfs: [{ dev: ctx.pfDev, vfs: n }] });
  for (const mac of [
    'ff:ff:ff:ff:ff:ff',
    '01:00:5e:00:00:01',
    '00:11:22:33:44',
    'gg:11:22:33:44:55',
    '00:11:22:33:44:55/../x',
    '00:00:00:00:00:00:00',
  ]) {
    add(`vf mac ${mac}`, { vfs: [{ address: ctx.vf, mac }] });
  }
  for (const vlan of [-1, 4095, 4096, 1e9]) add(`vf vlan ${vlan}`, { vfs: [{ address: ctx.vf, vlan }] });
  for (const rate of [-5, 2 ** 53]) add(`vf max-rate ${rate}`, { vfs: [{ address: ctx.vf, maxRate: rate }] });
  for (const address of ['0000:03:10.8', 'zz:zz.z', '../../0000:03:10.0', '10000:00:00.0']) {
    add(`vf address ${address}`, { vfs: [{ address, trust: true }] });
  }
  // values the builder cannot spell: raw substitutions into a carrier
  const carrier = domainXml({
    name: 'hostile-raw',
    hostdevs: [{ address: ctx.gpu, managed: true }],
    vfs: [{ address: ctx.vf, trust: true }],
  });
  const raw = (name: string, from: string | RegExp, to: string): void => {
    out.push({ name, spec: { name: 'hostile-raw' }, xml: carrier.replace(from, to) });
  };
  raw("hostdev bus='0x100'", /bus='0x[0-9a-f]+'/, "bus='0x100'");
  raw("hostdev slot='0x20'", /slot='0x[0-9a-f]+'/, "slot='0x20'");
  raw("hostdev function='8'", /function='0x[0-7]'/, "function='8'");
  raw("hostdev domain='0x10000'", /domain='0x[0-9a-f]+'/, "domain='0x10000'");
  raw("hostdev bus='../..'", /bus='0x[0-9a-f]+'/, "bus='../..'");
  raw("vf trust='maybe'", "trust='on'", "trust='maybe'");
  raw("vf state='bogus'", "trust='on'", "state='bogus'");
  raw('vf mac with char ref newline', "trust='on'", "mac='00:11:22:33:44:55&#10;'");
  raw(
    'mdev type with char ref newline',
    "trust='on'",
    `trust='on'/><passthru:mdev uuid='${uuid}' type='x&#10;y' parent='${ctx.mdevParent}'`,
  );
  raw('pf vfs not a number', "trust='on'", `trust='on'/><passthru:pf dev='${ctx.pfDev}' vfs='four'`);
  return out;
}

/** Hook argv (after the script name) that must be refused or ignored; never a write. */
export const hostileArgs: { name: string; args: string[]; mayIgnore: boolean }[] = [
  { name: 'no arguments', args: [], mayIgnore: false },
  { name: 'domain only', args: ['vm'], mayIgnore: false },
  { name: 'prepare without sub-op', args: ['vm', 'prepare'], mayIgnore: false },
  { name: 'prepare bogus sub-op', args: ['vm', 'prepare', 'bogus', '-'], mayIgnore: true },
  { name: 'unknown operation', args: ['vm', 'explode', 'begin', '-'], mayIgnore: true },
  { name: 'domain name traversal', args: ['../../../etc/x', 'prepare', 'begin', '-'], mayIgnore: false },
  { name: 'domain name with newline', args: ['vm\nprepare', 'prepare', 'begin', '-'], mayIgnore: false },
  { name: 'overlong domain name', args: ['v'.repeat(100_000), 'prepare', 'begin', '-'], mayIgnore: false },
];

/**
 * Cases that currently fail, each with the finding reported to the lead. They run as `it.fails`:
 * the day the code is fixed the test turns red, and the entry must go.
 */
export const knownFindings: Record<string, string> = {};
