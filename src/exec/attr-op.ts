// The pci-attr operation: a reset or power attribute of one device (reset_method, d3cold_allowed),
// read, compared, written, and read back: a kernel that drops a method it cannot use instead of
// refusing the write (5.15 warns "Unsupported reset method" and keeps the rest) fails here, not later.
import { layout } from '../host/layout.js';
import { parseResetMethod } from '../host/power.js';
import type { Op } from '../plan/types.js';
import { bounded } from '../host/bounded.js';
import type { HostAccess } from './ops.js';

type AttrOp = Extract<Op, { op: 'pci-attr' }>;

const normal = (o: AttrOp, text: string): string =>
  o.attr === 'reset_method' ? parseResetMethod(text).join(' ') : text.trim();

export async function applyPciAttr(h: HostAccess, o: AttrOp): Promise<boolean> {
  const path = layout.pciAttr(o.device, o.attr);
  const read = async (): Promise<string> =>
    normal(o, await bounded(`reading ${path}`, h.timeoutMs, h.sysfs.read(path)));
  if ((await read()) === o.value) return false;
  // an empty reset_method write is a bare newline (the kernel's sysfs_streq ignores it): it disables every method
  await bounded(`writing '${o.value}' to ${path}`, h.timeoutMs, h.sysfs.write(path, o.value === '' ? '\n' : o.value));
  const after = await read();
  if (after !== o.value) throw new Error(`${o.attr} reads '${after}' after writing '${o.value}'`);
  return true;
}
