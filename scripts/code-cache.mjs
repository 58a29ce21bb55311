// Build step: writes V8's compiled code of dist/NAME-main.cjs (read by src/start/code-cache-load.ts)
// after training runs, so it holds the functions a real call compiles, not just the top level.
// Usage: node scripts/code-cache.mjs DIST NAME CACHE_NAME   (NAME: hook or xmlfix)
//   hook: `prepare begin` and then `release end` of a domain with hostdevs, an mdev and VFs on a
//   simulated workstation (a temp dir). xmlfix: a --check, then a plain --add-hostdev edit of a q35
//   domain (what a pipeline call does). Each run is its own node, starting from the previous run's
//   cache, so the last cache holds them all. Run by a node with no flags (the build clears
//   NODE_OPTIONS): V8 accepts a cache only from the same version and flags.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Script } from 'node:vm';
import { createRequire } from 'node:module';

const [distArg, name, cacheName, op] = process.argv.slice(2);
const dist = resolve(distArg);
const bundle = join(dist, `${name}-main.cjs`);
const cacheFile = join(dist, cacheName);
/** One training run: this script again, running the bundle as its loader (dist/hook.cjs, dist/xmlfix.js) would with ARGS. */
const train = (args, opts) =>
  spawnSync(process.execPath, [process.argv[1], dist, name, cacheName, 'run', ...args], { encoding: 'utf8', ...opts });

if (op === 'run') {
  // one training run, as the loader runs the bundle, writing the cache when the program exits
  // (xmlfix --check exits 1 for a change: the caller checks the status it expects)
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // the first run
  }
  const script = new Script(readFileSync(bundle, 'utf8'), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  if (script.cachedDataRejected) throw new Error('the previous training run wrote a cache V8 rejects');
  process.on('exit', () => {
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  });
  const mod = { exports: {} };
  process.argv = [process.execPath, join(dist, name === 'xmlfix' ? 'xmlfix.js' : 'hook.cjs'), ...process.argv.slice(6)];
  script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, dist);
} else if (name === 'xmlfix') {
  const fixture = resolve('fixtures/xml/domain-q35.xml');
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [args, status] of [
    [[fixture, '--add-hostdev', '01:00.0', '--check'], 1],
    [[fixture, '--add-hostdev', '01:00.0'], 0],
  ]) {
    const r = train(args, { env });
    if (r.status !== status || r.stderr)
      throw new Error(`training xmlfix ${args.slice(1).join(' ')} (exit ${r.status}): ${r.stderr.trim()}`);
  }
} else {
  const work = mkdtempSync(join(tmpdir(), 'passthru-code-cache-'));
  try {
    const host = join(work, 'host.json');
    const init = spawnSync(
      process.execPath,
      [join(dist, 'passthru.js'), 'sim', 'init', '--fixture', 'workstation', '-o', host],
      { encoding: 'utf8' },
    );
    if (init.status !== 0) throw new Error(`passthru sim init: ${init.stderr}`);
    const ns = 'https://passthru.dev/xmlns/domain/1';
    const addr = (bus, slot, fn) =>
      `<address type='pci' domain='0x0000' bus='0x${bus}' slot='0x${slot}' function='0x${fn}'/>`;
    const xml = `<domain type='kvm'>
  <name>code-cache-training</name>
  <uuid>0c0de0ca-c4e0-4a1b-8c2d-3e4f5a6b7c8d</uuid>
  <metadata>
    <passthru:devices xmlns:passthru='${ns}'>
      <passthru:mdev uuid='0c0de0ca-0000-4000-8000-000000000001' type='i915-GVTg_V5_4' parent='0000:00:02.0'/>
      <passthru:pf dev='enp3s0f0' vfs='1'/>
      <passthru:vf address='0000:03:10.0' trust='on'/>
    </passthru:devices>
  </metadata>
  <devices>
    <hostdev mode='subsystem' type='pci' managed='yes'><source>${addr('01', '00', '0')}</source></hostdev>
    <hostdev mode='subsystem' type='pci' managed='no'><source>${addr('00', '14', '0')}</source></hostdev>
    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci'><source><address uuid='0c0de0ca-0000-4000-8000-000000000001'/></source></hostdev>
    <interface type='hostdev' managed='yes'><mac address='52:54:00:0c:0d:01'/><source>${addr('03', '10', '0')}</source></interface>
  </devices>
</domain>
`;
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PASSTHRU_SIM: host,
      PASSTHRU_STATE_DIR: join(work, 'state'),
      PASSTHRU_LOCKED: '1',
    };
    for (const [o, sub] of [
      ['prepare', 'begin'],
      ['release', 'end'],
    ]) {
      const r = train(['code-cache-training', o, sub, '-'], { input: xml, env });
      if (r.status !== 0 || r.stderr) throw new Error(`training ${o} ${sub} (exit ${r.status}): ${r.stderr.trim()}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
