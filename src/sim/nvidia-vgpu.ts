// NVIDIA's vendor-specific VFIO vGPU interface (vGPU 17+, Ada/Hopper/Blackwell, kernel 6.8+), as the
// simulator models it. No such hardware was at hand: this follows NVIDIA's documented procedure and
// what public tools that drive it rely on (test/lab/FINDINGS.md, "NVIDIA vendor-specific VFIO vGPU").
//  - Only VFs of a PF in vGPU mode, while bound to the `nvidia` driver, have VF/nvidia/ with
//    creatable_vgpu_types (read-only) and current_vgpu_type (read/write). The PF has no nvidia/ dir.
//  - creatable_vgpu_types: a header line `ID    : vGPU Name`, then one `ID    : NAME` line per type
//    that can be created on this VF now: none on a VF that already has a vGPU, none when the GPU's
//    framebuffer is used up, and (mixed mode off) only types of the framebuffer size of the vGPUs the
//    GPU already hosts.
//  - current_vgpu_type: the type ID, 0 = no vGPU. Writing an ID creates the vGPU (EINVAL when the type
//    is not creatable there, EBUSY over another vGPU); writing 0 destroys it (EBUSY while a VM holds
//    the VF; a no-op on a VF without one). Which errno the real driver returns is assumed, not measured.
import { errnoError } from '../host/sysfs.js';
import type { SimDevice, SimVgpuType } from './state.js';

export const NVIDIA_VGPU_FILES = ['creatable_vgpu_types', 'current_vgpu_type'] as const;
/** The header line the driver prints above the list (kept even when the list is empty). */
export const CREATABLE_HEADER = 'ID    : vGPU Name';

/** The driver a VF must be bound to for its nvidia/ directory to exist. */
const VENDOR_DRIVER = 'nvidia';

/** Whether VF `vf` of `pf` shows the nvidia/ vGPU directory now. */
export function hasVgpuDir(pf: SimDevice | undefined, vf: SimDevice): boolean {
  return !!pf?.nvidiaVgpu && vf.physfn === pf.address && vf.driver === VENDOR_DRIVER;
}

/** Types that can be created on `vf` now, given the vGPUs its siblings (all VFs of the PF) hold. */
export function creatableTypes(pf: SimDevice, vfs: SimDevice[], vf: SimDevice): SimVgpuType[] {
  const model = pf.nvidiaVgpu!;
  if (vf.vgpuType) return [];
  const existing = vfs
    .flatMap((v) => (v.vgpuType ? [model.types.find((t) => t.id === v.vgpuType)] : []))
    .filter((t): t is SimVgpuType => !!t);
  const used = existing.reduce((sum, t) => sum + t.framebufferMb, 0);
  const sizes = new Set(existing.map((t) => t.framebufferMb));
  return model.types.filter(
    (t) =>
      used + t.framebufferMb <= model.framebufferMb &&
      (model.mixedMode || sizes.size === 0 || sizes.has(t.framebufferMb)),
  );
}

export function formatCreatable(types: SimVgpuType[]): string {
  return [CREATABLE_HEADER, ...types.map((t) => `${String(t.id).padEnd(6)}: ${t.name}`)].map((l) => `${l}\n`).join('');
}

/** A write to VF/nvidia/current_vgpu_type; throws an errno error and changes nothing when refused. */
export function writeCurrentType(pf: SimDevice, vfs: SimDevice[], vf: SimDevice, data: string): void {
  const text = data.replace(/\n$/, '');
  if (!/^\d{1,10}$/.test(text)) throw errnoError('EINVAL', `invalid vGPU type '${text}'`);
  const id = Number(text);
  const cur = vf.vgpuType ?? 0;
  if (id === 0) {
    if (cur === 0) return;
    if (vf.inUse) throw errnoError('EBUSY', `vGPU on ${vf.address} is in use by a VM`);
    delete vf.vgpuType; // absent = 0: a VF back at 0 is byte-identical to one never used
    return;
  }
  if (cur !== 0) throw errnoError('EBUSY', `${vf.address} already has vGPU type ${cur}; write 0 first`);
  if (!creatableTypes(pf, vfs, vf).some((t) => t.id === id))
    throw errnoError('EINVAL', `vGPU type ${id} is not creatable on ${vf.address}`);
  vf.vgpuType = id;
}
