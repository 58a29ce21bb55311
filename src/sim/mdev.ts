// Mediated devices in the simulator (drivers/vfio/mdev): a parent's mdev_supported_types, creating
// an mdev by writing a UUID to a type's `create`, removing it through its `remove`, the instances a
// type has left (one count per type, or one pool the parent's types share), and the mdev's own
// directory under bus/mdev/devices.
import { errnoError } from '../host/sysfs.js';
import { type SimModel, UUID, WriteBlocks } from './model.js';
import type { SimMdev, SimMdevType } from './state.js';
import { dir, type Node, ro } from './tree.js';

/** Where a parent lives under sys/devices: a PCI device's path, or a virtual device (mtty). */
function mdevParentPath(m: SimModel, name: string): string {
  const d = m.device(name);
  return d ? m.pciPath(d) : `devices/virtual/${name}/${name}`;
}

export function mdevDevicePath(m: SimModel, uuid: string): string {
  const mdev = (m.state.mdevs ?? []).find((x) => x.uuid === uuid)!;
  return `${mdevParentPath(m, mdev.parent)}/${uuid}`;
}

/** class/mdev_bus/PARENT: a link to the parent's device directory. */
export function mdevParentLink(m: SimModel, parent: string): Node {
  return { t: 'link', target: `../../${mdevParentPath(m, parent)}`, to: `sys/class/mdev_bus/${parent}/.` };
}

/** bus/mdev[/devices[/UUID[/…]]] */
export function mdevBusNode(m: SimModel, s: string[]): Node | undefined {
  if (s.length === 0) return dir(() => ['devices']);
  if (s[0] !== 'devices') return undefined;
  if (s.length === 1) return dir(() => (m.state.mdevs ?? []).filter((x) => !x.removing).map((x) => x.uuid));
  return mdevNode(m, s.slice(1));
}

/** PARENT/mdev_supported_types[/TYPE[/ATTR]] */
export function mdevTypesNode(m: SimModel, parent: string, types: SimMdevType[], s: string[]): Node | undefined {
  if (s.length === 0) return dir(() => types.map((t) => t.id));
  const ty = types.find((t) => t.id === s[0]);
  if (!ty) return undefined;
  const ofType = () =>
    (m.state.mdevs ?? []).filter((x) => x.parent === parent && x.type === ty.id && !x.removing).map((x) => x.uuid);
  if (s.length === 1)
    return dir(() => [
      'available_instances',
      'create',
      'device_api',
      'devices',
      'name',
      ...(ty.description !== undefined ? ['description'] : []),
    ]);
  switch (s.length === 2 ? s[1] : s[1] === 'devices' ? 'devices/' : '') {
    case 'available_instances':
      return ro(`${ty.availableInstances}\n`);
    case 'name':
      return ro(`${ty.name ?? ty.id}\n`);
    case 'description':
      return ty.description === undefined ? undefined : ro(`${ty.description}\n`);
    case 'device_api':
      return ro(`${ty.deviceApi ?? 'vfio-pci'}\n`);
    case 'devices':
      return dir(ofType);
    case 'devices/': {
      const u = s[2]!;
      return s.length === 3 && ofType().includes(u)
        ? { t: 'link', target: `../../../${u}`, to: `sys/bus/mdev/devices/${u}` }
        : undefined;
    }
    case 'create':
      return { t: 'file', set: (v) => createMdev(m, parent, ty, v) };
  }
  return undefined;
}

function createMdev(m: SimModel, parent: string, ty: SimMdevType, v: string): void {
  const uuid = v.replace(/\n$/, '').toLowerCase();
  if (!UUID.test(uuid)) throw errnoError('EINVAL', `invalid UUID '${v.trim()}'`);
  const old = (m.state.mdevs ?? []).find((x) => x.uuid === uuid);
  // lab-measured: while the old one's remove waits for qemu, creating its UUID again gives EIO
  if (old?.removing) throw errnoError('EIO', `mdev ${uuid} is still being removed`);
  if (old) throw errnoError('EEXIST', `mdev ${uuid} exists`);
  if (ty.availableInstances <= 0) throw errnoError('ENOSPC', `no instances of ${ty.id} left on ${parent}`);
  (m.state.mdevs ??= []).push({ uuid, parent, type: ty.id, iommuGroup: m.freeGroup() });
  if (!syncPool(m, parent)) ty.availableInstances--;
}

/** bus/mdev/devices/UUID[/ATTR[/FILE]] */
function mdevNode(m: SimModel, s: string[]): Node | undefined {
  // an mdev whose remove waits for qemu has left the bus, and its attributes are gone (device_del)
  const mdev = (m.state.mdevs ?? []).find((x) => x.uuid === s[0] && !x.removing);
  if (!mdev) return undefined;
  if (s.length === 1)
    return { t: 'link', target: `../../../${mdevDevicePath(m, mdev.uuid)}`, to: `sys/bus/mdev/devices/${mdev.uuid}/.` };
  const group = mdevDriverGroup(m, mdev.parent);
  if (group && s[1] === group.name) {
    if (s.length === 2) return dir(() => Object.keys(group.files));
    const f = s.length === 3 ? group.files[s[2]!] : undefined;
    return f ? ro(f(mdev.uuid)) : undefined;
  }
  if (s.length !== 2) return undefined;
  const up = '../'.repeat(mdevDevicePath(m, mdev.uuid).split('/').length);
  switch (s[1]) {
    case '.':
      // as 6.1 lists it: the mdev core's attributes, the driver core's (power, subsystem, uevent),
      // the vfio device (vfio-dev) and the vendor driver's own group (mtty: vendor)
      return dir(() => [
        'driver',
        'iommu_group',
        'mdev_type',
        'power',
        'remove',
        'subsystem',
        'uevent',
        ...(group ? [group.name] : []),
        'vfio-dev',
      ]);
    case 'subsystem':
      return { t: 'link', target: `${up}bus/mdev`, to: 'sys/bus/mdev' };
    case 'uevent':
      // dev_uevent: no device type, no bus uevent for mdev: just the bound driver
      return { t: 'file', get: () => `DRIVER=${mdevDriverOf(m, mdev.parent)}\n`, set: () => {} };
    case 'power':
    case 'vfio-dev':
      return dir(() => []); // their contents (runtime PM, vfioN) are not modelled
    case 'mdev_type':
      return {
        t: 'link',
        target: `../mdev_supported_types/${mdev.type}`,
        to: `sys/class/mdev_bus/${mdev.parent}/mdev_supported_types/${mdev.type}`,
      };
    case 'iommu_group':
      return {
        t: 'link',
        target: `${up}kernel/iommu_groups/${mdev.iommuGroup}`,
        to: `sys/kernel/iommu_groups/${mdev.iommuGroup}`,
      };
    case 'driver':
      // since 5.16 each vendor driver registers its own mdev driver (vfio_mdev is gone): mtty's is `mtty`
      return { t: 'link', target: `${up}bus/mdev/drivers/${mdevDriverOf(m, mdev.parent)}` };
    case 'remove':
      return { t: 'file', set: (v) => removeMdev(m, mdev, v) };
  }
  return undefined;
}

/** remove_store: kstrtoul; only a non-zero value removes. */
function removeMdev(m: SimModel, mdev: SimMdev, v: string): void {
  const t = v.replace(/\n$/, '');
  if (!/^\d+$/.test(t)) throw errnoError('EINVAL', `invalid value '${t}'`);
  if (Number(t) === 0) return;
  // lab-measured: the remove of an mdev qemu holds waits until qemu closes it (its vfio device
  // unregisters only then), like an unbind from vfio-pci; the instance stays taken
  if (mdev.inUse) {
    mdev.removing = true;
    const uuid = mdev.uuid;
    throw new WriteBlocks('held', () => !(m.state.mdevs ?? []).some((x) => x.uuid === uuid));
  }
  dropMdev(m, mdev);
}

/** The mdev is gone: its instance goes back to its type (or its parent's pool). */
export function dropMdev(m: SimModel, mdev: SimMdev): void {
  m.state.mdevs = (m.state.mdevs ?? []).filter((x) => x.uuid !== mdev.uuid);
  if (m.state.mdevs.length === 0) delete m.state.mdevs; // as before the first create: equal hosts stay byte-identical
  if (syncPool(m, mdev.parent)) return;
  const ty =
    m.mdevParent(mdev.parent)?.find((t) => t.id === mdev.type) ??
    m.device(mdev.parent)?.mdevTypes?.find((t) => t.id === mdev.type);
  if (ty) ty.availableInstances++;
}

/** The attribute group the vendor's mdev driver adds to each of its devices (mtty: vendor/sample_mdev_dev). */
function mdevDriverGroup(
  m: SimModel,
  parent: string,
): { name: string; files: Record<string, (uuid: string) => string> } | undefined {
  return mdevDriverOf(m, parent) === 'mtty'
    ? { name: 'vendor', files: { sample_mdev_dev: (uuid) => `This is MDEV ${uuid}\n` } }
    : undefined;
}

/** The mdev driver a parent's vendor driver registers: a non-PCI parent is named after it (mtty), a PCI one's is its host driver. */
function mdevDriverOf(m: SimModel, parent: string): string {
  const d = m.device(parent);
  return d ? (d.nativeDriver ?? d.driver ?? parent) : parent;
}

/**
 * A parent whose types share one pool (mdevCapacity / capacity): recomputes every type's
 * available_instances as floor(free / cost), as mtty (ports), GVT-g (graphics memory) and NVIDIA
 * vGPU (frame buffer) do. False when the parent has no pool (each type keeps its own count).
 */
export function syncPool(m: SimModel, parent: string): boolean {
  const d = m.device(parent);
  const p = d ? undefined : m.state.mdevParents?.find((x) => x.name === parent);
  const capacity = d ? d.mdevCapacity : p?.capacity;
  const types = d ? d.mdevTypes : p?.types;
  if (capacity === undefined || !types) return false;
  const cost = (id: string) => types.find((t) => t.id === id)?.cost ?? 1;
  const used = (m.state.mdevs ?? []).filter((x) => x.parent === parent).reduce((n, x) => n + cost(x.type), 0);
  const free = Math.max(0, capacity - used);
  for (const t of types) t.availableInstances = Math.floor(free / (t.cost ?? 1));
  return true;
}
