// `passthru list` with a device whose lock stays held (an unbind waiting for qemu: test/lab/FINDINGS.md
// item 6): its uevent, driver_override and sriov_numvfs reads block in the kernel, and its driver link
// is gone. The listing reads devices without the lock, except driver_override of a driverless or
// stub-bound device, which is bounded: it must come whole, with the held device marked. First in
// process on the simulated kernel (which blocks those reads of an `unbinding` device), then the real
// CLI on a materialized tree whose E1000 `uevent` and `driver_override` are FIFOs (an open blocks
// until a writer comes) and whose `driver` link is gone, as the kernel removes it before the unbind
// waits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimKernel } from '../../src/sim/kernel.js';
import { hostFromFixture } from '../../src/sim/fixture.js';
import { materialize } from '../../src/sim/materialize.js';
import { HostReader } from '../../src/host/reader.js';
import { buildListing, formatListing, type Listing } from '../../src/host/listing.js';
import type { SimHostState } from '../../src/sim/state.js';
import { runDoctor } from '../../src/doctor/run.js';
import { readDomainPassthrough } from '../../src/xml/domain-reader.js';
import { dist, nodeBin } from '../support/paths.js';

const labHostFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'lab', 'lab-host.sim.json');
const labHost = JSON.parse(readFileSync(labHostFile, 'utf8')) as SimHostState;
const E1000 = '0000:03:01.0';
const NVME = '0000:04:00.0';

/** The lab host with E1000 mid-unbind from vfio-pci and the nvme PF (2 VFs) with its lock held. */
function heldHost(): SimHostState {
  const h = structuredClone(labHost);
  const e = h.devices.find((d) => d.address === E1000)!;
  e.driver = 'vfio-pci';
  e.unbinding = true;
  const n = h.devices.find((d) => d.address === NVME)!;
  n.sriov!.numVfs = 2;
  n.unbinding = true;
  return h;
}
const sim = (h: SimHostState) => new SimKernel(hostFromFixture(h));

describe('passthru list: reads that wait on a held device lock are bounded (simulated kernel)', () => {
  it('lists the held devices from the attributes without the lock, marks them, and reads every other device as usual', async () => {
    const snap = await new HostReader(sim(heldHost()), { lockedReadMs: 50 }).fullSnapshot();
    const e = snap.devices[E1000]!;
    expect(e.unreadable).toEqual(['driver_override']);
    expect([e.vendor, e.device, e.class]).toEqual(['8086', '100e', '020000']);
    expect(e.driver).toBeUndefined(); // the driver link is gone while the unbind waits
    expect(e.iommuGroup).toBe(9);
    const n = snap.devices[NVME]!;
    expect(n.unreadable).toEqual(['driver_override']);
    expect(n.sriov!.numVfs).toBe(2); // from its two virtfn links, which take no lock
    expect(n.sriov!.vfs).toHaveLength(2);

    // the same host with nothing held: every other device reads the same
    const free = structuredClone(heldHost());
    for (const d of free.devices) delete d.unbinding;
    const plain = await new HostReader(sim(free), { lockedReadMs: 50 }).fullSnapshot();
    for (const [a, d] of Object.entries(plain.devices))
      if (a !== E1000 && a !== NVME) expect(snap.devices[a], a).toEqual(d);
    expect(Object.values(plain.devices).some((d) => d.unreadable)).toBe(false);
  });

  it('text marks the driver as unknown (?) with a note; --json keeps every field and adds `unreadable`', async () => {
    const snap = await new HostReader(sim(heldHost()), { lockedReadMs: 50 }).fullSnapshot();
    const listing = buildListing(snap, new Map());
    const row = listing.devices.find((d) => d.address === E1000)!;
    expect(row.unreadable).toEqual(['driver_override']);
    expect(row).toMatchObject({
      address: E1000,
      id: '8086:100e',
      className: 'Ethernet controller',
      iommuGroup: 9,
      netdevs: [],
    }); // on vfio-pci: no netdev
    const text = formatListing(listing);
    const line = text.split('\n').find((l) => l.includes(E1000))!;
    expect(line).toMatch(
      /8086:100e\s+Ethernet controller\s+\?\s+driver state unreadable: device lock held \(being unbound\?\)$/,
    );
    const pf = text.split('\n').find((l) => l.includes(NVME))!;
    expect(pf).toContain('SR-IOV 2/2 VFs; driver state unreadable: device lock held (being unbound?)');
    // a device whose driver is merely unknown is not shown as driverless
    expect(text.split('\n').filter((l) => /\s-\s/.test(l) && l.includes(E1000))).toEqual([]);
  });
});

describe('passthru doctor with a held device lock (simulated kernel)', () => {
  it("finishes, and fails a domain device whose own or group peer's reads did not answer (the hook could not read them either)", async () => {
    const hd = (slot: string) =>
      `<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x03' slot='0x${slot}' function='0x0'/></source></hostdev>`;
    const check = async (slot: string) => {
      const r = await runDoctor({
        sysfs: sim(heldHost()),
        host: 'test',
        realRoot: false,
        lockedReadMs: 50,
        domain: readDomainPassthrough(`<domain type='kvm'><name>vm1</name><devices>${hd(slot)}</devices></domain>`),
      });
      return r.checks.find((c) => c.id === `domain-device:0000:03:${slot}.0`)!;
    };
    const own = await check('01');
    expect(own.status).toBe('fail');
    expect(own.detail).toBe(
      `${E1000} (driver_override) did not answer: device lock held (being unbound?); the hook cannot read it either, a start now fails`,
    );
    const peer = await check('03'); // the same IOMMU group (behind one PCIe-to-PCI bridge)
    expect(peer.status).toBe('fail');
    expect(peer.detail).toContain(`${E1000} (driver_override) did not answer`);
    expect(peer.detail).toContain('cannot read them either');
  });
});

let outer: string;
let root: string;
let simFile: string;
let fifos: string[] = [];
let root2: string;
let fifos2: string[] = [];
const E1000E = '0000:00:05.0';

/** The materialized lab host under `dir` with `held` devices' uevent and driver_override as FIFOs and no driver link. */
function holdDevices(dir: string, held: string[]): string[] {
  const out: string[] = [];
  for (const a of held) {
    const dev = realpathSync(join(dir, 'sys/bus/pci/devices', a));
    rmSync(join(dev, 'driver')); // the kernel removes the link before the unbind waits for qemu
    for (const attr of ['uevent', 'driver_override']) {
      const f = join(dev, attr);
      rmSync(f);
      execFileSync('mkfifo', [f]);
      out.push(f);
    }
  }
  return out;
}

beforeAll(async () => {
  outer = mkdtempSync(join(tmpdir(), 'passthru-list-lock-'));
  root = join(outer, 'root');
  root2 = join(outer, 'root2');
  simFile = join(outer, 'host.json');
  writeFileSync(simFile, JSON.stringify(hostFromFixture(structuredClone(labHost))));
  await materialize(SimKernel.load(simFile, {}), root);
  await materialize(SimKernel.load(simFile, {}), root2);
  fifos = holdDevices(root, [E1000]);
  fifos2 = holdDevices(root2, [E1000, E1000E]);
});
afterAll(() => rmSync(outer, { recursive: true, force: true }));

/** Lets a reader blocked on each FIFO go (the kernel letting go of the lock); never blocks. */
function releaseFifos(list: string[]): void {
  for (const f of list) {
    let fd: number;
    try {
      fd = openSync(f, constants.O_WRONLY | constants.O_NONBLOCK); // ENXIO when no reader waits
    } catch {
      continue;
    }
    try {
      writeSync(fd, f.endsWith('uevent') ? 'DRIVER=vfio-pci\nPCI_CLASS=20000\nPCI_ID=8086:100E\n' : '(null)\n');
    } catch (err) {
      // EPIPE: the reader's open returned and its process ended before the read (a second request): let go all the same
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
    } finally {
      closeSync(fd);
    }
  }
}

/** `passthru list ARGS` on `treeRoot`: its output once it reported on stderr (reads still blocked), then its exit code once released. */
async function listWhileHeld(
  treeRoot: string,
  held: string[],
  args: string[],
): Promise<{ reported: boolean; stdout: string; stderr: string; code: number | null; env: NodeJS.ProcessEnv }> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LC_ALL: 'C',
    PASSTHRU_ROOT: treeRoot,
    PASSTHRU_STATE_DIR: join(outer, 'state'),
    PASSTHRU_WRITE_TIMEOUT_MS: '300',
  };
  const child = spawn(nodeBin, [dist.passthru, 'list', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  // the report must come while the reads are still blocked (nothing has released them yet)
  const reported = await new Promise<boolean>((resolve) => {
    const limit = setTimeout(() => resolve(false), 15_000);
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.includes('\n')) clearTimeout(limit), resolve(true);
    });
  });
  const out = stdout;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  releaseFifos(held);
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000); // never leave a stuck list behind
  const code = await exited;
  clearTimeout(killer);
  return { reported, stdout: out, stderr, code, env };
}

describe('passthru list on a tree whose device lock is held (NodeSysfs, real process)', () => {
  it('prints the whole listing while the reads still block, marks the device, says so on stderr, exits 1', async () => {
    const { reported, stdout, stderr, code, env } = await listWhileHeld(root, fifos, ['--json']);
    expect(reported, `no report while the reads were blocked: ${stderr}`).toBe(true);
    expect(stderr).toBe(
      `passthru: ${E1000}: driver_override did not answer within 300 ms, device lock held (being unbound?): listed without its driver state; passthru exits once the kernel answers\n`,
    );
    expect(code).toBe(1);
    const listing = JSON.parse(stdout) as Listing;
    const row = listing.devices.find((d) => d.address === E1000)!;
    expect(row.unreadable).toEqual(['driver_override']);
    expect(row.driver).toBeUndefined();
    // everything else as the simulated host it was made from lists it
    const ref = JSON.parse(
      spawnSync(nodeBin, [dist.passthru, 'list', '--json'], {
        env: { ...env, PASSTHRU_SIM: simFile },
        encoding: 'utf8',
      }).stdout,
    ) as Listing;
    const { unreadable: _u, ...held } = row;
    const { driver: _d, ...refRow } = ref.devices.find((d) => d.address === E1000)!;
    expect(held).toEqual(refRow);
    expect(listing.devices.filter((d) => d.address !== E1000)).toEqual(ref.devices.filter((d) => d.address !== E1000));
    expect(listing.mdevParents).toEqual(ref.mdevParents);
  });

  it("two held devices (each keeps one of node's four thread-pool threads): the listing still comes whole, both marked, and only they", async () => {
    // every module is loaded before the first read: a lazy import after it waited for a free thread for ever
    const { reported, stdout, stderr, code } = await listWhileHeld(root2, fifos2, []);
    expect(reported, `no report while the reads were blocked: ${stderr}`).toBe(true);
    expect(code).toBe(1);
    for (const a of [E1000, E1000E]) {
      expect(stdout.split('\n').find((l) => l.includes(a))).toMatch(
        /\?\s+.*driver state unreadable: device lock held \(being unbound\?\)$/,
      );
      expect(stderr).toContain(`passthru: ${a}: driver_override did not answer within 300 ms`);
    }
    expect(stdout).toContain('mdev parent mtty (not a PCI device)');
    // the stuck reads leave threads for the other devices' overrides: none of those is marked
    expect(stdout.split('\n').filter((l) => l.includes('driver state unreadable')).length).toBe(2);
    expect(stderr.trim().split('\n').length).toBe(2);
  });
});
