// SR-IOV in the simulator: a PF's sriov_* attributes and virtfnK links, creating and removing VFs
// through sriov_numvfs (drivers/pci/iov.c), and the VF settings a PF driver holds (`ip link set dev
// PF vf K …`, read back as vfinfo_list).
import type { VfInfo, VfSettings } from '../host/netlink.js';
import { errnoError } from '../host/sysfs.js';
import { defaultVfLink, rid, type SimModel, WriteBlocks } from './model.js';
import { probe } from './pci.js';
import type { SimDevice, SimVfLink } from './state.js';
import type { Node } from './tree.js';
import { ro } from './tree.js';

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

/** The sysfs address of routing id `id` in PCI domain `domain`. */
function ridAddress(domain: string, id: number): string {
  const hex = (v: number) => v.toString(16).padStart(2, '0');
  return `${domain}:${hex((id >> 8) & 0xff)}:${hex((id >> 3) & 0x1f)}.${id & 7}`;
}

/** A VF the SR-IOV disable of its PF is removing right now: its physfn and virtfnK links are gone. */
export function leavingPf(m: SimModel, vf: SimDevice): boolean {
  const at = vf.physfn ? m.device(vf.physfn)?.sriov?.disablingAt : undefined;
  return at !== undefined && at === vf.vfIndex;
}

/** A PF's sriov_* attribute or virtfnK link. */
export function sriovNode(m: SimModel, dv: SimDevice, attr: string): Node | undefined {
  const sr = dv.sriov;
  if (!sr) return undefined;
  const vf = /^virtfn(\d+)$/.exec(attr);
  if (vf) {
    const x = m.vfsOf(dv).find((v) => v.vfIndex === Number(vf[1]));
    return x && !leavingPf(m, x)
      ? { t: 'link', target: `../${x.address}`, to: `sys/bus/pci/devices/${x.address}` }
      : undefined;
  }
  switch (attr) {
    case 'sriov_totalvfs':
      return ro(`${sr.totalVfs}\n`);
    case 'sriov_offset':
      return ro(`${sr.offset}\n`);
    case 'sriov_stride':
      return ro(`${sr.stride}\n`);
    case 'sriov_vf_device':
      // sriov_vf_device_show prints %x: no 0x, no leading zeros (10 for 0x0010), unlike `device`
      return ro(`${parseInt((sr.vfDevice ?? dv.device).replace(/^0x/i, ''), 16).toString(16)}\n`);
    case 'sriov_drivers_autoprobe':
      return ro('1\n');
    case 'sriov_numvfs':
      return { t: 'file', get: () => `${sr.numVfs}\n`, set: (v) => writeNumVfs(m, dv, v) };
  }
  return undefined;
}

export function sriovEntries(m: SimModel, dv: SimDevice): string[] {
  if (!dv.sriov) return [];
  const e = [
    'sriov_drivers_autoprobe',
    'sriov_numvfs',
    'sriov_offset',
    'sriov_stride',
    'sriov_totalvfs',
    'sriov_vf_device',
  ];
  for (const x of m.vfsOf(dv)) if (!leavingPf(m, x)) e.push(`virtfn${x.vfIndex}`);
  return e;
}

/** sriov_numvfs_store: kstrtou16, range, unchanged is a no-op, a driver must be bound, through 0. */
function writeNumVfs(m: SimModel, pf: SimDevice, v: string): void {
  const sr = pf.sriov!;
  const t = v.replace(/\n$/, '');
  if (!/^\d+$/.test(t) || Number(t) > 0xffff) throw errnoError('EINVAL', `invalid VF count '${t}'`);
  const n = Number(t);
  if (n > sr.totalVfs) throw errnoError('ERANGE', `${n} VFs requested, ${sr.totalVfs} supported`);
  if (n === sr.numVfs) return;
  if (!pf.driver) throw errnoError('ENOENT', 'no driver bound to device; cannot configure SR-IOV');
  // pci-stub has no sriov_configure; vfio-pci's refuses unless loaded with enable_sriov=1
  if (pf.driver === 'pci-stub' || pf.driver === 'vfio-pci')
    throw errnoError('ENOENT', `${pf.driver} does not configure SR-IOV`);
  setNumVfs(m, pf, n);
}

export function setNumVfs(m: SimModel, pf: SimDevice, n: number): void {
  const s = pf.sriov!;
  if (n === s.numVfs) return;
  if (n !== 0 && s.numVfs !== 0)
    throw errnoError('EBUSY', `${s.numVfs} VFs already enabled; disable before enabling ${n}`);
  if (n === 0) return disableSriov(m, pf);
  const domain = pf.address.slice(0, 4);
  const base = rid(pf.address);
  const created: SimDevice[] = [];
  for (let k = 0; k < n; k++) {
    const address = ridAddress(domain, base + s.offset + s.stride * k);
    if (m.state.devices.some((d) => d.address === address)) throw errnoError('EIO', `VF address ${address} is taken`);
    const vf: SimDevice = {
      address,
      vendor: pf.vendor,
      device: s.vfDevice ?? pf.device,
      class: pf.class,
      physfn: pf.address,
      vfIndex: k,
    };
    if (pf.subsystemVendor) vf.subsystemVendor = pf.subsystemVendor;
    if (pf.subsystemDevice) vf.subsystemDevice = pf.subsystemDevice;
    if (pf.parent) vf.parent = pf.parent;
    if (s.vfDriver) vf.nativeDriver = s.vfDriver;
    if (pf.netdev && s.vfDriver) vf.netdev = `${pf.netdev}v${k}`;
    // each VF in a group of its own (the lowest free number), or in the PF's (no ACS)
    if (pf.iommuGroup !== undefined) vf.iommuGroup = s.vfGroups === 'pf' ? pf.iommuGroup : m.freeGroup();
    m.state.devices.push(vf);
    created.push(vf);
  }
  s.numVfs = n;
  s.vfLinks = Array.from({ length: n }, defaultVfLink);
  m.reindex();
  for (const vf of created) probe(m, vf); // sriov_drivers_autoprobe=1
}

/**
 * sriov_disable: removes the VFs from the lowest index up. A VF qemu holds through vfio-pci stops
 * it there until qemu closes the device (lab-measured: the write blocks, VFs below are gone, the
 * VF has lost its driver, physfn and virtfn links, and the PF's and the VF's device locks are held).
 */
export function disableSriov(m: SimModel, pf: SimDevice): void {
  const s = pf.sriov!;
  const vfs = m.vfsOf(pf);
  const held = vfs.find((v) => v.unbinding || (v.inUse && v.driver === 'vfio-pci'));
  if (held) {
    const gone = new Set(vfs.filter((v) => v.vfIndex! < held.vfIndex!));
    m.state.devices = m.state.devices.filter((d) => !gone.has(d));
    held.unbinding = true;
    s.disablingAt = held.vfIndex!;
    m.reindex();
    const address = pf.address;
    throw new WriteBlocks('held', () => m.device(address)?.sriov?.disablingAt === undefined);
  }
  m.state.devices = m.state.devices.filter((d) => d.physfn !== pf.address);
  s.numVfs = 0;
  delete s.vfLinks;
  delete s.disablingAt;
  m.reindex();
}

/** qemu let go of the VF an SR-IOV disable waited for: the disable goes on (a PF unbind then ends). */
export function continueDisable(m: SimModel, pf: SimDevice): void {
  const s = pf.sriov!;
  const vf = m.vfsOf(pf).find((v) => v.vfIndex === s.disablingAt);
  if (vf) m.state.devices = m.state.devices.filter((d) => d !== vf);
  delete s.disablingAt;
  m.reindex();
  try {
    disableSriov(m, pf);
  } catch (err) {
    if (err instanceof WriteBlocks) return; // the next VF qemu holds: still waiting
    throw err;
  }
  if (pf.unbinding) {
    delete pf.unbinding;
    delete pf.driver;
  }
}

export function pfByNetdev(m: SimModel, name: string): SimDevice {
  const pf = m.state.devices.find((d) => m.netdevOf(d) === name);
  if (!pf) throw errnoError('ENODEV', `Cannot find device "${name}"`);
  return pf;
}

/** The PF's VF settings, one per existing VF (stored only once a VF exists, so reads never change state). */
function vfLinks(pf: SimDevice, forWrite = false): SimVfLink[] {
  const s = pf.sriov!;
  const links = Array.from({ length: s.numVfs }, (_, i) => s.vfLinks?.[i] ?? defaultVfLink());
  if (forWrite && s.numVfs > 0) s.vfLinks = links;
  return links;
}

/** `ip -j -d link show dev PF`'s vfinfo_list. */
export function listVfLinks(m: SimModel, pfNetdev: string): VfInfo[] {
  const pf = pfByNetdev(m, pfNetdev);
  if (!pf.sriov) return [];
  return vfLinks(pf).map((l, index) => ({ index, ...l }));
}

/** `ip link set dev PF vf K …`, with the checks of the kernel's ndo_set_vf_* and of iproute2. */
export function setVfLink(m: SimModel, pfNetdev: string, index: number, settings: VfSettings): void {
  const pf = pfByNetdev(m, pfNetdev);
  const links = pf.sriov ? vfLinks(pf, true) : [];
  const link = links[index];
  if (!Number.isInteger(index) || !link) throw errnoError('EINVAL', `${pfNetdev} has no VF ${index}`);
  const next: SimVfLink = { ...link };
  if (settings.mac !== undefined) {
    const mac = settings.mac.toLowerCase();
    // the kernel refuses multicast MACs for VFs; all-zero clears
    if (!MAC.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1)
      throw errnoError('EINVAL', `invalid VF MAC '${settings.mac}'`);
    next.mac = mac;
  }
  if (settings.vlan !== undefined) {
    if (!Number.isInteger(settings.vlan) || settings.vlan < 0 || settings.vlan > 4095)
      throw errnoError('EINVAL', `invalid VLAN ${settings.vlan}`);
    next.vlan = settings.vlan;
  }
  if (settings.qos !== undefined) {
    if (!Number.isInteger(settings.qos) || settings.qos < 0 || settings.qos > 7)
      throw errnoError('EINVAL', `invalid qos ${settings.qos}`);
    next.qos = settings.qos;
  }
  if (settings.spoofchk !== undefined) next.spoofchk = settings.spoofchk;
  if (settings.trust !== undefined) next.trust = settings.trust;
  if (settings.state !== undefined) {
    if (!['auto', 'enable', 'disable'].includes(settings.state))
      throw errnoError('EINVAL', `invalid link state '${settings.state}'`);
    next.state = settings.state;
  }
  for (const k of ['minRate', 'maxRate'] as const) {
    const v = settings[k];
    if (v !== undefined) {
      if (!Number.isInteger(v) || v < 0) throw errnoError('EINVAL', `invalid ${k} ${v}`);
      next[k] = v;
    }
  }
  if (next.maxRate !== 0 && next.minRate > next.maxRate)
    throw errnoError('EINVAL', `min_tx_rate ${next.minRate} above max_tx_rate ${next.maxRate}`);
  links[index] = next;
}
