// Host questions xmlfix asks for slots, filters and PF names, and to check edits against the host.
// Implemented over the host model (src/host); kept behind this small interface so edits that need
// no host never load it.
import type { PciFilterTerm } from '../../pci/filter.js';
import type { PciAddress } from '../../pci/address.js';

/** What xmlfix needs to know about one host PCI device. */
export interface HostDevice {
  address: PciAddress;
  /** sysfs name, 0000:01:00.0 */
  name: string;
  vendor: string;
  device: string;
  class: string; // 6 hex digits
  /** Class 06xx: host, ISA and PCI bridges, root ports: never passed through. */
  bridge: boolean;
  /** An SR-IOV PF (it has sriov_totalvfs). */
  pf: boolean;
  /** An SR-IOV VF (it has a physfn link). */
  vf: boolean;
  bootVga: boolean;
  netdevs: string[];
}

export interface HostLookup {
  /** Every function of a slot that exists on the host, sorted; error naming what exists when none. */
  slotFunctions(domain: number, bus: number, slot: number): Promise<PciAddress[]>;
  /** Every device matching the filter, sorted by address (bridges included: the caller decides). */
  matching(terms: PciFilterTerm[]): Promise<HostDevice[]>;
  /** One device, or undefined when the host has none at that address. */
  device(address: PciAddress): Promise<HostDevice | undefined>;
  /** PCI devices right behind a bridge (its subordinate bus), sorted. */
  behind(bridge: PciAddress): Promise<string[]>;
  /** The mdev types `parent` offers, or undefined when it is no mdev parent. */
  mdevTypes(parent: string): Promise<string[] | undefined>;
  /** Every mdev parent of the host with its types, sorted by name. */
  mdevParents(): Promise<{ name: string; types: string[] }[]>;
  /** A VF of the PF netdev `pf` not in `taken`. */
  freeVf(pf: string, taken: PciAddress[]): Promise<PciAddress>;
  /** Every existing VF of the PF netdev `pf`; error (saying how to create them) when it has none. */
  vfsOf(pf: string): Promise<PciAddress[]>;
  /**
   * NVIDIA vGPU (vGPU 17+): for a VF, that VF; for a PF, its first VF not in `taken` with no vGPU
   * whose creatable_vgpu_types lists `type` (an ID or an exact profile name); with the type's ID.
   * Errors name what is creatable.
   */
  vgpuTarget(address: PciAddress, type: string, taken: PciAddress[]): Promise<{ vf: PciAddress; type: number }>;
}
