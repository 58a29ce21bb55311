// Compares `passthru list --json` (file argv[2]) with what the guest kernel's sysfs says, read here
// independently with plain fs calls. Prints one line per disagreement; exit 1 if any.
// The list's shape is src/host/types.ts: PciDeviceInfo records (as an array, or keyed by address,
// possibly under `devices`), optionally `groups` and `mdevs`.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

const PCI = '/sys/bus/pci/devices';
const hex = (s) => s.trim().replace(/^0x/, '').toLowerCase();
const rd = (p) => readFileSync(p, 'utf8');
const link = (p) => (existsSync(p) ? basename(readlinkSync(p)) : undefined);

const listed = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const rawDevices = Array.isArray(listed) ? listed : (listed.devices ?? listed);
const devices = Array.isArray(rawDevices) ? rawDevices : Object.values(rawDevices);
const byAddr = new Map(devices.map((d) => [d.address, d]));
const problems = [];
const bad = (msg) => problems.push(msg);

const real = readdirSync(PCI).sort();
const listedAddrs = [...byAddr.keys()].sort();
if (real.join(' ') !== listedAddrs.join(' '))
  bad(`device set differs: kernel [${real.join(' ')}], list [${listedAddrs.join(' ')}]`);

for (const a of real) {
  const d = byAddr.get(a);
  if (!d) continue;
  const D = `${PCI}/${a}`;
  const want = {
    vendor: hex(rd(`${D}/vendor`)),
    device: hex(rd(`${D}/device`)),
    class: hex(rd(`${D}/class`)),
    driver: link(`${D}/driver`),
    iommuGroup: existsSync(`${D}/iommu_group`) ? Number(link(`${D}/iommu_group`)) : undefined,
    physfn: link(`${D}/physfn`),
  };
  // the listing spells ids as 'vendor:device' and a VF as vf: { pf, index } (src/host/listing.ts)
  const [idVendor, idDevice] = typeof d.id === 'string' ? d.id.split(':') : [];
  const gotOf = {
    vendor: d.vendor ?? idVendor,
    device: d.device ?? idDevice,
    class: d.class,
    driver: d.driver,
    iommuGroup: d.iommuGroup,
    physfn: d.physfn ?? d.vf?.pf,
  };
  for (const [k, v] of Object.entries(want)) {
    const raw = gotOf[k];
    const got =
      k === 'vendor' || k === 'device' || k === 'class'
        ? raw === undefined
          ? undefined
          : hex(String(raw))
        : (raw ?? undefined);
    if (got !== v) bad(`${a} ${k}: kernel ${JSON.stringify(v)}, list ${JSON.stringify(got)}`);
  }
  // the list reads driver_override (it takes the device lock) only of a device with no driver or on
  // vfio-pci / pci-stub; on a host driver it is left out
  const ov = readFileSync(`${D}/driver_override`, 'utf8');
  const overrideRead = want.driver === undefined || want.driver === 'vfio-pci' || want.driver === 'pci-stub';
  const wantOv = ov === '(null)\n' || !overrideRead ? undefined : ov.trim();
  if ((d.driverOverride ?? undefined) !== wantOv)
    bad(`${a} driverOverride: kernel ${JSON.stringify(ov)}, list ${JSON.stringify(d.driverOverride)}`);
  const isBridge = want.class.startsWith('0604');
  const gotBridge = d.isBridge ?? d.bridge;
  if (gotBridge !== undefined && gotBridge !== isBridge)
    bad(`${a} bridge: kernel class ${want.class}, list ${gotBridge}`);
  if (want.iommuGroup !== undefined && Array.isArray(d.groupPeers)) {
    const peers = readdirSync(`/sys/kernel/iommu_groups/${want.iommuGroup}/devices`)
      .filter((m) => m !== a)
      .sort();
    if (d.groupPeers.slice().sort().join(' ') !== peers.join(' '))
      bad(`${a} groupPeers: kernel [${peers.join(' ')}], list [${d.groupPeers.join(' ')}]`);
  }
  if (d.vf && existsSync(`${D}/physfn`)) {
    const P = `${PCI}/${want.physfn}`;
    const k = readdirSync(P).find((n) => /^virtfn\d+$/.test(n) && link(`${P}/${n}`) === a);
    if (k && d.vf.index !== Number(k.slice(6))) bad(`${a} vf.index: kernel ${k}, list ${d.vf.index}`);
  }
  if (existsSync(`${D}/sriov_totalvfs`)) {
    const s = d.sriov;
    if (!s) bad(`${a}: an SR-IOV PF (sriov_totalvfs ${rd(`${D}/sriov_totalvfs`).trim()}) without sriov in the list`);
    else {
      const vfs = readdirSync(D)
        .filter((n) => /^virtfn\d+$/.test(n))
        .sort((x, y) => Number(x.slice(6)) - Number(y.slice(6)))
        .map((n) => link(`${D}/${n}`));
      const w = {
        totalVfs: Number(rd(`${D}/sriov_totalvfs`)),
        numVfs: Number(rd(`${D}/sriov_numvfs`)),
        offset: Number(rd(`${D}/sriov_offset`)),
        stride: Number(rd(`${D}/sriov_stride`)),
      };
      for (const [k, v] of Object.entries(w))
        if (k in s && s[k] !== v) bad(`${a} sriov.${k}: kernel ${v}, list ${s[k]}`);
      if (!('totalVfs' in s) || !('numVfs' in s)) bad(`${a} sriov: no totalVfs/numVfs in the list`);
      if (s.vfs && s.vfs.join(' ') !== vfs.join(' '))
        bad(`${a} sriov.vfs: kernel [${vfs.join(' ')}], list [${s.vfs.join(' ')}]`);
    }
  }
  const netdevs = existsSync(`${D}/net`) ? readdirSync(`${D}/net`).sort() : [];
  if (d.netdevs && d.netdevs.slice().sort().join(' ') !== netdevs.join(' '))
    bad(`${a} netdevs: kernel [${netdevs.join(' ')}], list [${d.netdevs.join(' ')}]`);
}

if (listed.groups) {
  for (const g of readdirSync('/sys/kernel/iommu_groups')) {
    const members = readdirSync(`/sys/kernel/iommu_groups/${g}/devices`).sort();
    const got = (listed.groups[g] ?? []).slice().sort();
    if (members.join(' ') !== got.join(' ')) bad(`group ${g}: kernel [${members.join(' ')}], list [${got.join(' ')}]`);
  }
}

// mdev types of PCI parents must be listed on their device, those of non-PCI parents (mtty) under
// `mdevParents` by parent name; both with the kernel's available_instances.
if (existsSync('/sys/class/mdev_bus')) {
  for (const parent of readdirSync('/sys/class/mdev_bus')) {
    const pci = existsSync(`${PCI}/${parent}`);
    for (const t of readdirSync(`/sys/class/mdev_bus/${parent}/mdev_supported_types`)) {
      const avail = Number(rd(`/sys/class/mdev_bus/${parent}/mdev_supported_types/${t}/available_instances`));
      if (pci) {
        const types = byAddr.get(parent)?.mdevTypes ?? [];
        const got = types.find((x) => x.id === t);
        if (!got) bad(`mdev type ${t} of ${parent} is not listed on that device`);
        else if (got.availableInstances !== avail)
          bad(`mdev type ${t} of ${parent}: kernel available_instances ${avail}, list ${got.availableInstances}`);
      } else {
        const got = (listed.mdevParents ?? []).find((p) => p.name === parent)?.types?.find((x) => x.id === t);
        if (!got) bad(`mdev type ${t} of the non-PCI parent ${parent} is not listed under mdevParents`);
        else if (got.availableInstances !== avail)
          bad(`mdev type ${t} of ${parent}: kernel available_instances ${avail}, list ${got.availableInstances}`);
      }
    }
  }
}

for (const p of problems) console.log(p);
console.log(`${problems.length} disagreement(s) over ${real.length} devices`);
process.exit(problems.length ? 1 : 0);
