// A deliberately small in-memory host for the executor's own tests: just the kernel semantics the
// executor relies on (driver_override + unbind + drivers_probe, sriov_numvfs through 0, mdev
// create/remove, VF settings) and faults (fail the Nth write, hang the Nth write). The full SimKernel
// (src/sim) is exercised by the hook cycle tests; this one lets the executor be tested in-process.
import { errnoError, type Sysfs } from '../../src/host/sysfs.js';
import type { NetLink, VfInfo, VfSettings } from '../../src/host/netlink.js';
import type { HostSnapshot, PciDeviceInfo } from '../../src/host/types.js';

interface Dev {
  driver?: string;
  override?: string;
  defaultDriver?: string;
  group: number;
  cls: string;
  pf?: { total: number; num: number; netdev: string };
  vfOf?: string;
  mdevTypes?: Record<string, number>;
}

export interface FakeState {
  devs: Record<string, Dev>;
  mdevs: Record<string, { parent: string; type: string }>;
  vfs: Record<string, VfInfo[]>; // by PF netdev
  drivers: string[];
}

export class FakeHost implements Sysfs, NetLink {
  writes: string[] = [];
  failAt?: { n: number; code: string };
  /** The PF driver accepts a new VF count but creates no VF devices (a broken driver). */
  noVfDevices = false;
  hangAt?: number;
  private count = 0;

  constructor(public s: FakeState) {}

  static workstation(): FakeHost {
    return new FakeHost({
      drivers: ['vfio-pci', 'snd_hda_intel', 'nouveau', 'xhci_hcd', 'igb', 'igbvf', 'i915', 'pcieport'],
      devs: {
        '0000:00:01.0': { driver: 'pcieport', defaultDriver: 'pcieport', group: 1, cls: '060400' },
        '0000:01:00.0': { driver: 'nouveau', defaultDriver: 'nouveau', group: 1, cls: '030000' },
        '0000:01:00.1': { driver: 'snd_hda_intel', defaultDriver: 'snd_hda_intel', group: 1, cls: '040300' },
        '0000:01:00.2': { driver: 'xhci_hcd', defaultDriver: 'xhci_hcd', group: 1, cls: '0c0330' },
        '0000:02:00.0': { driver: 'xhci_hcd', defaultDriver: 'xhci_hcd', group: 2, cls: '0c0330' },
        '0000:03:00.0': {
          driver: 'igb',
          defaultDriver: 'igb',
          group: 3,
          cls: '020000',
          pf: { total: 4, num: 0, netdev: 'enp3s0' },
        },
        '0000:00:02.0': {
          driver: 'i915',
          defaultDriver: 'i915',
          group: 4,
          cls: '030000',
          mdevTypes: { 'i915-GVTg_V5_4': 2 },
        },
      },
      mdevs: {},
      vfs: { enp3s0: [] },
    });
  }

  /** Canonical JSON of the whole host, for before/after comparisons. */
  dump(): string {
    const sort = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sort)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, x]) => [k, sort(x)]),
            )
          : v;
    return JSON.stringify(sort(this.s));
  }

  snapshot(): HostSnapshot {
    const snap: HostSnapshot = { devices: {}, groups: {}, mdevs: {}, netdevs: {} };
    for (const [a, d] of Object.entries(this.s.devs)) {
      const info: PciDeviceInfo = {
        address: a,
        vendor: '8086',
        device: '0001',
        class: d.cls,
        netdevs: [],
        isBridge: d.cls.startsWith('0604'),
        iommuGroup: d.group,
      };
      if (d.driver) info.driver = d.driver;
      if (d.override) info.driverOverride = d.override;
      if (d.pf) {
        info.netdevs = [d.pf.netdev];
        snap.netdevs[d.pf.netdev] = a;
        info.sriov = {
          totalVfs: d.pf.total,
          numVfs: d.pf.num,
          offset: 128,
          stride: 2,
          vfs: this.vfAddrs(a).slice(0, d.pf.num),
        };
      }
      if (d.vfOf) {
        info.physfn = d.vfOf;
        info.vfIndex = this.vfAddrs(d.vfOf).indexOf(a);
      }
      if (d.mdevTypes) info.mdevTypes = Object.entries(d.mdevTypes).map(([id, n]) => ({ id, availableInstances: n }));
      snap.devices[a] = info;
      (snap.groups[d.group] ??= []).push(a);
    }
    for (const [u, m] of Object.entries(this.s.mdevs)) snap.mdevs[u] = { uuid: u, ...m };
    return snap;
  }

  private vfAddrs(pf: string): string[] {
    const bus = pf.slice(5, 7);
    return Array.from({ length: this.s.devs[pf]!.pf!.total }, (_, k) => {
      const rid = (parseInt(bus, 16) << 8) + 128 + 2 * k;
      return `0000:${(rid >> 8).toString(16).padStart(2, '0')}:${((rid >> 3) & 0x1f).toString(16).padStart(2, '0')}.${rid & 7}`;
    });
  }

  private dev(a: string, path: string): Dev {
    const d = this.s.devs[a];
    if (!d) throw errnoError('ENOENT', 'no such device', path);
    return d;
  }

  async read(path: string): Promise<string> {
    let m = /^sys\/bus\/pci\/devices\/([^/]+)\/driver_override$/.exec(path);
    if (m) return `${this.dev(m[1]!, path).override ?? '(null)'}\n`;
    m = /^sys\/bus\/pci\/devices\/([^/]+)\/sriov_numvfs$/.exec(path);
    if (m) return `${this.dev(m[1]!, path).pf?.num ?? 0}\n`;
    throw errnoError('ENOENT', 'not modelled', path);
  }
  async list(path: string): Promise<string[]> {
    throw errnoError('ENOENT', 'not modelled', path);
  }
  async readlink(path: string): Promise<string> {
    const m = /^sys\/bus\/pci\/devices\/([^/]+)\/driver$/.exec(path);
    const d = m ? this.dev(m[1]!, path) : undefined;
    if (!d?.driver) throw errnoError('ENOENT', 'no driver', path);
    return `../../../bus/pci/drivers/${d.driver}`;
  }
  async exists(path: string): Promise<boolean> {
    const m = /^sys\/bus\/mdev\/devices\/([^/]+)$/.exec(path);
    if (m) return !!this.s.mdevs[m[1]!];
    const d = /^sys\/bus\/pci\/drivers\/([^/]+)$/.exec(path);
    if (d) return this.s.drivers.includes(d[1]!);
    return false;
  }

  private fault(path: string): Promise<never> | undefined {
    this.count++;
    if (this.hangAt === this.count) return new Promise<never>(() => {});
    if (this.failAt?.n === this.count) throw errnoError(this.failAt.code, 'injected fault', path);
    return undefined;
  }

  async write(path: string, data: string): Promise<void> {
    const hang = this.fault(path);
    if (hang) return hang;
    this.writes.push(`${path} < ${data.trim()}`);
    let m = /^sys\/bus\/pci\/devices\/([^/]+)\/driver_override$/.exec(path);
    if (m) {
      const v = data.trim();
      this.dev(m[1]!, path).override = v === '' ? undefined : v;
      if (v === '') delete this.dev(m[1]!, path).override;
      return;
    }
    m = /^sys\/bus\/pci\/drivers\/([^/]+)\/unbind$/.exec(path);
    if (m) {
      const d = this.dev(data.trim(), path);
      if (d.driver !== m[1]) throw errnoError('ENODEV', 'not bound to this driver', path);
      delete d.driver;
      return;
    }
    if (path === 'sys/bus/pci/drivers_probe') {
      const d = this.dev(data.trim(), path);
      if (!d.driver) {
        const want = d.override ?? d.defaultDriver;
        if (want && this.s.drivers.includes(want)) d.driver = want;
      }
      return;
    }
    m = /^sys\/bus\/pci\/devices\/([^/]+)\/sriov_numvfs$/.exec(path);
    if (m) {
      const pfAddr = m[1]!;
      const pf = this.dev(pfAddr, path).pf!;
      const n = Number(data);
      if (n > pf.total) throw errnoError('ERANGE', 'too many', path);
      if (pf.num !== 0 && n !== 0 && n !== pf.num) throw errnoError('EBUSY', 'through 0', path);
      for (const a of this.vfAddrs(pfAddr).slice(n)) delete this.s.devs[a];
      this.vfAddrs(pfAddr)
        .slice(0, this.noVfDevices ? 0 : n)
        .forEach((a, k) => {
          this.s.devs[a] ??= { driver: 'igbvf', defaultDriver: 'igbvf', group: 20 + k, cls: '020000', vfOf: pfAddr };
        });
      this.s.vfs[pf.netdev] = Array.from(
        { length: n },
        (_, k) =>
          this.s.vfs[pf.netdev]?.[k] ?? {
            index: k,
            mac: '00:00:00:00:00:00',
            vlan: 0,
            spoofchk: true,
            trust: false,
            state: 'auto',
            minRate: 0,
            maxRate: 0,
          },
      );
      pf.num = n;
      return;
    }
    m = /^sys\/class\/mdev_bus\/([^/]+)\/mdev_supported_types\/([^/]+)\/create$/.exec(path);
    if (m) {
      const types = this.dev(m[1]!, path).mdevTypes!;
      if (this.s.mdevs[data]) throw errnoError('EEXIST', 'exists', path);
      if (!types[m[2]!]) throw errnoError('ENOSPC', 'no instances', path);
      types[m[2]!]!--;
      this.s.mdevs[data] = { parent: m[1]!, type: m[2]! };
      return;
    }
    m = /^sys\/bus\/mdev\/devices\/([^/]+)\/remove$/.exec(path);
    if (m) {
      const md = this.s.mdevs[m[1]!];
      if (!md) throw errnoError('ENOENT', 'no mdev', path);
      this.s.devs[md.parent]!.mdevTypes![md.type]!++;
      delete this.s.mdevs[m[1]!];
      return;
    }
    throw errnoError('EACCES', 'not modelled', path);
  }

  async listVfs(pf: string): Promise<VfInfo[]> {
    return structuredClone(this.s.vfs[pf] ?? []);
  }
  async setVf(pf: string, index: number, settings: VfSettings): Promise<void> {
    const hang = this.fault(`ip link set dev ${pf} vf ${index}`);
    if (hang) return hang;
    const vf = this.s.vfs[pf]?.[index];
    if (!vf) throw errnoError('EINVAL', 'no such VF', pf);
    Object.assign(vf, settings);
  }
}
