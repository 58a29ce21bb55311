// The vgpu-type operation: NVIDIA's per-VF vGPU type (VF/nvidia/current_vgpu_type, vGPU 17+), read,
// compared, then written, each access bounded like every other operation.
import { layout } from '../host/layout.js';
import { isErrno } from '../host/sysfs.js';
import { parseCurrentVgpuType } from '../host/nvidia-vgpu.js';
import type { Op } from '../plan/types.js';
import { bounded } from '../host/bounded.js';
import type { HostAccess } from './ops.js';

type VgpuOp = Extract<Op, { op: 'vgpu-type' }>;

/** Returns whether it wrote; see the Op's description for when it writes, skips or fails. */
export async function applyVgpuType(h: HostAccess, o: VgpuOp): Promise<boolean> {
  const path = layout.nvidiaVgpuAttr(o.vf, 'current_vgpu_type');
  let text: string;
  try {
    text = await bounded(`reading ${path}`, h.timeoutMs, h.sysfs.read(path));
  } catch (err) {
    // the VF (or its nvidia/ dir) is gone, and its vGPU with it: nothing left to destroy
    if (o.type === 0 && isErrno(err, 'ENOENT')) return false;
    throw err;
  }
  const cur = parseCurrentVgpuType(text, path);
  if (cur === o.type) return false;
  if (cur !== o.from) {
    if (o.type === 0) return false; // someone else's vGPU now: never destroyed by us
    throw new Error(`${o.vf} has vGPU type ${cur} now, expected ${o.from === 0 ? 'none (0)' : o.from}`);
  }
  // no trailing newline: the value exactly as `echo -n ID >` writes it
  await bounded(`writing '${o.type}' to ${path}`, h.timeoutMs, h.sysfs.write(path, String(o.type)));
  return true;
}
