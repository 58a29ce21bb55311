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
const rawDevices = Array.isArray(listed) ? listed : listed.devices ?? listed;
const devices = Array.isArray(rawDevices) ? rawDevices : Object.values(rawDevices);
const byAddr = new Map(devices.map((d) => [d.address, d]));
const problems = [];
const bad = (msg) => problems.push(msg);

const real = readdirSync(PCI).sort();
const listedAddrs = [...byAddr.keys()].sort();
if (real.join(' ') !== listedAddrs.join(' ')) bad(`device set differs: kernel [${real.join(' ')}], list [${listedAddrs.join(' ')}]`);

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
  for (const [k, v] of Object.entries(want)) {
    const got = k === 'vendor' || k === 'device' || k === 'class' ? (d[k] === undefined ? undefined : hex(String(d[k]))) : d[k] ?? undefined;
    if (got !== v) bad(`${a} ${k}: kernel ${JSON.stringify(v)}, list ${JSON.stringify(got)}`);
  }
  const isBridge = want.class.startsWith('0604');
  if (d.isBridge !== undefined && d.isBridge !== isBridge) bad(`${a} isBridge: kernel class ${want.class}, list ${d.isBridge}`);
  if (existsSync(`${D}/sriov_totalvfs`)) {
    const s = d.sriov;
    if (!s) bad(`${a}: an SR-IOV PF (sriov_totalvfs ${rd(`${D}/sriov_totalvfs`).trim()}) without sriov in the list`);
    else {
      const vfs = readdirSync(D).filter((n) => /^virtfn\d+$/.test(n)).sort((x, y) => Number(x.slice(6)) - Number(y.slice(6))).map((n) => link(`${D}/${n}`));
      const w = { totalVfs: Number(rd(`${D}/sriov_totalvfs`)), numVfs: Number(rd(`${D}/sriov_numvfs`)), offset: Number(rd(`${D}/sriov_offset`)), stride: Number(rd(`${D}/sriov_stride`)) };
      for (const [k, v] of Object.entries(w)) if (s[k] !== v) bad(`${a} sriov.${k}: kernel ${v}, list ${s[k]}`);
      if (s.vfs && s.vfs.join(' ') !== vfs.join(' ')) bad(`${a} sriov.vfs: kernel [${vfs.join(' ')}], list [${s.vfs.join(' ')}]`);
    }
  }
  const netdevs = existsSync(`${D}/net`) ? readdirSync(`${D}/net`).sort() : [];
  if (d.netdevs && d.netdevs.slice().sort().join(' ') !== netdevs.join(' ')) bad(`${a} netdevs: kernel [${netdevs.join(' ')}], list [${d.netdevs.join(' ')}]`);
}

if (listed.groups) {
  for (const g of readdirSync('/sys/kernel/iommu_groups')) {
    const members = readdirSync(`/sys/kernel/iommu_groups/${g}/devices`).sort();
    const got = (listed.groups[g] ?? []).slice().sort();
    if (members.join(' ') !== got.join(' ')) bad(`group ${g}: kernel [${members.join(' ')}], list [${got.join(' ')}]`);
  }
}

// mdev types and parents: /sys/class/mdev_bus/PARENT, PARENT not necessarily a PCI device (mtty).
if (existsSync('/sys/class/mdev_bus')) {
  const text = JSON.stringify(listed);
  for (const parent of readdirSync('/sys/class/mdev_bus')) {
    for (const t of readdirSync(`/sys/class/mdev_bus/${parent}/mdev_supported_types`)) {
      if (!text.includes(`"${t}"`)) bad(`mdev type ${t} of parent ${parent} is not in the list`);
    }
  }
}

for (const p of problems) console.log(p);
console.log(`${problems.length} disagreement(s) over ${real.length} devices`);
process.exit(problems.length ? 1 : 0);
