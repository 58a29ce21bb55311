// Domain XML as libvirt writes it (2-space indent, single quotes) for the scenarios the reliability
// suites drive through the hook: PCI hostdevs, hostdev interfaces, mdevs, and our metadata (mdev
// type/parent, VF settings, PF VF counts). Built from plain data so scenarios stay declarative.
import { createHash } from 'node:crypto';
import { PASSTHRU_NS, PASSTHRU_PREFIX, PASSTHRU_META_ROOT } from '../../src/xml/model.js';

export interface DomainSpec {
  name: string;
  uuid?: string; // derived from the name when absent (stable across runs)
  hostdevs?: { address: string; managed?: boolean }[];
  hostdevInterfaces?: { address: string; mac?: string; vlan?: number }[];
  mdevs?: { uuid: string; type?: string; parent?: string }[]; // type/parent go to the metadata
  vfs?: VfMeta[];
  pfs?: { dev?: string; address?: string; vfs: number }[];
  /** NVIDIA vGPU types of VFs (<passthru:vgpu>); the VF itself goes in `hostdevs` with managed: false. */
  vgpus?: { address: string; type: string }[];
}

export interface VfMeta {
  address?: string;
  mac?: string;
  vlan?: number;
  trust?: boolean;
  spoofchk?: boolean;
  state?: 'auto' | 'enable' | 'disable';
  minRate?: number;
  maxRate?: number;
}

/** A UUID that is the same every run for the same seed text (RFC 4122 shape, version 4 bits). */
export function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const v = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return v;
}

/** A locally administered unicast MAC, stable for the seed. */
export function stableMac(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return ['52', '54', h.slice(0, 2), h.slice(2, 4), h.slice(4, 6), h.slice(6, 8)].join(':');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');

function pciAttrs(address: string): string {
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(address);
  if (!m) throw new Error(`test bug: not a canonical PCI address: ${address}`);
  return `domain='0x${m[1]}' bus='0x${m[2]}' slot='0x${m[3]}' function='0x${m[4]}'`;
}

const onOff = (b: boolean): string => (b ? 'on' : 'off');

function vfMetaXml(v: VfMeta): string {
  const a: string[] = [];
  if (v.address) a.push(`address='${v.address}'`);
  if (v.mac) a.push(`mac='${v.mac}'`);
  if (v.vlan !== undefined) a.push(`vlan='${v.vlan}'`);
  if (v.trust !== undefined) a.push(`trust='${onOff(v.trust)}'`);
  if (v.spoofchk !== undefined) a.push(`spoofchk='${onOff(v.spoofchk)}'`);
  if (v.state) a.push(`state='${v.state}'`);
  if (v.minRate !== undefined) a.push(`min-rate='${v.minRate}'`);
  if (v.maxRate !== undefined) a.push(`max-rate='${v.maxRate}'`);
  return `<${PASSTHRU_PREFIX}:vf ${a.join(' ')}/>`;
}

export function domainXml(spec: DomainSpec): string {
  const p = PASSTHRU_PREFIX;
  const uuid = spec.uuid ?? stableUuid(`domain:${spec.name}`);
  const meta: string[] = [];
  for (const m of spec.mdevs ?? []) {
    if (m.type)
      meta.push(
        `<${p}:mdev uuid='${m.uuid}' type='${esc(m.type)}'${m.parent !== undefined ? ` parent='${esc(m.parent)}'` : ''}/>`,
      );
  }
  for (const pf of spec.pfs ?? []) {
    meta.push(`<${p}:pf ${pf.dev ? `dev='${esc(pf.dev)}'` : `address='${pf.address}'`} vfs='${pf.vfs}'/>`);
  }
  for (const v of spec.vfs ?? []) meta.push(vfMetaXml(v));
  for (const g of spec.vgpus ?? []) meta.push(`<${p}:vgpu address='${g.address}' type='${esc(g.type)}'/>`);

  const devices: string[] = [];
  for (const h of spec.hostdevs ?? []) {
    devices.push(
      `    <hostdev mode='subsystem' type='pci' managed='${h.managed === false ? 'no' : 'yes'}'>`,
      `      <source>`,
      `        <address ${pciAttrs(h.address)}/>`,
      `      </source>`,
      `    </hostdev>`,
    );
  }
  for (const m of spec.mdevs ?? []) {
    devices.push(
      `    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci'>`,
      `      <source>`,
      `        <address uuid='${m.uuid}'/>`,
      `      </source>`,
      `    </hostdev>`,
    );
  }
  for (const i of spec.hostdevInterfaces ?? []) {
    devices.push(`    <interface type='hostdev' managed='yes'>`);
    if (i.mac) devices.push(`      <mac address='${i.mac}'/>`);
    devices.push(`      <source>`, `        <address type='pci' ${pciAttrs(i.address)}/>`, `      </source>`);
    if (i.vlan !== undefined) devices.push(`      <vlan>`, `        <tag id='${i.vlan}'/>`, `      </vlan>`);
    devices.push(`    </interface>`);
  }

  return [
    `<domain type='kvm'>`,
    `  <name>${esc(spec.name)}</name>`,
    `  <uuid>${uuid}</uuid>`,
    ...(meta.length
      ? [
          `  <metadata>`,
          `    <${p}:${PASSTHRU_META_ROOT} xmlns:${p}='${PASSTHRU_NS}'>`,
          ...meta.map((l) => `      ${l}`),
          `    </${p}:${PASSTHRU_META_ROOT}>`,
          `  </metadata>`,
        ]
      : []),
    `  <memory unit='KiB'>65536</memory>`,
    `  <vcpu placement='static'>1</vcpu>`,
    `  <os>`,
    `    <type arch='x86_64' machine='q35'>hvm</type>`,
    `  </os>`,
    `  <devices>`,
    `    <emulator>/usr/bin/qemu-system-x86_64</emulator>`,
    ...devices,
    `  </devices>`,
    `</domain>`,
    ``,
  ].join('\n');
}

/** The uuid a spec's domain XML carries. */
export function domainUuid(spec: DomainSpec): string {
  return spec.uuid ?? stableUuid(`domain:${spec.name}`);
}
