// `passthru list` at scale, beside lspci, and what planning one domain costs in sysfs reads:
//  1. `passthru list` on a synthetic 10,000-device host materialized as a sysfs-like tree on tmpfs
//     (PASSTHRU_ROOT: NodeSysfs, the code path of a real host) vs `lspci -D -k` on the same tree
//     (`-O sysfs.path=`), runs interleaved so other load hits both alike. Budget <= 1.5x, goal <= 1x.
//  2. HostReader.snapshotFor for one domain (a GPU + its audio function, one VF from a PF netdev, one
//     mdev type) on hosts of 100 and 10,000 devices, counted in the simulator: the counts must be equal.
//  3. The sysfs reads of the whole listing, per device.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { childCpuMs, median, row, timed } from './lib.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(repo, 'dist', 'passthru.js');
const work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'passthru-bench-list-'));
const N = 10_000;

function must(r, what) {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}`);
  return r;
}

/**
 * What a real host's device directory has and the simulator's tree leaves out: `config` (lspci reads
 * its first 64 bytes: ids, class, header type, subsystem) and `modalias` (`pci:v…d…sv…sd…bc…sc…i…`,
 * which `passthru list` reads for the ids), both from the tree's own id files.
 */
function addRealHostFiles(tree) {
  const dir = join(tree, 'sys/bus/pci/devices');
  for (const a of readdirSync(dir)) {
    const d = join(dir, a);
    const h = (f) => (existsSync(join(d, f)) ? parseInt(readFileSync(join(d, f), 'utf8'), 16) : 0);
    const [vendor, device, cls, sv, sd] = ['vendor', 'device', 'class', 'subsystem_vendor', 'subsystem_device'].map(h);
    const c = Buffer.alloc(64);
    c.writeUInt16LE(vendor, 0);
    c.writeUInt16LE(device, 2);
    c.writeUInt8(cls & 0xff, 9);
    c.writeUInt16LE(cls >> 8, 10);
    c.writeUInt8(cls >> 8 === 0x0604 ? 1 : 0, 14); // header type: 1 for a PCI-to-PCI bridge
    c.writeUInt16LE(sv, 0x2c);
    c.writeUInt16LE(sd, 0x2e);
    writeFileSync(join(d, 'config'), c);
    const x = (n, w) => n.toString(16).toUpperCase().padStart(w, '0');
    const b = (shift) => x((cls >> shift) & 0xff, 2);
    writeFileSync(
      join(d, 'modalias'),
      `pci:v${x(vendor, 8)}d${x(device, 8)}sv${x(sv, 8)}sd${x(sd, 8)}bc${b(16)}sc${b(8)}i${b(0)}\n`,
    );
  }
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
  addRealHostFiles(tree);
  const listEnv = { ...process.env, PASSTHRU_SIM: '', PASSTHRU_ROOT: tree, PASSTHRU_STATE_DIR: join(work, 'state') };
  const lines = must(
    spawnSync(process.execPath, [cli, 'list'], { encoding: 'utf8', env: listEnv, maxBuffer: 64 << 20 }),
    'list',
  ).stdout.split('\n').length;
  const lspciArgv = ['lspci', '-D', '-k', '-O', `sysfs.path=${join(tree, 'sys/bus/pci')}`];
  const lspci = spawnSync(lspciArgv[0], lspciArgv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (lspci.error || lspci.status !== 0) {
    console.log('lspci not found or failed: install pciutils (scripts/install-deps.sh bench)');
    process.exitCode = 1;
  } else {
    const runs = 7;
    const t = { node0: [], lspci: [], list: [] };
    const cpu = { node0: 0, lspci: 0, list: 0 };
    for (let i = 0; i < runs + 1; i++) {
      const c0 = childCpuMs();
      const a = timed([process.execPath, '-e', '0']);
      const c1 = childCpuMs();
      const b = timed(lspciArgv);
      const c2 = childCpuMs();
      const c = timed([process.execPath, cli, 'list'], { env: listEnv });
      const c3 = childCpuMs();
      if (i === 0) continue; // warm-up
      t.node0.push(a);
      t.lspci.push(b);
      t.list.push(c);
      cpu.node0 += c1 - c0;
      cpu.lspci += c2 - c1;
      cpu.list += c3 - c2;
    }
    const base = median(t.lspci);
    row('node -e 0', median(t.node0));
    row(`lspci -D -k, ${N} devices, same tree (baseline)`, base);
    row(`passthru list, ${N} devices, tree (NodeSysfs; ${lines} lines)`, median(t.list), base);
    const ratio = median(t.list) / base;
    console.log(
      `CPU per run (mean, user+sys): node -e 0 ${(cpu.node0 / runs).toFixed(0)} ms, lspci ${(cpu.lspci / runs).toFixed(0)} ms, passthru list ${(cpu.list / runs).toFixed(0)} ms (${(cpu.list / cpu.lspci).toFixed(2)}x)`,
    );
    console.log(
      `budget <= 1.5x lspci: ${ratio <= 1.5 ? 'met' : 'NOT met'}; goal <= 1x: ${ratio <= 1 ? 'met' : 'not met'} (${ratio.toFixed(2)}x wall)`,
    );
  }

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
  // what `passthru list` costs per device in sysfs entries (the directory, the three id files, the
  // driver and iommu_group links, and net / SR-IOV / boot_vga where present; no modalias here)
  const whole = new SimKernel(hostFromFixture(generateHost(N)));
  whole.reads = 0;
  await new HostReader(whole).fullSnapshot();
  console.log(
    `fullSnapshot (passthru list) on ${N} simulated devices: ${whole.reads} sysfs reads, ${(whole.reads / N).toFixed(2)} per device`,
  );
  if (counts[0] !== counts[1]) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
