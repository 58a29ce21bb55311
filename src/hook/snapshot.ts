// The one place the hook asks src/host for a snapshot (HostReader.snapshotFor), so the planner's
// needs are spelled once: the devices named by the domain (their IOMMU groups and a PF's VFs come
// along), the PF netdevs named by the metadata, mdev parents and mdevs by UUID; every mdev parent
// when a type is given without a parent.
import { HostReader } from '../host/reader.js';
import { layout } from '../host/layout.js';
import type { HostSnapshot } from '../host/types.js';
import type { HookContext } from './context.js';
import { bounded } from '../host/bounded.js';

export interface SnapshotRequest {
  devices: string[];
  netdevs: string[];
  mdevParents: string[];
  mdevs: string[];
  allMdevParents: boolean;
  /** VFs named by <passthru:vgpu>: their nvidia/ vGPU files are read too. */
  vgpus?: string[];
}

export async function readSnapshot(ctx: HookContext, req: SnapshotRequest): Promise<HostSnapshot> {
  let parents = req.mdevParents;
  if (req.allMdevParents) {
    const all = await ctx.sysfs.list(layout.mdevBus).catch(() => [] as string[]);
    parents = [...new Set([...parents, ...all])].sort();
  }
  // bounded like every host access: a device whose unbind waits for qemu blocks reads of its
  // driver_override and sriov_numvfs (the device lock), and the hook must report that, not hang
  const what = `reading the host (${[...req.devices, ...req.mdevs].join(', ') || 'mdev parents'})`;
  return bounded(
    what,
    ctx.timeoutMs,
    new HostReader(ctx.sysfs).snapshotFor({
      addresses: req.devices,
      netdevs: req.netdevs,
      mdevParents: parents,
      mdevUuids: req.mdevs,
      vgpus: req.vgpus ?? [],
    }),
  );
}
