// `passthru list` at scale, and what planning one domain costs in sysfs reads:
//  1. `passthru list` on a synthetic 10,000-device host, (a) simulated (PASSTHRU_SIM, the JSON host
//     in memory) and (b) materialized as a real sysfs-like tree on tmpfs read by NodeSysfs
//     (PASSTHRU_ROOT: the code path of a real host). Target <= 0.5 s. `node -e 0` is printed beside
//     them: on a loaded machine every figure grows alike.
//  2. HostReader.snapshotFor for one domain (a GPU + its audio function, one VF from a PF netdev, one
//     mdev type) on hosts of 100 and 10,000 devices, counted in the simulator: the counts must be equal.
//  3. The sysfs reads of the whole listing, per device.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { row, timeCommand } from './lib.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(repo, 'dist', 'passthru.js');
const work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'passthru-bench-list-'));
const N = 10_000;

function must(r, what) {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}`);
  return r;
}

try {
  const sim = join(work, 'host.json');
  const tree = join(work, 'tree');
  must(
    spawnSync(process.execPath, [cli, 'sim', 'init', '--generate', String(N), '-o', sim], { encoding: 'utf8' }),
    'sim init',
  );
  must(
    spawnSync(process.execPath, [cli, 'sim', 'materialize', '-o', tree], {
      encoding: 'utf8',
      env: { ...process.env, PASSTHRU_SIM: sim },
    }),
    'sim materialize',
  );
  const lines = must(
    spawnSync(process.execPath, [cli, 'list'], {
      encoding: 'utf8',
      env: { ...process.env, PASSTHRU_SIM: sim },
      maxBuffer: 64 << 20,
    }),
    'list',
  ).stdout.split('\n').length;
  const runs = 5;
  const base = timeCommand([process.execPath, '-e', '0'], { runs, warmup: 1 });
  row('node -e 0', base);
  const tSim = timeCommand([process.execPath, cli, 'list'], {
    runs,
    warmup: 1,
    env: { ...process.env, PASSTHRU_SIM: sim },
  });
  row(`passthru list, ${N} devices, simulated (${lines} lines)`, tSim, base);
  const tTree = timeCommand([process.execPath, cli, 'list'], {
    runs,
    warmup: 1,
    env: { ...process.env, PASSTHRU_SIM: '', PASSTHRU_ROOT: tree },
  });
  row(`passthru list, ${N} devices, materialized tree (NodeSysfs)`, tTree, base);
  console.log(
    `target <= 500 ms: simulated ${tSim <= 500 ? 'met' : 'NOT met'}, tree ${tTree <= 500 ? 'met' : 'NOT met'}`,
  );

  // read counts, in process: bundle the modules the count needs
  const mod = join(work, 'reads.mjs');
  await build({
    stdin: {
      contents:
        "export { SimKernel } from './src/sim/kernel.ts'; export { hostFromFixture } from './src/sim/fixture.ts'; export { generateHost } from './src/sim/generate.ts'; export { HostReader } from './src/host/reader.ts';",
      resolveDir: repo,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: mod,
    logLevel: 'error',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  const { SimKernel, hostFromFixture, generateHost, HostReader } = await import(pathToFileURL(mod).href);
  const counts = [];
  for (const n of [100, N]) {
    const host = generateHost(n);
    // one domain: GPU+audio slot, a VF taken from the first SR-IOV PF, an mdev parent type on the GPU
    host.devices[0].mdevTypes = [{ id: 'bench-1', availableInstances: 4 }];
    const k = new SimKernel(hostFromFixture(host));
    await k.write('sys/bus/pci/devices/0000:02:00.0/sriov_numvfs', '4');
    k.reads = 0;
    const snap = await new HostReader(k).snapshotFor({
      addresses: ['0000:01:00.0', '0000:02:10.1'],
      netdevs: ['enp2s0f0d0'],
      mdevParents: ['0000:01:00.0'],
      mdevUuids: ['6f0e1c5a-0000-4000-8000-000000000001'],
    });
    counts.push(k.reads);
    console.log(
      `snapshotFor one domain on ${String(n).padStart(6)} devices: ${k.reads} sysfs reads, ${Object.keys(snap.devices).length} devices in the snapshot`,
    );
  }
  console.log(
    `read count ${counts[0] === counts[1] ? 'does not grow' : 'GROWS'} with the host (${counts.join(' vs ')})`,
  );
  // what `passthru list` costs per device in sysfs entries (directory, uevent, driver_override,
  // iommu_group, and net / SR-IOV / boot_vga where present)
  const whole = new SimKernel(hostFromFixture(generateHost(N)));
  whole.reads = 0;
  await new HostReader(whole).fullSnapshot();
  console.log(
    `fullSnapshot (passthru list) on ${N} devices: ${whole.reads} sysfs reads, ${(whole.reads / N).toFixed(2)} per device`,
  );
  if (counts[0] !== counts[1]) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
