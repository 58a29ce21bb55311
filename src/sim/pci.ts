// PCI devices and their drivers in the simulator: a device's attributes, driver_override, bind and
// unbind, drivers_probe, new_id/remove_id, with the driver core's rules (drivers/base/bus.c,
// drivers/pci/pci-driver.c, pci-sysfs.c). SR-IOV's attributes and rules are in sriov.ts.
import { errnoError } from '../host/sysfs.js';
import { lockedByKernel, type SimModel, WriteBlocks } from './model.js';
import { creatableTypes, formatCreatable, hasVgpuDir, NVIDIA_VGPU_FILES, writeCurrentType } from './nvidia-vgpu.js';
import { powerEntries, powerNode } from './power.js';
import { RESOURCE_ATTRS, resourceNode } from './resources.js';
import { disableSriov, leavingPf, sriovEntries, sriovNode } from './sriov.js';
import type { SimDevice } from './state.js';
import { dir, type Node, netAttr, ro } from './tree.js';
import { pciUevent } from './uevent.js';

const hex0x = (v: string): string => `0x${v.toLowerCase()}\n`;

function idMatches(m: SimModel, d: SimDevice, drv: string): boolean {
  return (m.state.dynamicIds?.[drv] ?? []).includes(`${d.vendor} ${d.device}`);
}

/** pci_bus_match: an override names the only driver that may bind; else id tables and dynamic ids. */
function matches(m: SimModel, d: SimDevice, drv: string): boolean {
  if (d.driverOverride !== undefined) return d.driverOverride === drv;
  return d.nativeDriver === drv || idMatches(m, d, drv);
}

/** device_attach on an unbound device. */
export function probe(m: SimModel, d: SimDevice): void {
  if (d.driver) return;
  const loaded = m.loadedDrivers();
  if (d.driverOverride !== undefined) {
    // override to a driver that is not loaded, or whose probe fails: the write succeeds, the device stays unbound
    if (loaded.has(d.driverOverride)) bind(d, d.driverOverride);
    return;
  }
  if (d.nativeDriver && loaded.has(d.nativeDriver)) {
    bind(d, d.nativeDriver);
    return;
  }
  for (const drv of [...loaded].sort()) if (idMatches(m, d, drv)) return void bind(d, drv);
}

/** A write to bus/pci/drivers_probe. */
export function probeWrite(m: SimModel, address: string): void {
  probe(m, m.named(address));
}

/** really_probe: binds unless the driver's probe fails; false when it failed (the device stays unbound). */
function bind(d: SimDevice, drv: string): boolean {
  // vfio_pci_core_register_device: "Cannot bind to PF with SR-IOV enabled" (-EBUSY)
  if (drv === 'vfio-pci' && (d.sriov?.numVfs ?? 0) > 0) return false;
  d.driver = drv;
  return true;
}

function unbind(m: SimModel, d: SimDevice): void {
  const address = d.address;
  const unbound = () => !m.device(address)?.unbinding;
  // a second unbind waits for the device lock the first one holds, then finds nothing to do
  if (d.unbinding) throw new WriteBlocks('held', unbound);
  // device_release_driver takes the device lock an SR-IOV disable holds, then runs as usual
  if (d.sriov?.disablingAt !== undefined) throw new WriteBlocks('retry');
  // vfio-pci's remove waits until qemu closes the device (vfio_unregister_group_dev) and the write
  // blocks until then; sysfs already shows no driver (driver_sysfs_remove runs first)
  if (d.driver === 'vfio-pci' && d.inUse) {
    d.unbinding = true;
    throw new WriteBlocks('held', unbound);
  }
  detach(m, d);
}

/** The driver's remove has run: whether a PF's VFs go with it is its driver's choice. */
export function detach(m: SimModel, d: SimDevice): void {
  // the PCI core leaves SR-IOV enabled ("driver left SR-IOV enabled after remove", nvme); igb, i40e,
  // mlx5_core disable it in their remove. vfio-pci never has VFs to drop: it refuses a PF with VFs.
  if (d.sriov && d.sriov.numVfs > 0 && d.sriov.disableOnUnbind && d.driver === d.nativeDriver) {
    // the remove runs with the driver link gone already; a VF qemu holds stops it there (unbinding)
    d.unbinding = true;
    disableSriov(m, d);
    delete d.unbinding;
  }
  delete d.driver;
}

/** bus/pci/devices/D[/ATTR[/…]] */
export function pciDeviceNode(m: SimModel, s: string[]): Node | undefined {
  const dv = m.device(s[0]!);
  if (!dv) return undefined;
  if (s.length === 1)
    return { t: 'link', target: `../../../${m.pciPath(dv)}`, to: `sys/bus/pci/devices/${dv.address}/.` };
  const attr = s[1]!;
  const rest = s.slice(2);
  if (attr === '.' && rest.length === 0) return dir(() => pciEntries(m, dv));
  if (attr === 'nvidia') return nvidiaVgpuNode(m, dv, rest);
  if (rest.length > 0) {
    if (attr === 'net' && rest.length === 1 && m.netdevOf(dv) === rest[0])
      return dir(() => ['address', 'device', 'operstate']);
    if (attr === 'net' && rest.length === 2 && m.netdevOf(dv) === rest[0]) return netAttr(dv, rest[1]!);
    return undefined;
  }
  const upToSys = () => '../'.repeat(m.pciPath(dv).split('/').length);
  switch (attr) {
    case 'vendor':
      return ro(hex0x(dv.vendor.padStart(4, '0')));
    case 'device':
      return ro(hex0x(dv.device.padStart(4, '0')));
    case 'class':
      return ro(hex0x(dv.class.padStart(6, '0')));
    case 'subsystem_vendor':
      return ro(hex0x((dv.subsystemVendor ?? dv.vendor).padStart(4, '0')));
    case 'subsystem_device':
      return ro(hex0x((dv.subsystemDevice ?? '0000').padStart(4, '0')));
    case 'uevent':
      return ro(pciUevent(dv));
    case 'driver_override':
      return {
        t: 'file',
        get: () => `${dv.driverOverride ?? '(null)'}\n`,
        set: (v) => {
          // driver_set_override: an empty write changes nothing; the text up to the first newline is kept
          if (v.length === 0) return;
          if (v.length >= 4096) throw errnoError('EINVAL', 'override too long');
          const name = v.split('\n')[0]!;
          if (name === '') delete dv.driverOverride;
          else dv.driverOverride = name;
        },
      };
    case 'driver':
      return dv.driver && !dv.unbinding
        ? { t: 'link', target: `${upToSys()}bus/pci/drivers/${dv.driver}`, to: `sys/bus/pci/drivers/${dv.driver}` }
        : undefined;
    case 'iommu_group':
      return dv.iommuGroup !== undefined
        ? {
            t: 'link',
            target: `${upToSys()}kernel/iommu_groups/${dv.iommuGroup}`,
            to: `sys/kernel/iommu_groups/${dv.iommuGroup}`,
          }
        : undefined;
    case 'boot_vga':
      return dv.class.startsWith('03') ? ro(dv.bootVga ? '1\n' : '0\n') : undefined;
    case 'physfn':
      return dv.physfn && !leavingPf(m, dv)
        ? { t: 'link', target: `../${dv.physfn}`, to: `sys/bus/pci/devices/${dv.physfn}` }
        : undefined;
    case 'net':
      return m.netdevOf(dv) ? dir(() => [m.netdevOf(dv)!]) : undefined;
    case 'mdev_supported_types':
      return m.mdevParent(dv.address)
        ? { t: 'link', target: '.', to: `sys/class/mdev_bus/${dv.address}/mdev_supported_types` }
        : undefined;
    case 'reset_method':
    case 'd3cold_allowed':
      return powerNode(dv, attr);
    case 'resource':
    case 'numa_node':
    case 'local_cpulist':
      return resourceNode(dv, attr, m.state);
  }
  return sriovNode(m, dv, attr);
}

function pciEntries(m: SimModel, dv: SimDevice): string[] {
  const e = ['class', 'device', 'driver_override', 'subsystem_device', 'subsystem_vendor', 'uevent', 'vendor'];
  e.push(...powerEntries(dv), ...RESOURCE_ATTRS);
  if (dv.driver && !dv.unbinding) e.push('driver');
  if (dv.iommuGroup !== undefined) e.push('iommu_group');
  if (dv.class.startsWith('03')) e.push('boot_vga');
  if (dv.physfn && !leavingPf(m, dv)) e.push('physfn');
  if (m.netdevOf(dv)) e.push('net');
  if (m.mdevParent(dv.address)) e.push('mdev_supported_types');
  if (hasVgpuDir(dv.physfn ? m.device(dv.physfn) : undefined, dv)) e.push('nvidia');
  return [...e, ...sriovEntries(m, dv)];
}

/** VF/nvidia/ of NVIDIA's vendor-specific VFIO vGPU model (semantics in src/sim/nvidia-vgpu.ts). */
function nvidiaVgpuNode(m: SimModel, vf: SimDevice, rest: string[]): Node | undefined {
  const pf = vf.physfn ? m.device(vf.physfn) : undefined;
  if (!pf || !hasVgpuDir(pf, vf)) return undefined;
  if (rest.length === 0) return dir(() => [...NVIDIA_VGPU_FILES]);
  if (rest.length !== 1) return undefined;
  const siblings = () => m.vfsOf(pf);
  if (rest[0] === 'creatable_vgpu_types')
    return { t: 'file', get: () => formatCreatable(creatableTypes(pf, siblings(), vf)) };
  if (rest[0] === 'current_vgpu_type')
    return { t: 'file', get: () => `${vf.vgpuType ?? 0}\n`, set: (v) => writeCurrentType(pf, siblings(), vf, v) };
  return undefined;
}

/** bus/pci/drivers/DRV[/ATTR] */
export function driverNode(m: SimModel, s: string[]): Node | undefined {
  const drv = s[0]!;
  if (!m.loadedDrivers().has(drv)) return undefined;
  // a device whose unbind waits for qemu has left the driver's directory already
  const bound = () => m.state.devices.filter((d) => d.driver === drv && !d.unbinding).map((d) => d.address);
  if (s.length === 1) return dir(() => ['bind', 'module', 'new_id', 'remove_id', 'uevent', 'unbind', ...bound()]);
  if (s.length !== 2) return undefined;
  switch (s[1]) {
    case 'bind':
      return {
        t: 'file',
        set: (v) => {
          // bind_store: the device must match the driver (override or ids), else ENODEV; bound already: EBUSY
          const d = m.named(v);
          if (!matches(m, d, drv)) throw errnoError('ENODEV', `${drv} does not match ${d.address}`);
          if (lockedByKernel(d)) throw new WriteBlocks('retry'); // device_driver_attach takes the device lock
          if (d.driver) throw errnoError('EBUSY', `${d.address} is bound to ${d.driver}`);
          if (!bind(d, drv)) throw errnoError('EBUSY', `${drv}: probe of ${d.address} failed (PF with SR-IOV enabled)`);
        },
      };
    case 'unbind':
      return {
        t: 'file',
        set: (v) => {
          const d = m.named(v);
          if (d.driver !== drv) throw errnoError('ENODEV', `${d.address} is not bound to ${drv}`);
          unbind(m, d);
        },
      };
    case 'new_id':
    case 'remove_id':
      return { t: 'file', set: (v) => writeDynamicId(m, drv, s[1] === 'new_id', v) };
    case 'module':
      return { t: 'link', target: `../../../../module/${drv.replace(/-/g, '_')}` };
    case 'uevent':
      return { t: 'file', set: () => {} };
  }
  const d = m.device(s[1]!);
  return d && d.driver === drv && !d.unbinding
    ? { t: 'link', target: `../../../../${m.pciPath(d)}`, to: `sys/bus/pci/devices/${d.address}` }
    : undefined;
}

/** A write to DRV/new_id (add) or DRV/remove_id: 'vendor device' in hex. */
function writeDynamicId(m: SimModel, drv: string, add: boolean, v: string): void {
  const f = v.trim().split(/\s+/);
  if (f.length < 2 || !f.slice(0, 2).every((x) => /^(0x)?[0-9a-f]{1,4}$/i.test(x)))
    throw errnoError('EINVAL', `expected 'vendor device' in hex, got '${v.trim()}'`);
  const id = f
    .slice(0, 2)
    .map((x) => x.replace(/^0x/i, '').toLowerCase().padStart(4, '0'))
    .join(' ');
  const ids = ((m.state.dynamicIds ??= {})[drv] ??= []);
  if (add) {
    if (ids.includes(id)) throw errnoError('EEXIST', `${drv} already has id ${id}`);
    ids.push(id);
    ids.sort();
    // pci_add_dynid then driver_attach: every unbound matching device gets probed
    for (const d of m.state.devices) if (!d.driver && matches(m, d, drv)) bind(d, drv);
  } else {
    if (!ids.includes(id)) throw errnoError('ENODEV', `${drv} has no dynamic id ${id}`);
    ids.splice(ids.indexOf(id), 1);
    if (ids.length === 0) delete m.state.dynamicIds![drv];
    if (Object.keys(m.state.dynamicIds!).length === 0) delete m.state.dynamicIds;
  }
}
