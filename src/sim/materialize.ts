// Writes a simulated host out as a real directory tree with sysfs's files and symlinks (device
// directories under sys/devices/pci…, the bus/class/kernel views as symlinks into them, relative
// link targets exactly as the kernel spells them), so NodeSysfs is tested on the real layout. The
// tree is a snapshot: writing to it changes files, not "devices".
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isErrno } from '../host/sysfs.js';
import { layout } from '../host/layout.js';
import type { SimKernel } from './kernel.js';

const LINK_ATTRS = /^(driver|iommu_group|physfn|virtfn\d+)$/;

async function put(dir: string, rel: string, content: string): Promise<void> {
  const p = join(dir, rel);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, content);
}
async function link(dir: string, rel: string, target: string): Promise<void> {
  const p = join(dir, rel);
  await mkdir(dirname(p), { recursive: true });
  await symlink(target, p);
}
async function readOr(k: SimKernel, path: string): Promise<string> {
  try {
    return await k.read(path);
  } catch (err) {
    if (isErrno(err, 'EACCES')) return ''; // write-only attribute (bind, create, …)
    throw err;
  }
}

async function mdevTypesDir(k: SimKernel, dir: string, parent: string, realDir: string): Promise<void> {
  for (const t of await k.list(layout.mdevTypes(parent))) {
    const src = layout.mdevType(parent, t);
    for (const f of await k.list(src)) {
      if (f === 'devices') {
        await mkdir(join(dir, realDir, 'mdev_supported_types', t, 'devices'), { recursive: true });
        for (const u of await k.list(`${src}/devices`))
          await link(dir, `${realDir}/mdev_supported_types/${t}/devices/${u}`, await k.readlink(`${src}/devices/${u}`));
      } else await put(dir, `${realDir}/mdev_supported_types/${t}/${f}`, await readOr(k, `${src}/${f}`));
    }
  }
}

export async function materialize(k: SimKernel, dir: string): Promise<void> {
  for (const d of k.state.devices) {
    const a = d.address;
    const devDir = `sys/${k.pciPath(d)}`;
    const view = layout.pciDevice(a);
    for (const e of await k.list(view)) {
      const p = `${view}/${e}`;
      if (LINK_ATTRS.test(e)) await link(dir, `${devDir}/${e}`, await k.readlink(p));
      else if (e === 'net') {
        for (const ifname of await k.list(p)) {
          for (const f of ['address', 'operstate'])
            await put(dir, `${devDir}/net/${ifname}/${f}`, await k.read(`${p}/${ifname}/${f}`));
          await link(dir, `${devDir}/net/${ifname}/device`, await k.readlink(`${p}/${ifname}/device`));
        }
      } else if (e === 'mdev_supported_types') await mdevTypesDir(k, dir, a, devDir);
      else if (e === 'nvidia')
        for (const f of await k.list(p)) await put(dir, `${devDir}/nvidia/${f}`, await k.read(`${p}/${f}`)); // NVIDIA vGPU VF
      else await put(dir, `${devDir}/${e}`, await readOr(k, p));
    }
    await link(dir, view, await k.readlink(view));
  }
  await put(dir, layout.driversProbe, '');
  for (const drv of await k.list(layout.pciDrivers)) {
    for (const e of await k.list(layout.pciDriver(drv))) {
      const p = `${layout.pciDriver(drv)}/${e}`;
      if (e === 'module' || /^[0-9a-f]{4}:/.test(e)) await link(dir, p, await k.readlink(p));
      else await put(dir, p, '');
    }
  }
  for (const g of await k.list(layout.iommuGroups)) {
    await put(dir, `${layout.iommuGroups}/${g}/type`, await k.read(`${layout.iommuGroups}/${g}/type`));
    for (const m of await k.list(layout.iommuGroupDevices(Number(g))))
      await link(
        dir,
        `${layout.iommuGroupDevices(Number(g))}/${m}`,
        await k.readlink(`${layout.iommuGroupDevices(Number(g))}/${m}`),
      );
  }
  for (const n of await k.list(layout.netClass))
    await link(dir, `${layout.netClass}/${n}`, await k.readlink(`${layout.netClass}/${n}`));
  for (const b of await k.list(layout.blockClass))
    await link(dir, `${layout.blockClass}/${b}`, await k.readlink(`${layout.blockClass}/${b}`));
  for (const p of await k.list(layout.mdevBus)) {
    const target = await k.readlink(`${layout.mdevBus}/${p}`);
    await link(dir, `${layout.mdevBus}/${p}`, target);
    if (!k.device(p)) await mdevTypesDir(k, dir, p, `sys/${target.replace(/^(\.\.\/)+/, '')}`);
  }
  await mkdir(join(dir, layout.mdevDevices), { recursive: true });
  for (const u of await k.list(layout.mdevDevices)) {
    const target = await k.readlink(layout.mdevDevice(u));
    const mdevDir = `sys/${target.replace(/^(\.\.\/)+/, '')}`;
    for (const e of ['mdev_type', 'iommu_group', 'driver'])
      await link(dir, `${mdevDir}/${e}`, await k.readlink(`${layout.mdevDevice(u)}/${e}`));
    await put(dir, `${mdevDir}/remove`, '');
    await link(dir, layout.mdevDevice(u), target);
  }
  for (const f of ['proc/cmdline', 'proc/modules', 'proc/mounts', 'proc/net/route', layout.kernelRelease])
    await put(dir, f, await k.read(f));
  await mkdir(join(dir, layout.vfioDevDir), { recursive: true });
  for (const v of await k.list(layout.vfioDevDir)) await put(dir, `${layout.vfioDevDir}/${v}`, '');
  for (const [f, content] of Object.entries(k.state.files ?? {})) await put(dir, f, content);
  if (k.state.dmesg) await put(dir, 'var/log/dmesg', await k.read('var/log/dmesg'));
}
