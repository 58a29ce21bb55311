// NodeSysfs on a real directory tree where one device's driver_override blocks on read, as the real
// kernel's does while an unbind waits for qemu (the device lock, test/lab/FINDINGS.md): here a FIFO,
// whose open() blocks until a writer comes. The hook (a real process, dist/hook.cjs on
// PASSTHRU_ROOT) must report the timeout while the read still blocks. A synchronous read would block
// the event loop and the timeout could never fire.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimKernel } from '../../src/sim/kernel.js';
import { materialize } from '../../src/sim/materialize.js';
import { NodeSysfs } from '../../src/host/node-sysfs.js';
import { bounded } from '../../src/host/bounded.js';
import { readTakesDeviceLock } from '../../src/host/device-lock.js';
import { SimHost } from '../support/simhost.js';
import { domainXml } from '../support/domains.js';
import { dist, nodeBin } from '../support/paths.js';

const labHost = join(dirname(fileURLToPath(import.meta.url)), '..', 'lab', 'lab-host.sim.json');
const E1000 = '0000:03:01.0';
let outer: string;
let root: string;
let fifo: string;

beforeAll(async () => {
  outer = mkdtempSync(join(tmpdir(), 'passthru-devlock-'));
  root = join(outer, 'root');
  mkdirSync(join(outer, 'state'));
  const sim = await SimHost.create(labHost);
  try {
    await materialize(SimKernel.load(sim.file, {}), root);
  } finally {
    sim.cleanup();
  }
  fifo = join(realpathSync(join(root, 'sys/bus/pci/devices', E1000)), 'driver_override');
  rmSync(fifo);
  execFileSync('mkfifo', [fifo]);
});
afterAll(() => rmSync(outer, { recursive: true, force: true }));

/** Lets a reader blocked on the FIFO go (as the kernel does once qemu lets go of the device); false when none waits. */
function releaseFifo(content: string): boolean {
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK); // ENXIO when no reader waits: never block the suite
  } catch {
    return false;
  }
  try {
    writeSync(fd, content);
  } catch (err) {
    // EPIPE: the reader's open returned (our open let it go) and its process ended before its read,
    // which NodeSysfs queues as a second request that an exiting node no longer runs: let go all the same
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
  } finally {
    closeSync(fd);
  }
  return true;
}

describe('reads that take the device lock (NodeSysfs)', () => {
  it('names the attributes whose show takes device_lock in 6.1, and only those', () => {
    for (const a of ['driver_override', 'sriov_numvfs', 'sriov_vf_total_msix', 'uevent'])
      expect(readTakesDeviceLock(`sys/bus/pci/devices/${E1000}/${a}`)).toBe(true);
    for (const a of ['vendor', 'device', 'class', 'sriov_totalvfs', 'driver', 'iommu_group'])
      expect(readTakesDeviceLock(`sys/bus/pci/devices/${E1000}/${a}`)).toBe(false);
  });

  it('the hook on a real tree reports the blocked read as a timeout at once, and exits once the read is let go', async () => {
    const d = { name: 'lab-e1000', hostdevs: [{ address: E1000, managed: false }] };
    const env = {
      PATH: join(outer, 'no-tools'),
      LC_ALL: 'C',
      PASSTHRU_ROOT: root,
      PASSTHRU_STATE_DIR: join(outer, 'state'),
      PASSTHRU_LOCKED: '1',
      PASSTHRU_WRITE_TIMEOUT_MS: '300',
    };
    const child = spawn(nodeBin, [dist.hook, d.name, 'prepare', 'begin', '-'], {
      env,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    child.stdin.end(domainXml(d));
    let stderr = '';
    // the report must come while the read is still blocked: a synchronous read would stall the
    // event loop and no report would ever come (the limit below then fails the test)
    const reported = await new Promise<boolean>((resolve) => {
      const limit = setTimeout(() => resolve(false), 15_000);
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (/timed out/.test(stderr)) clearTimeout(limit), resolve(true);
      });
    });
    // what the bound cannot do: the read's thread stays in the kernel, and Node's exit waits for it
    // (libuv joins its thread pool), so the process ends only once the kernel lets go
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    if (!releaseFifo('(null)\n')) child.kill('SIGKILL');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000); // never leave a stuck hook behind
    const code = await exited;
    clearTimeout(killer);
    expect(reported, `no timeout report while the read was blocked: ${stderr}`).toBe(true);
    expect(stderr).toMatch(/timed out after 300 ms: reading the host/);
    expect(code).not.toBe(0);
  });

  it('in process: the bound fires while the read waits, other reads go on, the read completes once let go', async () => {
    const sysfs = new NodeSysfs(root);
    const blocked = sysfs.read(`sys/bus/pci/devices/${E1000}/driver_override`);
    await expect(bounded('reading driver_override', 200, blocked)).rejects.toThrow(/timed out after 200 ms/);
    expect(await sysfs.read(`sys/bus/pci/devices/${E1000}/vendor`)).toBe('0x8086\n');
    expect(releaseFifo('vfio-pci\n')).toBe(true);
    expect(await blocked).toBe('vfio-pci\n');
  });
});
