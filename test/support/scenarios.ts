// Scenarios for the reliability suites, derived from a host fixture rather than hard-coded
// addresses: a GPU whose IOMMU group has peers, an mdev parent with instances left, SR-IOV PFs
// (VF creation by count, VF settings, hostdev interfaces), and all of those at once. Deriving them
// keeps the suites meaningful when a fixture grows; `expectScenarios` makes a fixture that lost a
// device fail loudly instead of silently testing less.
import { readFileSync } from 'node:fs';
import { type DomainSpec, stableMac, stableUuid } from './domains.js';
import { hostFixture } from './paths.js';

export interface FixtureDevice {
  address: string;
  vendor: string;
  device: string;
  class: string;
  driver?: string;
  iommuGroup?: number;
  netdev?: string;
  netdevs?: string[];
  bootVga?: boolean;
  isBridge?: boolean;
  protected?: boolean;
  mdevTypes?: { id: string; availableInstances: number }[];
  sriov?: { totalVfs: number; numVfs: number; offset: number; stride: number; vfDevice?: string; vfDriver?: string };
  nvidiaVgpu?: { framebufferMb: number; types: { id: number; name: string; framebufferMb: number }[] };
}

export interface HostFixture {
  devices: FixtureDevice[];
  [k: string]: unknown;
}

export interface Scenario {
  fixture: string;
  name: string;
  /** One or more domains prepared in order (several at once = several domains). */
  domains: DomainSpec[];
}

export function loadFixture(name: string): HostFixture {
  return JSON.parse(readFileSync(hostFixture(name), 'utf8')) as HostFixture;
}

const isBridgeDev = (d: FixtureDevice): boolean =>
  d.isBridge === true || d.class.startsWith('0604') || d.class.startsWith('0600');
const isDisplay = (d: FixtureDevice): boolean => d.class.startsWith('0300') || d.class.startsWith('0302');
const isStorage = (d: FixtureDevice): boolean => d.class.startsWith('01');
const netdevOf = (d: FixtureDevice): string | undefined => d.netdev ?? d.netdevs?.[0];

/** The address of VF k (0-based) of a PF: routing id = PF's + offset + k * stride (PCIe SR-IOV). */
export function vfAddress(pf: FixtureDevice, k: number): string {
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(pf.address)!;
  const rid =
    (parseInt(m[2]!, 16) << 8) +
    (parseInt(m[3]!, 16) << 3) +
    parseInt(m[4]!, 16) +
    pf.sriov!.offset +
    k * pf.sriov!.stride;
  const bus = (rid >> 8) & 0xff;
  const slot = (rid >> 3) & 0x1f;
  const fn = rid & 7;
  return `${m[1]}:${bus.toString(16).padStart(2, '0')}:${slot.toString(16).padStart(2, '0')}.${fn}`;
}

function groupOf(fx: HostFixture, d: FixtureDevice): FixtureDevice[] {
  return d.iommuGroup === undefined ? [d] : fx.devices.filter((x) => x.iommuGroup === d.iommuGroup);
}

/** Every PF with room for VFs, sorted by address; not the NIC of the default route (protected). */
export function sriovPfs(fx: HostFixture): FixtureDevice[] {
  return fx.devices
    .filter((d) => d.sriov && d.sriov.totalVfs >= 3 && netdevOf(d) && netdevOf(d) !== fx.defaultRouteNetdev)
    .sort((a, b) => a.address.localeCompare(b.address));
}

/** GPUs (not the boot VGA) whose group has other endpoints: the hook must bind those peers. */
export function gpusWithPeers(fx: HostFixture): FixtureDevice[] {
  return fx.devices
    .filter((d) => isDisplay(d) && !d.bootVga && !d.protected && !d.mdevTypes?.length)
    .filter((d) => groupOf(fx, d).some((p) => p !== d && !isBridgeDev(p)))
    .sort((a, b) => a.address.localeCompare(b.address));
}

/** Non-display, non-storage endpoints sharing their group with a bridge (e.g. a USB controller). */
export function devicesBesideBridges(fx: HostFixture): FixtureDevice[] {
  return fx.devices
    .filter(
      (d) =>
        !isBridgeDev(d) && !isDisplay(d) && !isStorage(d) && !d.sriov && !d.protected && d.iommuGroup !== undefined,
    )
    .filter((d) => groupOf(fx, d).some((p) => p !== d && isBridgeDev(p)))
    .sort((a, b) => a.address.localeCompare(b.address));
}

export function mdevParents(fx: HostFixture): { parent: FixtureDevice; type: string; available: number }[] {
  const out: { parent: FixtureDevice; type: string; available: number }[] = [];
  for (const d of fx.devices) {
    const t = (d.mdevTypes ?? [])
      .filter((t) => t.availableInstances > 0)
      .sort((a, b) => b.availableInstances - a.availableInstances || a.id.localeCompare(b.id))[0];
    if (t) out.push({ parent: d, type: t.id, available: t.availableInstances });
  }
  return out.sort((a, b) => a.parent.address.localeCompare(b.parent.address));
}

/** PFs in NVIDIA vGPU mode (vGPU 17+) with VFs enabled: their VFs take a vGPU type each. */
export function vgpuPfs(fx: HostFixture): FixtureDevice[] {
  return fx.devices
    .filter((d) => d.nvidiaVgpu && d.sriov && d.sriov.numVfs > 0)
    .sort((a, b) => a.address.localeCompare(b.address));
}

/** VFs a domain can use on `pf`: existing ones first, else `want` to be created through <passthru:pf vfs>. */
function vfPlan(pf: FixtureDevice, want: number, skip = 0): { pfs: DomainSpec['pfs']; vfs: string[] } {
  const existing = pf.sriov!.numVfs;
  const need = skip + want;
  const vfs = Array.from({ length: want }, (_, i) => vfAddress(pf, skip + i));
  if (existing >= need) return { pfs: [], vfs };
  return { pfs: [{ dev: netdevOf(pf)!, vfs: Math.min(need, pf.sriov!.totalVfs) }], vfs };
}

function scenariosFor(fixture: string, fx: HostFixture): Scenario[] {
  const out: Scenario[] = [];
  const sc = (name: string, domains: DomainSpec[]): void => {
    out.push({ fixture, name, domains });
  };
  const [gpu] = gpusWithPeers(fx);
  const [usb] = devicesBesideBridges(fx);
  const parents = mdevParents(fx);
  const pfs = sriovPfs(fx);
  const d = (n: string): string => `${fixture}-${n}`;

  if (gpu) {
    sc('gpu-peers', [{ name: d('gpu-peers'), hostdevs: [{ address: gpu.address, managed: true }] }]);
    sc('gpu-unmanaged', [{ name: d('gpu-unmanaged'), hostdevs: [{ address: gpu.address, managed: false }] }]);
  }
  // managed='no': the hook binds the device itself, beside a bridge it must never touch
  if (usb) sc('beside-bridge', [{ name: d('beside-bridge'), hostdevs: [{ address: usb.address, managed: false }] }]);
  if (parents.length) {
    const { parent, type, available } = parents[0]!;
    const n = Math.min(2, available);
    sc('mdev', [
      {
        name: d('mdev'),
        mdevs: Array.from({ length: n }, (_, i) => ({
          uuid: stableUuid(`${fixture}:mdev:${i}`),
          type,
          parent: parent.address,
        })),
      },
    ]);
  }
  if (pfs[0]) {
    const pf = pfs[0];
    const { pfs: pfReq, vfs } = vfPlan(pf, 2);
    sc('vf-create', [
      {
        name: d('vf-create'),
        pfs: pfReq?.length ? pfReq : [{ dev: netdevOf(pf)!, vfs: Math.max(2, pf.sriov!.numVfs) }],
        hostdevs: [{ address: vfs[0]!, managed: true }],
        vfs: [
          {
            address: vfs[0]!,
            mac: stableMac(`${fixture}:vf0`),
            vlan: 42,
            trust: true,
            spoofchk: false,
            state: 'enable',
            minRate: 0,
            maxRate: 1000,
          },
        ],
      },
    ]);
    sc('vf-interface', [
      {
        name: d('vf-interface'),
        pfs: pfReq,
        hostdevInterfaces: [{ address: vfs[1]!, mac: stableMac(`${fixture}:vf1`), vlan: 7 }],
        vfs: [{ address: vfs[1]!, trust: true, spoofchk: false }],
      },
    ]);
  }
  if (pfs.length >= 2) {
    const a = vfPlan(pfs[0]!, 2);
    const b = vfPlan(pfs[1]!, 2);
    sc('two-pfs', [
      {
        name: d('two-pfs'),
        pfs: [...(a.pfs ?? []), ...(b.pfs ?? [])],
        hostdevs: [...a.vfs, ...b.vfs].map((address) => ({ address, managed: true })),
        vfs: [...a.vfs, ...b.vfs].map((address, i) => ({
          address,
          mac: stableMac(`${fixture}:two:${i}`),
          vlan: 100 + i,
          spoofchk: true,
        })),
      },
    ]);
  }
  const [vgpuPf] = vgpuPfs(fx);
  if (vgpuPf) {
    // the smallest profile on VF 0, asked by ID; a second domain asks for VF 1 by profile name
    const t = [...vgpuPf.nvidiaVgpu!.types].sort((a, b) => a.framebufferMb - b.framebufferMb || a.id - b.id)[0]!;
    const [vf0, vf1] = [vfAddress(vgpuPf, 0), vfAddress(vgpuPf, 1)];
    sc('vgpu', [
      { name: d('vgpu'), hostdevs: [{ address: vf0, managed: false }], vgpus: [{ address: vf0, type: String(t.id) }] },
    ]);
    if (vgpuPf.sriov!.numVfs >= 2) {
      sc('vgpu-two-domains', [
        {
          name: d('vgpu-a'),
          hostdevs: [{ address: vf0, managed: false }],
          vgpus: [{ address: vf0, type: String(t.id) }],
        },
        { name: d('vgpu-b'), hostdevs: [{ address: vf1, managed: false }], vgpus: [{ address: vf1, type: t.name }] },
      ]);
    }
  }
  // several at once: each previous single-domain scenario's domain, prepared one after the other
  // (they touch disjoint devices, except the VF scenarios which share a PF by count).
  const disjoint = out.filter((s) => ['gpu-peers', 'mdev', 'vf-create', 'beside-bridge', 'vgpu'].includes(s.name));
  if (disjoint.length >= 2)
    sc(
      'several',
      disjoint.map((s) => ({ ...s.domains[0]!, name: `${s.domains[0]!.name}-several` })),
    );
  return out;
}

/** Devices no write may ever name: PCI bridges and ports. */
export function bridges(fixture: string): string[] {
  return loadFixture(fixture)
    .devices.filter(isBridgeDev)
    .map((d) => d.address)
    .sort();
}

export function scenarios(fixture: string): Scenario[] {
  return scenariosFor(fixture, loadFixture(fixture));
}

/** The names a fixture must yield; a fixture that lost a device type fails the suite, not silently shrinks it. */
export const expectScenarios: Record<string, string[]> = {
  workstation: ['gpu-peers', 'mdev', 'vf-create', 'several'],
  server: ['mdev', 'vf-create', 'two-pfs', 'vgpu', 'vgpu-two-domains'],
};

/** One domain asking for everything a scenario's domains ask for (the most undo steps in one release). */
export function mergedDomain(sc: Scenario, name = `${sc.fixture}-${sc.name}-merged`): DomainSpec {
  // PF requests on one PF: the largest count
  const pfs = new Map<string, { dev?: string; address?: string; vfs: number }>();
  for (const p of sc.domains.flatMap((d) => d.pfs ?? [])) {
    const key = p.dev ?? p.address!;
    if ((pfs.get(key)?.vfs ?? -1) < p.vfs) pfs.set(key, p);
  }
  return {
    name,
    hostdevs: sc.domains.flatMap((d) => d.hostdevs ?? []),
    hostdevInterfaces: sc.domains.flatMap((d) => d.hostdevInterfaces ?? []),
    mdevs: sc.domains.flatMap((d) => d.mdevs ?? []),
    vfs: sc.domains.flatMap((d) => d.vfs ?? []),
    pfs: [...pfs.values()],
    vgpus: sc.domains.flatMap((d) => d.vgpus ?? []),
  };
}

/** The scenario with the most devices of a fixture, as one domain. */
export function largestDomain(fixture: string): DomainSpec {
  const list = scenarios(fixture);
  const sc = list.find((s) => s.name === 'several') ?? list.find((s) => s.name === 'two-pfs') ?? list[0]!;
  return mergedDomain(sc);
}

/** VF K of the PF whose netdev is `netdev`, for naming VF settings by address. */
export function vfResolver(fixture: string): (netdev: string, k: number) => string | undefined {
  const fx = loadFixture(fixture);
  return (netdev, k) => {
    const pf = fx.devices.find((d) => netdevOf(d) === netdev && d.sriov);
    return pf ? vfAddress(pf, k) : undefined;
  };
}
