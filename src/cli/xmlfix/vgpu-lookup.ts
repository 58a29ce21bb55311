// Which VF and which type ID `xmlfix --add-vgpu` writes (NVIDIA vGPU 17+, vendor-specific VFIO): read
// from the host's VF/nvidia/{current,creatable}_vgpu_type, for the VF named or the VFs of the PF named.
import { InputError } from '../../errors.js';
import { formatPciAddress, parsePciAddress, printable, samePciAddress, type PciAddress } from '../../pci/address.js';
import { layout } from '../../host/layout.js';
import { readNvidiaVgpu } from '../../host/nvidia-vgpu.js';
import type { Sysfs } from '../../host/sysfs.js';
import type { VgpuTypeInfo } from '../../host/types.js';

const resolve = (type: string, creatable: VgpuTypeInfo[]): number | undefined =>
  /^[0-9]+$/.test(type) ? Number(type) : creatable.find((t) => t.name === type)?.id;
const listTypes = (types: VgpuTypeInfo[]): string =>
  types.length ? types.map((t) => `${t.id} (${t.name})`).join(', ') : 'none';
const shown = (type: string): string => (/^[0-9]+$/.test(type) ? type : `'${printable(type)}'`);

export async function vgpuTarget(
  sysfs: Sysfs,
  address: PciAddress,
  type: string,
  taken: PciAddress[],
): Promise<{ vf: PciAddress; type: number }> {
  const a = formatPciAddress(address);
  if (!(await sysfs.exists(layout.pciDevice(a)))) throw new InputError(`--add-vgpu: no PCI device ${a} on this host`);
  const own = await readNvidiaVgpu(sysfs, a);
  if (own) {
    const id = resolve(type, own.creatable);
    if (id !== undefined && own.currentType === id) return { vf: address, type: id };
    if (own.currentType !== 0)
      throw new InputError(
        `--add-vgpu: ${a} already has vGPU type ${own.currentType}${id === undefined ? ` (a profile name cannot be checked against it: give the type ID)` : ''}`,
      );
    if (id === undefined || !own.creatable.some((t) => t.id === id))
      throw new InputError(
        `--add-vgpu: vGPU type ${shown(type)} is not creatable on ${a}; creatable: ${listTypes(own.creatable)}`,
      );
    return { vf: address, type: id };
  }
  // a PF: the first of its VFs, not in the domain yet, with no vGPU, that can take the type
  const links = (await sysfs.list(layout.pciDevice(a)))
    .filter((e) => /^virtfn\d+$/.test(e))
    .sort((x, y) => Number(x.slice(6)) - Number(y.slice(6)));
  if (links.length === 0)
    throw new InputError(
      `--add-vgpu: ${a} has no NVIDIA vGPU interface: neither a VF with nvidia/current_vgpu_type nor a PF with VFs (for an NVIDIA GPU in vGPU mode: /usr/lib/nvidia/sriov-manage -e ${a})`,
    );
  const seen = new Map<number, VgpuTypeInfo>();
  let withInterface = 0;
  for (const l of links) {
    const vf = parsePciAddress((await sysfs.readlink(layout.pciAttr(a, l))).split('/').pop()!);
    const info = await readNvidiaVgpu(sysfs, formatPciAddress(vf));
    if (!info) continue;
    withInterface++;
    if (info.currentType !== 0 || taken.some((t) => samePciAddress(t, vf))) continue;
    for (const t of info.creatable) seen.set(t.id, t);
    const id = resolve(type, info.creatable);
    if (id !== undefined && info.creatable.some((t) => t.id === id)) return { vf, type: id };
  }
  if (withInterface === 0)
    throw new InputError(
      `--add-vgpu: the VFs of ${a} have no NVIDIA vGPU interface (nvidia/current_vgpu_type): is it an NVIDIA GPU in vGPU mode, its VFs on the nvidia driver?`,
    );
  const creatable = [...seen.values()].sort((x, y) => x.id - y.id);
  throw new InputError(
    `--add-vgpu: no free VF of ${a} can take vGPU type ${shown(type)}; creatable on its free VFs: ${listTypes(creatable)}`,
  );
}
