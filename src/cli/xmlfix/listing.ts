// `xmlfix --list`: the passthrough devices a document holds, for people or (--json) machines.
import { formatPciAddress } from '../../pci/address.js';
import { openDomain, pciHostdevs, sourceAddress } from '../../xml/domain-doc.js';
import { readDomainPassthrough } from '../../xml/domain-reader.js';
import { readProps } from '../../xml/element-props.js';
import { HOSTDEV_PCI_PROPS } from '../../xml/element-tables.js';
import { openNetwork, pfDevs, vfAddresses } from '../../xml/network-edits.js';

export interface Listed {
  kind: 'hostdev' | 'mdev' | 'interface' | 'network-interface' | 'pf' | 'vf-address';
  id: string;
  details: Record<string, string | number | boolean>;
}

export function listDevices(text: string, root: string): Listed[] {
  if (root === 'network') {
    const n = openNetwork(text);
    return [
      ...pfDevs(n.forward).map((dev): Listed => ({ kind: 'pf', id: dev, details: {} })),
      ...vfAddresses(n.forward).map(
        (v): Listed => ({ kind: 'vf-address', id: formatPciAddress(v.address), details: {} }),
      ),
    ];
  }
  const d = readDomainPassthrough(text);
  const out: Listed[] = [];
  const vfMeta = (addr: string) => d.metadata.vfs.find((v) => v.address && formatPciAddress(v.address) === addr);
  const settings = (addr: string): Record<string, string | number | boolean> => {
    const { address: _a, ...rest } = vfMeta(addr) ?? {};
    return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Record<
      string,
      string | number | boolean
    >;
  };
  // the element properties xmlfix writes (boot.order, rom.bar, rom.file), read by the same table
  const doc = openDomain(text);
  const props = (addr: string): Record<string, string> => {
    const e = pciHostdevs(doc).find((h) => {
      const a = sourceAddress(h);
      return a !== undefined && formatPciAddress(a) === addr;
    });
    return e ? Object.fromEntries([...readProps(e, HOSTDEV_PCI_PROPS)].filter(([k]) => k !== 'managed')) : {};
  };
  for (const h of d.pciHostdevs) {
    const id = formatPciAddress(h.address);
    const vgpu = d.metadata.vgpus.find((v) => formatPciAddress(v.address) === id);
    out.push({
      kind: 'hostdev',
      id,
      details: { managed: h.managed, ...props(id), ...settings(id), ...(vgpu ? { vgpu: vgpu.type } : {}) },
    });
  }
  for (const m of d.mdevHostdevs) {
    const meta = d.metadata.mdevs.find((x) => x.uuid === m.uuid);
    out.push({
      kind: 'mdev',
      id: m.uuid,
      details: { ...(meta ? { type: meta.type } : {}), ...(meta?.parent ? { parent: meta.parent } : {}) },
    });
  }
  for (const i of d.hostdevInterfaces) {
    const id = formatPciAddress(i.address);
    out.push({
      kind: 'interface',
      id,
      details: {
        managed: i.managed,
        ...(i.mac ? { mac: i.mac } : {}),
        ...(i.vlan !== undefined ? { vlan: i.vlan } : {}),
        ...settings(id),
      },
    });
  }
  for (const n of d.networkInterfaces)
    out.push({ kind: 'network-interface', id: n.network, details: n.mac ? { mac: n.mac } : {} });
  return out;
}

export function formatListing(items: Listed[]): string {
  return items
    .map(
      (i) =>
        `${[
          i.kind.padEnd(17),
          i.id,
          ...Object.entries(i.details).map(([k, v]) => `${k}=${typeof v === 'boolean' ? (v ? 'yes' : 'no') : v}`),
        ]
          .join(' ')
          .trimEnd()}\n`,
    )
    .join('');
}
