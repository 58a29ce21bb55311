// PURE: the NVIDIA vGPUs of the vendor-specific VFIO model (vGPU 17+: no mdev; a type per SR-IOV VF in
// VF/nvidia/current_vgpu_type), from <passthru:vgpu address=… type=…>. Rules:
//  - the VF must be assigned as <hostdev type='pci' managed='no'>: managed='yes' would let libvirt
//    rebind it to vfio-pci, which takes the nvidia/ interface (and the vGPU) away;
//  - refused before any change: VF missing, no nvidia/ interface, another vGPU type already on it,
//    the type not creatable there now (the list is named);
//  - a VF that already has the wanted type is used as it is and never reset by us;
//  - else one action writes the type; its undo writes 0, only while the VF still has our type;
//  - a managed='no' VF with an nvidia/ vGPU interface but no entry (a vGPU made by hand) stays on its
//    driver too: used as it is when it has a type, refused when it has none (vfio-pci would take the
//    interface away, and a VF without a vGPU type gives the guest nothing).
import { InputError } from '../errors.js';
import { formatPciAddress } from '../pci/address.js';
import { describeVgpuType } from '../host/nvidia-vgpu.js';
import type { HostSnapshot, VgpuTypeInfo } from '../host/types.js';
import type { DomainPassthrough, VgpuRequest } from '../xml/model.js';
import type { Action } from './types.js';
import { byText } from './order.js';

export interface VgpuPlanInput {
  domain: DomainPassthrough;
  snapshot: HostSnapshot;
  /** Actions already journaled (second planning pass): not planned again. */
  done: Set<string>;
  /** VFs that appear only once this plan's VF counts are raised: planned in the second pass. */
  deferred?: string[];
  refuse(device: string, reason: string): never;
}

export interface VgpuPlan {
  actions: Action[];
  /** VFs that carry a vGPU: they stay on the nvidia driver (never bound to vfio-pci by us). */
  vfs: Set<string>;
}

/** The addresses the domain's <passthru:vgpu> entries name (for the snapshot request). */
export function vgpuAddresses(domain: DomainPassthrough): string[] {
  return [...new Set(domain.metadata.vgpus.map((v) => formatPciAddress(v.address)))].sort();
}

const list = (types: VgpuTypeInfo[]): string =>
  types.length ? types.map((t) => `${t.id} (${t.name})`).join(', ') : 'none';

export function planVgpus(input: VgpuPlanInput): VgpuPlan {
  const { domain, snapshot: snap, refuse } = input;
  const requests = new Map<string, VgpuRequest>();
  for (const req of domain.metadata.vgpus) {
    const addr = formatPciAddress(req.address);
    if (requests.has(addr)) throw new InputError(`two <passthru:vgpu> elements for ${addr}`);
    requests.set(addr, req);
  }
  const actions: Action[] = [];
  for (const [addr, req] of [...requests].sort(([a], [b]) => byText(a, b))) {
    const hostdev = domain.pciHostdevs.find((h) => formatPciAddress(h.address) === addr);
    if (!hostdev)
      refuse(
        addr,
        `has a <passthru:vgpu> entry but is not assigned to this domain (add it as <hostdev mode='subsystem' type='pci' managed='no'>)`,
      );
    if (hostdev!.managed)
      refuse(
        addr,
        `carries an NVIDIA vGPU but is assigned with managed='yes': libvirt would rebind it to vfio-pci and the vGPU would be lost; use managed='no'`,
      );
    if (input.deferred?.includes(addr)) continue;
    const vf =
      snap.devices[addr] ??
      refuse(addr, "not found on this host (are the GPU's VFs enabled? /usr/lib/nvidia/sriov-manage -e PF)");
    const v = vf.nvidiaVgpu;
    if (!v) {
      const why =
        vf.driver && vf.driver !== 'nvidia'
          ? `it is bound to ${vf.driver}, not nvidia`
          : vf.physfn
            ? 'is the NVIDIA vGPU manager loaded?'
            : 'it is not an SR-IOV VF';
      refuse(addr, `has no NVIDIA vGPU interface (no nvidia/current_vgpu_type: ${why})`);
    }
    const want = resolveType(req.type, v!.creatable);
    const cur = v!.currentType;
    if (want !== undefined && cur === want) continue; // already this type: used as is, never reset
    if (cur !== 0) {
      const asked = want === undefined ? `'${req.type}'` : describeVgpuType(want, v!.creatable);
      const hint =
        want === undefined
          ? 'a profile name cannot be checked against a VF that has a vGPU: give the type ID'
          : 'a vGPU is changed only by destroying it: write 0 to nvidia/current_vgpu_type when no guest uses it';
      refuse(addr, `already has vGPU type ${cur}; ${asked} asked (${hint})`);
    }
    if (want === undefined || !v!.creatable.some((t) => t.id === want)) {
      const asked = want === undefined ? `'${req.type}'` : String(want);
      refuse(
        addr,
        `cannot take vGPU type ${asked} now; creatable there: ${list(v!.creatable)}${v!.creatable.length ? '' : ' (the GPU is full, or hosts vGPUs of another framebuffer size)'}`,
      );
    }
    const id = `vgpu-type ${addr}`;
    if (input.done.has(id)) continue;
    actions.push({
      id,
      kind: 'vgpu-type',
      device: addr,
      why: `NVIDIA vGPU type ${describeVgpuType(want!, v!.creatable)} on VF ${addr}`,
      do: [{ op: 'vgpu-type', vf: addr, type: want!, from: 0 }],
      undo: [{ op: 'vgpu-type', vf: addr, type: 0, from: want! }],
    });
  }
  const vfs = new Set(requests.keys());
  for (const h of domain.pciHostdevs) {
    const addr = formatPciAddress(h.address);
    const v = snap.devices[addr]?.nvidiaVgpu;
    if (h.managed || requests.has(addr) || !v) continue;
    if (v.currentType === 0)
      refuse(
        addr,
        `is a VF of an NVIDIA GPU in vGPU mode with no vGPU type: give it one (xmlfix --add-vgpu ${addr},type=ID, or echo ID > nvidia/current_vgpu_type); creatable there: ${list(v.creatable)}`,
      );
    vfs.add(addr);
  }
  return { actions, vfs };
}

/** The type ID a request names: its number, or the ID listed for that exact profile name. */
function resolveType(type: string, creatable: VgpuTypeInfo[]): number | undefined {
  if (/^[0-9]+$/.test(type)) return Number(type);
  return creatable.find((t) => t.name === type)?.id;
}
