// Host questions xmlfix asks for slots, filters and PF names. Implemented over the host model
// (src/host); kept behind this small interface so plain edits never load it.
import type { PciFilterTerm } from '../../pci/filter.js';
import type { PciAddress } from '../../pci/address.js';

export interface HostLookup {
  /** Every function of a slot that exists on the host, sorted; error naming what exists when none. */
  slotFunctions(domain: number, bus: number, slot: number): Promise<PciAddress[]>;
  /** The first (or with `all` every) matching device not in `taken` and not a bridge. */
  pickByFilter(terms: PciFilterTerm[], taken: PciAddress[], all: boolean): Promise<PciAddress[]>;
  /** A VF of the PF netdev `pf` not in `taken`. */
  freeVf(pf: string, taken: PciAddress[]): Promise<PciAddress>;
  /** Every existing VF of the PF netdev `pf`; error when it has none. */
  vfsOf(pf: string): Promise<PciAddress[]>;
  /**
   * NVIDIA vGPU (vGPU 17+): for a VF, that VF; for a PF, its first VF not in `taken` with no vGPU
   * whose creatable_vgpu_types lists `type` (an ID or an exact profile name); with the type's ID.
   * Errors name what is creatable.
   */
  vgpuTarget(address: PciAddress, type: string, taken: PciAddress[]): Promise<{ vf: PciAddress; type: number }>;
}
