// What a domain asks of the host, as read from its libvirt XML: the contract between the XML side
// (xmlfix writes it, src/xml/domain-reader reads it) and the planner (src/plan).
import type { PciAddress } from '../pci/address.js';
import type { VfLinkState } from '../host/netlink.js';

/** Our namespace for what libvirt cannot express; described by schemas/passthru-metadata.rng. */
export const PASSTHRU_NS = 'https://passthru.dev/xmlns/domain/1';
export const PASSTHRU_PREFIX = 'passthru';
/** `<metadata><passthru:devices xmlns:passthru='…'>` holds every element below. */
export const PASSTHRU_META_ROOT = 'devices';

/** `<hostdev mode='subsystem' type='pci'>` */
export interface PciHostdev {
  address: PciAddress;
  managed: boolean;
}

/** `<interface type='hostdev'>`: libvirt itself sets MAC/VLAN of this VF. */
export interface HostdevInterface {
  address: PciAddress;
  managed: boolean;
  mac?: string;
  vlan?: number;
}

/** `<hostdev mode='subsystem' type='mdev' model='vfio-pci'>` */
export interface MdevHostdev {
  uuid: string; // lower case
  model: string;
}

/** `<interface type='network'>`: may be a VF pool (forward mode='hostdev'); the hook finds out. */
export interface NetworkInterface {
  network: string;
  mac?: string;
}

/** `<passthru:mdev uuid='…' type='i915-GVTg_V5_4' parent='0000:00:02.0'/>` */
export interface MdevRequest {
  uuid: string;
  type: string;
  parent?: string; // PCI address of the parent device; absent = any parent offering the type
}

/**
 * `<passthru:vf address='0000:03:10.0' mac='…' vlan='10' trust='on' spoofchk='off' state='auto'
 *   min-rate='100' max-rate='1000'/>`; for a VF picked from a pool at start, `mac` (the interface's MAC)
 *   identifies it instead of `address`.
 */
export interface VfRequest {
  address?: PciAddress;
  mac?: string;
  vlan?: number;
  trust?: boolean;
  spoofchk?: boolean;
  state?: VfLinkState;
  minRate?: number;
  maxRate?: number;
}

/** `<passthru:pf dev='enp3s0f0' vfs='4'/>` or `<passthru:pf address='0000:03:00.0' vfs='4'/>`: the PF needs at least N VFs. */
export interface PfRequest {
  dev?: string;
  address?: PciAddress;
  vfs: number;
}

/**
 * `<passthru:vgpu address='0000:41:00.4' type='1157'/>`: an NVIDIA vGPU of the vendor-specific VFIO
 * model (vGPU 17+, no mdev): the hook writes the type to the VF's nvidia/current_vgpu_type, and the VF
 * is assigned as `<hostdev type='pci' managed='no'>` (it stays on the nvidia driver).
 */
export interface VgpuRequest {
  address: PciAddress;
  /** A type ID ('1157') or an exact profile name ('NVIDIA L40S-12Q'). */
  type: string;
}

export interface PassthruMetadata {
  mdevs: MdevRequest[];
  vfs: VfRequest[];
  pfs: PfRequest[];
  vgpus: VgpuRequest[];
  /** <passthru:console handover='on'/>: hand the host console over when the domain takes the boot VGA. */
  consoleHandover?: boolean;
}

export interface DomainPassthrough {
  name: string;
  uuid?: string;
  pciHostdevs: PciHostdev[];
  hostdevInterfaces: HostdevInterface[];
  mdevHostdevs: MdevHostdev[];
  networkInterfaces: NetworkInterface[];
  metadata: PassthruMetadata;
}
