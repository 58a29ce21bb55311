// The simulated host as a file tree: each root-relative path ('sys/bus/pci/devices/D/driver',
// 'proc/cmdline', 'dev/vfio/5') is looked up to a node (a file with a getter and maybe a setter, a
// directory, or a symlink with the target the kernel prints and the path it leads to) built from the
// model when asked. PCI devices and drivers are in pci.ts (SR-IOV attributes in sriov.ts), mdev
// parents, types and devices in mdev.ts.
import { errnoError } from '../host/sysfs.js';
import { mdevBusNode, mdevDevicePath, mdevParentLink, mdevTypesNode } from './mdev.js';
import type { SimModel } from './model.js';
import { driverNode, pciDeviceNode, probeWrite } from './pci.js';
import { platformNode, vtconsoleNode } from './console.js';
import type { SimDevice } from './state.js';
import { rid } from './model.js';

export type Node =
  | { t: 'file'; get?: () => string; set?: (data: string) => void }
  | { t: 'dir'; entries: () => string[] }
  | { t: 'link'; target: string; to?: string };

/** A read-only file. */
export const ro = (v: string): Node => ({ t: 'file', get: () => v });
export const dir = (entries: () => string[]): Node => ({ t: 'dir', entries });

const enoent = (path: string) => errnoError('ENOENT', 'no such file or directory', path);
const BAD_PATH = /(?:^|\/)\.\.?(?:\/|$)|\/\/|^\/|\/$|\0/;

export function checkPath(path: string): string {
  if (typeof path !== 'string' || path === '' || BAD_PATH.test(path)) {
    throw errnoError('EINVAL', 'host path must be relative to the host root, without . or ..', JSON.stringify(path));
  }
  return path;
}

/** Rewrites symlinks met inside a path (D/driver/unbind -> drivers/X/unbind); the last component stays. */
export function resolveLinks(m: SimModel, path: string): string {
  let p = path;
  for (let hop = 0; hop < 16; hop++) {
    const s = p.split('/');
    let changed = false;
    for (let i = 3; i < s.length && !changed; i++) {
      let n: Node | undefined;
      try {
        n = find(m, s.slice(0, i).join('/'));
      } catch {
        return p;
      }
      if (n === undefined) return p;
      if (n.t === 'link' && n.to) {
        const np = [...n.to.split('/').filter((x) => x !== '.'), ...s.slice(i)].join('/');
        if (np !== p) {
          p = np;
          changed = true;
        }
      }
    }
    if (!changed) return p;
  }
  throw errnoError('ELOOP', 'too many levels of symbolic links', path);
}

/** The node at `path` with every symlink followed, the last one included; ENOENT when there is none. */
export function follow(m: SimModel, path: string): Node {
  const n = tryFollow(m, path);
  if (n === undefined) throw enoent(path);
  return n;
}

/** follow, or undefined for a path that does not exist. */
export function tryFollow(m: SimModel, path: string): Node | undefined {
  const n = find(m, resolveLinks(m, checkPath(path)));
  if (n?.t !== 'link') return n;
  return n.to ? find(m, resolveLinks(m, n.to)) : undefined;
}

/** The node at `path` with the links inside it followed but not the last component (readlink). */
export function lookupLink(m: SimModel, path: string): Node {
  const n = find(m, resolveLinks(m, checkPath(path)));
  if (n === undefined) throw enoent(path);
  return n;
}

/** The node at root-relative path p (links not followed), or undefined when there is none. */
export function find(m: SimModel, p: string): Node | undefined {
  const files = m.state.files;
  const file = files?.[p];
  if (file !== undefined)
    return { t: 'file', get: () => file, set: p.startsWith('etc/') ? (v) => void (files![p] = v) : undefined };
  const s = p.split('/');
  switch (s[0]) {
    case 'sys':
      return sysNode(m, s.slice(1)) ?? filesDir(m, p);
    case 'proc':
      return procNode(m, p) ?? filesDir(m, p);
    case 'dev':
      if (p === 'dev') return dir(() => ['vfio', ...filesUnder(m, p)]);
      if (p === 'dev/vfio') return dir(() => m.vfioEntries());
      if (s[1] === 'vfio' && s.length === 3 && m.vfioEntries().includes(s[2]!)) return ro('');
      return filesDir(m, p);
    case 'var':
      if (p === 'var/log/dmesg' && m.state.dmesg) return ro(m.state.dmesg.map((l) => `${l}\n`).join(''));
      if ((p === 'var' || p === 'var/log') && m.state.dmesg)
        return dir(() => [p === 'var' ? 'log' : 'dmesg', ...filesUnder(m, p)]);
      return filesDir(m, p);
    default:
      return filesDir(m, p);
  }
}

/** A directory that only extra files make (etc, etc/modprobe.d, …), or nothing. */
function filesDir(m: SimModel, p: string): Node | undefined {
  const entries = filesUnder(m, p);
  return entries.length ? dir(() => entries) : undefined;
}

/** Names directly under directory p among the extra files. */
function filesUnder(m: SimModel, p: string): string[] {
  const out = new Set<string>();
  const prefix = p === '' ? '' : `${p}/`;
  for (const f of Object.keys(m.state.files ?? {}))
    if (f.startsWith(prefix)) out.add(f.slice(prefix.length).split('/')[0]!);
  return [...out];
}

function procNode(m: SimModel, p: string): Node | undefined {
  const st = m.state;
  switch (p) {
    case 'proc':
      return dir(() => ['cmdline', 'modules', 'mounts', 'net', 'sys']);
    case 'proc/cmdline':
      return ro(`${st.cmdline}\n`);
    case 'proc/modules':
      return ro((st.modules ?? []).map((mod) => `${mod} 16384 0 - Live 0x0000000000000000\n`).join(''));
    case 'proc/sys/kernel/osrelease':
      return ro(`${st.kernel}\n`);
    case 'proc/mounts': {
      const root = rootDiskNames(m);
      return ro(
        `sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n${root ? `/dev/${root.partition} / ext4 rw,relatime,errors=remount-ro 0 0\n` : ''}`,
      );
    }
    case 'proc/net/route': {
      const i = st.defaultRouteNetdev;
      const head = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';
      return ro(
        head +
          (i
            ? `${i}\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n${i}\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n`
            : ''),
      );
    }
    default:
      return undefined;
  }
}

function rootDiskNames(m: SimModel): { device: string; disk: string; partition: string } | undefined {
  const r = m.state.rootDisk;
  if (!r) return undefined;
  const device = typeof r === 'string' ? r : r.device;
  const disk = (typeof r === 'object' && r.disk) || 'nvme0n1';
  const partition = (typeof r === 'object' && r.partition) || `${disk}${/\d$/.test(disk) ? 'p' : ''}2`;
  return { device, disk, partition };
}

function sysNode(m: SimModel, s: string[]): Node | undefined {
  const [a, b, c] = s;
  if (s.length === 0) return dir(() => ['bus', 'class', 'kernel']);
  if (a === 'bus') {
    if (s.length === 1) return dir(() => ['mdev', 'pci', 'platform']);
    if (b === 'platform') return platformNode(m.state, s.slice(2));
    if (b === 'pci') {
      if (s.length === 2) return dir(() => ['devices', 'drivers', 'drivers_probe']);
      if (c === 'drivers_probe' && s.length === 3) return { t: 'file', set: (v) => probeWrite(m, v) };
      if (c === 'devices') return s.length === 3 ? dir(() => m.addresses()) : pciDeviceNode(m, s.slice(3));
      if (c === 'drivers') return s.length === 3 ? dir(() => [...m.loadedDrivers()]) : driverNode(m, s.slice(3));
      return undefined;
    }
    if (b === 'mdev') return mdevBusNode(m, s.slice(2));
    return undefined;
  }
  if (a === 'kernel') return s.length === 1 ? dir(() => ['iommu_groups']) : iommuNode(m, s.slice(1));
  if (a === 'class') {
    if (s.length === 1) return dir(() => ['block', 'mdev_bus', 'net', 'vtconsole']);
    if (b === 'vtconsole') return vtconsoleNode(m.state, s.slice(2));
    if (b === 'net') return netNode(m, s.slice(2));
    if (b === 'block') return blockNode(m, s.slice(2));
    if (b === 'mdev_bus') {
      if (s.length === 2) return dir(() => m.mdevParentNames());
      const types = m.mdevParent(c!);
      if (!types) return undefined;
      if (s.length === 3) return mdevParentLink(m, c!);
      if (s[3] === '.' && s.length === 4) return dir(() => ['mdev_supported_types']);
      if (s[3] === 'mdev_supported_types') return mdevTypesNode(m, c!, types, s.slice(4));
    }
  }
  return undefined;
}

/** kernel/iommu_groups[/N[/type|/devices[/MEMBER]]] */
function iommuNode(m: SimModel, s: string[]): Node | undefined {
  const [b, c, d] = s;
  if (b !== 'iommu_groups') return undefined;
  if (s.length === 1) return dir(() => [...m.groups().keys()].map(String));
  const members = /^\d+$/.test(c!) ? m.groups().get(Number(c)) : undefined;
  if (!members) return undefined;
  if (s.length === 2) return dir(() => ['devices', 'type']);
  if (d === 'type' && s.length === 3) return ro('identity\n');
  if (d !== 'devices') return undefined;
  if (s.length === 3) return dir(() => members);
  const member = s[3]!;
  if (s.length !== 4 || !members.includes(member)) return undefined;
  const dev = m.device(member);
  return dev
    ? { t: 'link', target: `../../../../${m.pciPath(dev)}`, to: `sys/bus/pci/devices/${member}` }
    : { t: 'link', target: `../../../../${mdevDevicePath(m, member)}`, to: `sys/bus/mdev/devices/${member}` };
}

function netNode(m: SimModel, s: string[]): Node | undefined {
  const present = () => m.state.devices.filter((d) => m.netdevOf(d));
  if (s.length === 0) return dir(() => present().map((d) => m.netdevOf(d)!));
  const dv = present().find((d) => m.netdevOf(d) === s[0]);
  if (!dv) return undefined;
  if (s.length === 1)
    return {
      t: 'link',
      target: `../../${m.pciPath(dv)}/net/${s[0]}`,
      to: `sys/bus/pci/devices/${dv.address}/net/${s[0]}`,
    };
  return s.length === 2 ? netAttr(dv, s[1]!) : undefined;
}

/** An attribute of a network interface (class/net/IF/ATTR, D/net/IF/ATTR). */
export function netAttr(dv: SimDevice, attr: string): Node | undefined {
  switch (attr) {
    case 'device':
      return { t: 'link', target: `../../../${dv.address}`, to: `sys/bus/pci/devices/${dv.address}` };
    case 'operstate':
      return ro('up\n');
    case 'address': {
      const n = rid(dv.address);
      const hex = (v: number) => v.toString(16).padStart(2, '0');
      return ro(`52:54:00:${hex((n >> 8) & 0xff)}:${hex((n >> 3) & 0x1f)}:${hex(n & 7)}\n`);
    }
  }
  return undefined;
}

function blockNode(m: SimModel, s: string[]): Node | undefined {
  const r = rootDiskNames(m);
  const dv = r && m.device(r.device);
  if (s.length === 0) return dir(() => (r && dv ? [r.disk, r.partition] : []));
  if (!r || !dv) return undefined;
  const base = `../../${m.pciPath(dv)}/nvme/nvme0/${r.disk}`;
  if (s.length === 1 && s[0] === r.disk) return { t: 'link', target: base };
  if (s.length === 1 && s[0] === r.partition) return { t: 'link', target: `${base}/${r.partition}` };
  return undefined;
}
