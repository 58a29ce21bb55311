// The hook (dist/hook.cjs, real processes) against the simulator's real-kernel semantics of
// test/lab/FINDINGS.md, on the host the lab booted (test/lab/lab-host.sim.json) and on the shipped
// fixtures with the PF drivers' SR-IOV choice reversed:
//  - item 1: a PF driver that leaves SR-IOV enabled on unbind (nvme, the PCI core's default): the
//    cycles still restore the host exactly;
//  - item 2: several mdevs of one parent whose types share a pool;
//  - item 6: an unbind that blocks while qemu holds the device, and the device lock behind it: the
//    hook reports a timeout and exits, and recover finishes once qemu is gone;
//  - items 8 and 9: the same for the remove of an mdev qemu holds and for sriov_numvfs=0 while qemu
//    holds a VF.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimHost } from '../support/simhost.js';
import { domainXml, type DomainSpec } from '../support/domains.js';
import { scenarios } from '../support/scenarios.js';
import { SimKernel } from '../../src/sim/kernel.js';
import { EMBEDDED_FIXTURES } from '../../src/sim/fixture.js';
import type { SimHostState } from '../../src/sim/state.js';

const labHost = join(dirname(fileURLToPath(import.meta.url)), '..', 'lab', 'lab-host.sim.json');
const PF = '0000:04:00.0';
const E1000 = '0000:03:01.0';
const PEER = '0000:03:03.0'; // the other e1000 of group 9
const TIMEOUT = { PASSTHRU_WRITE_TIMEOUT_MS: '300' };
const tmp = mkdtempSync(join(tmpdir(), 'passthru-findings-hook-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Once qemu has let go: `passthru recover --all` ends cleanly, removes every journal and leaves the host as it began. */
async function expectRecoverRestores(h: SimHost, start: string): Promise<void> {
  const fin = await h.passthru(['recover', '--all']);
  expect({ code: fin.code, stderr: fin.stderr }).toEqual({ code: 0, stderr: '' });
  expect(h.journals()).toEqual([]);
  expect(h.state()).toBe(start);
}

async function cycle(h: SimHost, domains: DomainSpec[]): Promise<void> {
  const start = h.state();
  for (const d of domains) {
    const r = await h.hook(d.name, 'prepare', domainXml(d));
    expect({ code: r.code, stderr: r.stderr }, `prepare ${d.name}`).toEqual({ code: 0, stderr: '' });
  }
  for (const d of [...domains].reverse()) {
    const r = await h.hook(d.name, 'release', domainXml(d));
    expect({ code: r.code, stderr: r.stderr }, `release ${d.name}`).toEqual({ code: 0, stderr: '' });
  }
  expect(h.journals()).toEqual([]);
  expect(h.state()).toBe(start);
}

describe('PF drivers that leave SR-IOV enabled on unbind (FINDINGS 1)', () => {
  it('lab host (nvme): VFs raised for the domain, one VF on vfio-pci, release restores the host exactly', async () => {
    const h = await SimHost.create(labHost);
    try {
      const d: DomainSpec = {
        name: 'lab-vf',
        pfs: [{ address: PF, vfs: 2 }],
        hostdevs: [{ address: '0000:04:00.1', managed: false }],
      };
      const start = h.state();
      const r = await h.hook(d.name, 'prepare', domainXml(d));
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const mid = SimKernel.load(h.file, {});
      expect(mid.device(PF)!.sriov!.numVfs).toBe(2);
      expect(mid.device('0000:04:00.1')!.driver).toBe('vfio-pci');
      expect(mid.device('0000:04:00.2')!.driver).toBeUndefined(); // QEMU's nvme VFs stay driverless
      expect(h.state()).not.toBe(start);
      const rel = await h.hook(d.name, 'release', domainXml(d));
      expect({ code: rel.code, stderr: rel.stderr }).toEqual({ code: 0, stderr: '' });
      expect(h.state()).toBe(start);
    } finally {
      h.cleanup();
    }
  });

  for (const fixture of ['workstation', 'server']) {
    it(`${fixture} with every PF driver leaving SR-IOV enabled: every scenario's cycle restores the host exactly`, async () => {
      const fx = structuredClone(EMBEDDED_FIXTURES[fixture]) as SimHostState & { description?: string };
      let flipped = 0;
      for (const d of fx.devices) if (d.sriov?.disableOnUnbind) delete d.sriov.disableOnUnbind, flipped++;
      expect(flipped).toBeGreaterThan(0);
      const file = join(tmp, `${fixture}-keep-vfs.json`);
      writeFileSync(file, JSON.stringify(fx));
      const base = await SimHost.create(file);
      try {
        for (const sc of scenarios(fixture)) {
          await base.withCopy(async (h) => {
            await cycle(h, sc.domains);
          });
        }
      } finally {
        base.cleanup();
      }
    }, 300_000);
  }
});

describe('mdevs of one parent sharing a pool (FINDINGS 2)', () => {
  const u = (n: number) => `6b0e0c1e-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const mtty = (n: number, type: string) => ({ uuid: u(n), type, parent: 'mtty' });

  it('two mdevs of both mtty types are created and removed, the pool reads right in between', async () => {
    const h = await SimHost.create(labHost);
    try {
      const d: DomainSpec = { name: 'lab-mtty', mdevs: [mtty(1, 'mtty-1'), mtty(2, 'mtty-2')] };
      const start = h.state();
      const r = await h.hook(d.name, 'prepare', domainXml(d));
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const k = SimKernel.load(h.file, {});
      const avail = async (t: string) =>
        (await k.read(`sys/class/mdev_bus/mtty/mdev_supported_types/${t}/available_instances`)).trim();
      expect([await avail('mtty-1'), await avail('mtty-2')]).toEqual(['21', '10']);
      const rel = await h.hook(d.name, 'release', domainXml(d));
      expect({ code: rel.code, stderr: rel.stderr }).toEqual({ code: 0, stderr: '' });
      expect(h.state()).toBe(start);
    } finally {
      h.cleanup();
    }
  });

  it('3 ports left (mtty-1: 3, mtty-2: 1): one mtty-2 and two mtty-1 are refused before any change', async () => {
    const h = await SimHost.create(labHost);
    try {
      const k = SimKernel.load(h.file, {});
      for (let i = 0; i < 21; i++)
        await k.write('sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create', u(100 + i));
      const before = h.state();
      h.clearLog();
      const d: DomainSpec = { name: 'lab-mtty-full', mdevs: [mtty(1, 'mtty-2'), mtty(2, 'mtty-1'), mtty(3, 'mtty-1')] };
      const r = await h.hook(d.name, 'prepare', domainXml(d));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/draw from one pool/);
      expect(h.writes()).toEqual([]);
      expect(h.state()).toBe(before);
    } finally {
      h.cleanup();
    }
  });
});

describe('an unbind that blocks while qemu holds the device (FINDINGS 6)', () => {
  it('release reports the timeout and exits; prepare and recover meanwhile too; recover finishes once qemu is gone', async () => {
    const h = await SimHost.create(labHost);
    try {
      const start = h.state();
      const d: DomainSpec = { name: 'lab-e1000', hostdevs: [{ address: E1000, managed: false }] };
      const ok = await h.hook(d.name, 'prepare', domainXml(d));
      expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
      // a qemu that still holds the device when release runs (it has not exited yet)
      SimKernel.load(h.file, {}).setInUse(E1000, true);

      const rel = await h.hook(d.name, 'release', domainXml(d), { env: TIMEOUT, limitMs: 20_000 });
      expect(rel.timedOut, 'release hung').toBe(false);
      expect(rel.code).toBe(0); // release never fails libvirt
      expect(rel.stderr).toMatch(new RegExp(`${E1000}: unbind failed: timed out`));
      expect(rel.stderr).toMatch(/journal kept/);
      let k = SimKernel.load(h.file, {});
      expect(k.device(E1000)!.unbinding).toBe(true);
      expect(k.device(PEER)!.driver).toBe('e1000'); // the other device was still put back

      // while the kernel holds the device lock: driver_override reads block; every run is bounded
      const rec = await h.passthru(['recover', '--all'], { env: TIMEOUT, limitMs: 20_000 });
      expect(rec.timedOut, 'recover hung').toBe(false);
      expect(rec.code).not.toBe(0);
      expect(rec.stderr).toMatch(new RegExp(`${E1000}: driver_override failed: timed out after 300 ms: reading`));
      const again: DomainSpec = { name: 'lab-e1000-b', hostdevs: [{ address: PEER, managed: false }] };
      const prep = await h.hook(again.name, 'prepare', domainXml(again), { env: TIMEOUT, limitMs: 20_000 });
      expect(prep.timedOut, 'prepare hung').toBe(false);
      expect(prep.code).not.toBe(0);
      expect(prep.stderr).toMatch(/timed out after 300 ms: reading the host/);

      // qemu exits: the kernel finishes the unbind; recover puts everything back
      k = SimKernel.load(h.file, {});
      k.setInUse(E1000, false);
      expect(k.device(E1000)!.driver).toBeUndefined();
      await expectRecoverRestores(h, start);
    } finally {
      h.cleanup();
    }
  }, 120_000);
});

describe('an mdev remove and an SR-IOV disable that wait for qemu (FINDINGS 8, 9)', () => {
  it('mdev: release reports the timeout and exits; a new prepare meanwhile says why create fails; all is back once qemu is gone', async () => {
    const h = await SimHost.create(labHost);
    try {
      const U = '6b0e0c1e-0000-4000-8000-000000000001';
      const d: DomainSpec = { name: 'lab-mtty', mdevs: [{ uuid: U, type: 'mtty-1', parent: 'mtty' }] };
      const start = h.state();
      const ok = await h.hook(d.name, 'prepare', domainXml(d));
      expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
      SimKernel.load(h.file, {}).setInUse(U, true); // qemu has not let go yet

      const rel = await h.hook(d.name, 'release', domainXml(d), { env: TIMEOUT, limitMs: 20_000 });
      expect(rel.timedOut, 'release hung').toBe(false);
      expect(rel.code).toBe(0);
      expect(rel.stderr).toMatch(new RegExp(`${U}: mdev remove failed: timed out after 300 ms: writing '1' to`));
      expect(rel.stderr).toMatch(/journal kept/);
      expect(SimKernel.load(h.file, {}).state.mdevs?.find((m) => m.uuid === U)?.removing).toBe(true);

      // the next start of the domain, while the remove still waits: refused with the reason, nothing changed
      const again = await h.hook(d.name, 'prepare', domainXml(d), { env: TIMEOUT, limitMs: 20_000 });
      expect(again.timedOut, 'prepare hung').toBe(false);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(
        new RegExp(
          `${U}: mdev create failed: EIO: .*an earlier remove of this mdev may still be waiting for a VM to close it`,
        ),
      );

      // recover: the mdev is off the bus already (the kernel finishes the remove by itself), nothing to do
      const rec = await h.passthru(['recover', '--all'], { env: TIMEOUT, limitMs: 20_000 });
      expect({ code: rec.code, stderr: rec.stderr, timedOut: rec.timedOut }).toEqual({
        code: 0,
        stderr: '',
        timedOut: false,
      });
      expect(h.journals()).toEqual([]);

      SimKernel.load(h.file, {}).setInUse(U, false); // qemu exits: the remove completes
      expect(h.state()).toBe(start);
    } finally {
      h.cleanup();
    }
  }, 120_000);

  it('VF: release reports both timeouts and exits; recover meanwhile too; once qemu is gone (the VFs with it) recover ends the journal', async () => {
    const h = await SimHost.create(labHost);
    try {
      const VF = '0000:04:00.1';
      const d: DomainSpec = {
        name: 'lab-vf',
        pfs: [{ address: PF, vfs: 2 }],
        hostdevs: [{ address: VF, managed: false }],
      };
      const start = h.state();
      const ok = await h.hook(d.name, 'prepare', domainXml(d));
      expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
      SimKernel.load(h.file, {}).setInUse(VF, true);

      const rel = await h.hook(d.name, 'release', domainXml(d), { env: TIMEOUT, limitMs: 20_000 });
      expect(rel.timedOut, 'release hung').toBe(false);
      expect(rel.code).toBe(0);
      expect(rel.stderr).toMatch(new RegExp(`${VF}: unbind failed: timed out after 300 ms`));
      expect(rel.stderr).toMatch(new RegExp(`${PF}: sriov_numvfs failed: timed out after 300 ms: writing '0'`));
      expect(rel.stderr).toMatch(/journal kept/);
      const k = SimKernel.load(h.file, {});
      expect(k.device(PF)!.sriov!.disablingAt).toBe(0); // the kernel waits at VF 0

      const rec = await h.passthru(['recover', '--all'], { env: TIMEOUT, limitMs: 20_000 });
      expect(rec.timedOut, 'recover hung').toBe(false);
      expect(rec.code).not.toBe(0);
      expect(rec.stderr).toMatch(new RegExp(`${PF}: sriov_numvfs failed: timed out after 300 ms: reading`));
      // list and doctor read devices without the device lock, but the driverless VF's driver_override
      // with it: bounded, they finish; list shows the VF without its driver state, names it on stderr
      // and exits 1; the PF (still on nvme, its lock held by the disable) reads as usual
      const list = await h.passthru(['list'], { env: TIMEOUT, limitMs: 20_000 });
      expect(list.timedOut, 'list hung').toBe(false);
      expect(list.code).toBe(1);
      expect(list.stdout).toMatch(new RegExp(`^  ${VF} .*driver state unreadable: device lock held`, 'm'));
      expect(list.stderr).toBe(
        `passthru: ${VF}: driver_override did not answer within 300 ms, device lock held (being unbound?): listed without its driver state; passthru exits once the kernel answers\n`,
      );
      expect(list.stdout).toMatch(new RegExp(`^  ${PF} .* nvme +SR-IOV`, 'm'));
      const doctor = await h.passthru(['doctor'], { env: TIMEOUT, limitMs: 20_000 });
      expect(doctor.timedOut, 'doctor hung').toBe(false);
      expect(doctor.stdout).toMatch(/\d+ passed, \d+ warnings?, 0 failed/);
      expect(doctor.stdout).toMatch(
        new RegExp(
          `^WARN  Every device answers \\(no device lock held\\): ${VF} \\(driver_override\\) did not answer in time`,
          'm',
        ),
      );

      // qemu exits: the kernel finishes the unbind and the disable, the VFs are gone; the journal's
      // steps about the VF have nothing left to restore, and recover says so by ending cleanly
      SimKernel.load(h.file, {}).setInUse(VF, false);
      expect(h.state()).toBe(start);
      await expectRecoverRestores(h, start);
    } finally {
      h.cleanup();
    }
  }, 120_000);

  it('recover that cannot get the host-wide lock (a hook run waiting in the kernel holds it on a real host) says so', async () => {
    const h = await SimHost.create(labHost);
    const { spawn } = await import('node:child_process');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(h.stateDir, { recursive: true });
    const holder = spawn('flock', [join(h.stateDir, 'lock'), 'sh', '-c', 'echo locked; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      await new Promise((r) => holder.stdout!.once('data', r)); // flock has the lock
      const r = await h.passthru(['recover', '--all'], { env: { PASSTHRU_LOCK_WAIT_S: '1' }, limitMs: 20_000 });
      expect(r.timedOut, 'recover hung').toBe(false);
      expect(r.code).toBe(75);
      expect(r.stderr).toBe(
        'passthru: recover: timed out after 1 s waiting for the host-wide lock (another hook or recover run holds it; one whose host write waits in the kernel holds it until the kernel lets go)\n',
      );
    } finally {
      holder.kill();
      h.cleanup();
    }
  }, 60_000);
});
