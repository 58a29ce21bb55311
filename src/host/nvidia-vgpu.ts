// Reading NVIDIA's vendor-specific VFIO vGPU files of a VF (vGPU 17+ on kernel 6.8+: no mdev; a type
// is chosen per SR-IOV VF through VF/nvidia/current_vgpu_type). Only for VFs the caller names: a
// VF without the nvidia/ directory reads as undefined.
import { layout } from './layout.js';
import { isErrno, type Sysfs } from './sysfs.js';
import type { NvidiaVgpuInfo, VgpuTypeInfo } from './types.js';

const ID_COLON_NAME = /^\s*(\d{1,10})\s*:\s*(\S.*?)\s*$/;
const NAME_THEN_ID = /^\s*(\S.*?)\s+(\d{1,10})\s*$/;

/**
 * The types listed in creatable_vgpu_types. The documented form is `ID : NAME` per line under a
 * header `ID    : vGPU Name`; a `NAME  ID` form seen in some tools' fakes is read too. Lines that
 * name no numeric ID (the header, blanks) are skipped. Sorted by ID, duplicates dropped.
 */
export function parseCreatableVgpuTypes(text: string): VgpuTypeInfo[] {
  const byId = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = ID_COLON_NAME.exec(line);
    const alt = m ? undefined : NAME_THEN_ID.exec(line);
    const id = m ? Number(m[1]) : alt && !alt[1]!.includes(':') ? Number(alt[2]) : undefined;
    const name = m ? m[2]! : alt?.[1];
    if (id === undefined || id === 0 || name === undefined || byId.has(id)) continue;
    byId.set(id, name);
  }
  return [...byId].sort(([a], [b]) => a - b).map(([id, name]) => ({ id, name }));
}

/** current_vgpu_type as a number; NaN-free: anything but digits is an error naming the file. */
export function parseCurrentVgpuType(text: string, where: string): number {
  const t = text.trim();
  if (!/^\d{1,10}$/.test(t))
    throw new Error(`${where}: unexpected content '${t.slice(0, 40)}' (expected a vGPU type ID, 0 = none)`);
  return Number(t);
}

/** The vGPU state of VF `address`, or undefined when it has no nvidia/ vGPU directory. */
export async function readNvidiaVgpu(sysfs: Sysfs, address: string): Promise<NvidiaVgpuInfo | undefined> {
  try {
    const cur = layout.nvidiaVgpuAttr(address, 'current_vgpu_type');
    const [current, creatable] = await Promise.all([
      sysfs.read(cur),
      sysfs.read(layout.nvidiaVgpuAttr(address, 'creatable_vgpu_types')),
    ]);
    return { currentType: parseCurrentVgpuType(current, cur), creatable: parseCreatableVgpuTypes(creatable) };
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
}

/** `1157 (NVIDIA L40S-12Q)`, or just the ID when the name is not known. */
export function describeVgpuType(id: number, known: VgpuTypeInfo[] = []): string {
  const t = known.find((x) => x.id === id);
  return t ? `${id} (${t.name})` : String(id);
}
