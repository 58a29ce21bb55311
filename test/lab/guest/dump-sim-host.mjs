// Writes the lab guest's host, as the real kernel shows it, in the simulator's host format
// (src/sim/state.ts SimHostState), so the simulator can load the very host the lab booted and replay
// the recorded kernel facts (facts.jsonl) against it. Reads sysfs with plain fs calls.
//   node dump-sim-host.mjs > lab-host.sim.json
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, dirname } from 'node:path';

const PCI = '/sys/bus/pci/devices';
const rd = (p) => readFileSync(p, 'utf8').trim();
const hex = (p) => rd(p).replace(/^0x/, '').toLowerCase();
const link = (p) => (existsSync(p) ? basename(readlinkSync(p)) : undefined);
const num = (p) => Number(rd(p));

const devices = [];
for (const a of readdirSync(PCI).sort()) {
  const D = `${PCI}/${a}`;
  const d = { address: a, vendor: hex(`${D}/vendor`), device: hex(`${D}/device`), class: hex(`${D}/class`) };
  d.subsystemVendor = hex(`${D}/subsystem_vendor`);
  d.subsystemDevice = hex(`${D}/subsystem_device`);
  const drv = link(`${D}/driver`);
  if (drv) {
    d.driver = drv;
    d.nativeDriver = drv;
  }
  const ov = readFileSync(`${D}/driver_override`, 'utf8');
  if (ov !== '(null)\n') d.driverOverride = ov.trim();
  if (existsSync(`${D}/iommu_group`)) d.iommuGroup = Number(link(`${D}/iommu_group`));
  if (existsSync(`${D}/net`)) {
    const n = readdirSync(`${D}/net`);
    if (n.length) d.netdev = n[0];
  }
  // the real upstream device from the canonical path: /sys/devices/pci0000:00/0000:00:11.0/0000:02:00.0/0000:03:01.0
  const up = basename(dirname(readlinkSync(D)));
  if (/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(up)) d.parent = up;
  if (existsSync(`${D}/boot_vga`)) d.bootVga = rd(`${D}/boot_vga`) === '1';
  if (existsSync(`${D}/sriov_totalvfs`)) {
    d.sriov = {
      totalVfs: num(`${D}/sriov_totalvfs`),
      numVfs: num(`${D}/sriov_numvfs`),
      offset: num(`${D}/sriov_offset`),
      stride: num(`${D}/sriov_stride`),
      vfDevice: rd(`${D}/sriov_vf_device`).toLowerCase().padStart(4, '0'),
    };
  }
  if (existsSync(`${D}/physfn`)) {
    d.physfn = link(`${D}/physfn`);
    const P = `${PCI}/${d.physfn}`;
    const k = readdirSync(P).find((n) => /^virtfn\d+$/.test(n) && link(`${P}/${n}`) === a);
    if (k) d.vfIndex = Number(k.slice(6));
  }
  devices.push(d);
}

const mdevParents = [];
if (existsSync('/sys/class/mdev_bus')) {
  for (const p of readdirSync('/sys/class/mdev_bus').sort()) {
    const T = `/sys/class/mdev_bus/${p}/mdev_supported_types`;
    const types = readdirSync(T)
      .sort()
      .map((id) => {
        const t = { id, availableInstances: num(`${T}/${id}/available_instances`) };
        if (existsSync(`${T}/${id}/name`)) t.name = rd(`${T}/${id}/name`);
        if (existsSync(`${T}/${id}/description`)) t.description = rd(`${T}/${id}/description`);
        if (existsSync(`${T}/${id}/device_api`)) t.deviceApi = rd(`${T}/${id}/device_api`);
        return t;
      });
    const parent = { name: p, types };
    // sysfs shows no pools; the mtty sample's is in its source (MAX_MTTYS ports, mtty-N takes N), so
    // with no mdev yet its capacity is what mtty-1 offers
    if (p === 'mtty' && !readdirSync(T).some((id) => readdirSync(`${T}/${id}/devices`).length)) {
      for (const t of types) t.cost = Number(t.id.slice('mtty-'.length));
      parent.capacity = types.find((t) => t.id === 'mtty-1')?.availableInstances;
    }
    mdevParents.push(parent);
  }
}

const host = {
  kernel: rd('/proc/sys/kernel/osrelease'),
  cmdline: rd('/proc/cmdline'),
  modules: readFileSync('/proc/modules', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[0])
    .sort(),
  devices,
  mdevParents,
  mdevs: [],
};
process.stdout.write(`${JSON.stringify(host, null, 1)}\n`);
