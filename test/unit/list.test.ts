// `passthru list`: golden text and JSON for the fixtures (regenerate with UPDATE_GOLDEN=1), filters,
// users from journals, and the CLI's refusal of a bad filter.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimKernel } from '../../src/sim/kernel.js';
import { readSimFile } from '../../src/sim/persist.js';
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
import { HostReader } from '../../src/host/reader.js';
import { addVfStates, buildListing, formatListing, vfPfNetdevs } from '../../src/host/listing.js';
import { readVfLinks } from '../../src/host/vf-links.js';
import { parseListFilter } from '../../src/host/list-filter.js';
import { domainUsers } from '../../src/host/users.js';
import { rootDiskDevices, defaultRouteDevices } from '../../src/exec/host-facts.js';
import { writeJournal, ensureStateDir, JOURNAL_SCHEMA } from '../../src/exec/journal.js';
import { writeSimFile } from '../../src/sim/persist.js';
import type { SimHostState } from '../../src/sim/state.js';

const here = dirname(fileURLToPath(import.meta.url));
const golden = (name: string, actual: string) => {
  const f = join(here, 'list.golden', name);
  if (process.env.UPDATE_GOLDEN || !existsSync(f)) writeFileSync(f, actual);
  expect(actual).toBe(readFileSync(f, 'utf8'));
};
const sim = (name: string) => new SimKernel(hostFromFixture(structuredClone(EMBEDDED_FIXTURES[name]) as SimHostState));

async function listText(
  k: SimKernel,
  spec?: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ text: string; json: string }> {
  const snap = await new HostReader(k).fullSnapshot();
  const facts = { rootDiskDevices: await rootDiskDevices(k), defaultRouteDevices: await defaultRouteDevices(k) };
  const filter = spec ? parseListFilter(spec) : undefined;
  const l = buildListing(
    snap,
    domainUsers({ PASSTHRU_STATE_DIR: join(tmpdir(), 'passthru-none'), ...env }, snap),
    filter,
    facts,
  );
  const vf = await readVfLinks(
    k,
    vfPfNetdevs(
      snap,
      l.devices.map((r) => r.address),
    ),
  );
  expect(vf.failed).toEqual([]);
  addVfStates(l, snap, vf.links);
  return { text: formatListing(l), json: `${JSON.stringify(l, null, 2)}\n` };
}

/** A fresh state dir whose one journal says `domain` is running and holds `holds`. */
function stateDirHolding(
  prefix: string,
  domain: { name: string; uuid: string },
  holds: { groups?: number[]; devices?: string[]; mdevs?: string[] },
): string {
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  ensureStateDir(stateDir);
  writeJournal(stateDir, {
    schema: JOURNAL_SCHEMA,
    domain,
    state: 'running',
    pid: 1,
    updated: '',
    holds: { groups: [], devices: [], mdevs: [], pfs: [], ...holds },
    actions: [],
  });
  return stateDir;
}

describe('passthru list', () => {
  it('workstation: text and JSON', async () => {
    const r = await listText(sim('workstation'));
    golden('workstation.txt', r.text);
    golden('workstation.json', r.json);
    expect(r.text).toMatch(
      /IOMMU group 3 \(2 devices\)\n {2}0000:01:00\.0 +10de:1b80 +VGA compatible controller +nouveau/,
    );
    expect(r.text).toMatch(/0000:02:00\.0 .*root disk/);
    expect(r.text).toMatch(/0000:00:1f\.6 .*default route/);
  });

  it('server with VFs and an mdev: text', async () => {
    const k = sim('server');
    await k.write(
      'sys/class/mdev_bus/0000:af:00.0/mdev_supported_types/nvidia-223/create',
      '0a0b0c0d-0000-4000-8000-000000000001',
    );
    const r = await listText(k);
    golden('server.txt', r.text);
    expect(r.text).toContain('VF 7 of 0000:3b:00.0');
    expect(r.text).toContain('mdev type nvidia-223 (GRID T4-2B): 7 available');
    // the T4's types share its frame buffer: one 2 GB instance leaves 14 of 1 GB and no 16 GB one
    expect(r.text).toContain('mdev type nvidia-222 (GRID T4-1B): 14 available');
    expect(r.text).toContain('mdev type nvidia-230 (GRID T4-16Q): 0 available');
    expect(r.text).toContain('mdev 0a0b0c0d-0000-4000-8000-000000000001 nvidia-223');
  });

  it('filters like lspci -d and shows the group peers of what matched', async () => {
    const k = sim('workstation');
    const gpu = await listText(k, '10de::0300');
    golden('workstation-filter-10de-0300.txt', gpu.text);
    expect(gpu.text).toContain('0000:01:00.1'); // the audio function goes with the GPU
    // …marked as shown for its group, not matched (text and JSON)
    expect(gpu.text).toMatch(/0000:01:00\.1 .*snd_hda_intel +group peer, not matched\n/);
    expect(gpu.text).not.toMatch(/0000:01:00\.0 .*not matched/);
    const json = JSON.parse(gpu.json) as { devices: { address: string; matched: boolean }[] };
    expect(json.devices.map((d) => [d.address, d.matched])).toEqual([
      ['0000:01:00.0', true],
      ['0000:01:00.1', false],
    ]);
    const usb = await listText(k, '::0c03,144d:a808');
    expect(
      (JSON.parse(usb.json) as { devices: { address: string; matched: boolean }[] }).devices
        .filter((d) => d.matched)
        .map((d) => d.address),
    ).toEqual(['0000:00:14.0', '0000:04:00.0', '0000:02:00.0']);
    expect((await listText(k, 'ffff:ffff')).text).toBe('no matching PCI devices\n');
    // lspci -d in full: '*' for any, x digits in the class
    const matched = async (spec: string) =>
      (JSON.parse((await listText(k, spec)).json) as { devices: { address: string; matched: boolean }[] }).devices
        .filter((d) => d.matched)
        .map((d) => d.address);
    expect(await matched('10de:*:03xx')).toEqual(['0000:01:00.0']);
    expect(await matched('::03xx')).toEqual(['0000:00:02.0', '0000:01:00.0']);
    expect(await matched('*:*:0c03:30')).toEqual(['0000:00:14.0', '0000:04:00.0']);
    expect(await matched('0x8086:0x15bc')).toEqual(['0000:00:1f.6']);
  });

  it('names the domain that holds a device, from the journals', async () => {
    const k = sim('workstation');
    const stateDir = stateDirHolding(
      'passthru-list-state-',
      { name: 'win10', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0' },
      { groups: [3], devices: ['0000:01:00.0'] },
    );
    const r = await listText(k, '10de:', { PASSTHRU_STATE_DIR: stateDir });
    expect(r.text).toMatch(/0000:01:00\.0 .*used by win10/);
    expect(r.text).toMatch(/0000:01:00\.1 .*used by win10/);
    expect((await listText(k, '10de:')).text).not.toContain('used by');
  });

  it('lab host (dump of the real 6.1 lab kernel): the non-PCI mdev parent mtty with its types and mdevs', async () => {
    const k = new SimKernel(readSimFile(join(here, '..', 'lab', 'lab-host.sim.json'))); // no file: the writes below stay in memory
    const u = '0c3f2a10-1111-4222-8333-944445555666';
    await k.write('sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create', u);
    const stateDir = stateDirHolding(
      'passthru-list-lab-',
      { name: 'serialvm', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa1' },
      { mdevs: [u] },
    );
    const r = await listText(k, undefined, { PASSTHRU_STATE_DIR: stateDir });
    golden('lab-host.txt', r.text);
    golden('lab-host.json', r.json);
    // one mtty-2 takes two of the parent's 24 ports: mtty-1 reads 22, as the real kernel's shared pool does
    expect(r.text).toContain(
      'mdev parent mtty (not a PCI device)\n  mdev type mtty-1 (Single port serial): 22 available\n  mdev type mtty-2 (Dual port serial): 11 available\n',
    );
    expect(r.text).toContain(`  mdev ${u} mtty-2; used by serialvm\n`);
    const json = JSON.parse(r.json) as {
      mdevParents?: { name: string; types: { id: string; availableInstances: number }[]; mdevs?: { uuid: string }[] }[];
    };
    expect(
      json.mdevParents?.map((p) => [
        p.name,
        p.types.map((t) => [t.id, t.availableInstances]),
        p.mdevs?.map((m) => m.uuid),
      ]),
    ).toEqual([
      [
        'mtty',
        [
          ['mtty-1', 22],
          ['mtty-2', 11],
        ],
        [u],
      ],
    ]);
    // a PCI filter lists PCI devices only
    const filtered = await listText(k, '::0200');
    expect(filtered.text).not.toContain('mtty');
    expect(JSON.parse(filtered.json)).not.toHaveProperty('mdevParents');
  });

  it('CLI: a bad filter is one line on stderr, exit 2; --json parses', () => {
    const cli = join(here, '..', '..', 'dist', 'passthru.js');
    if (!existsSync(cli)) return expect.fail('dist/passthru.js missing: run npm run build');
    const file = join(mkdtempSync(join(tmpdir(), 'passthru-list-cli-')), 'host.json');
    writeSimFile(file, hostFromFixture(structuredClone(EMBEDDED_FIXTURES.workstation) as SimHostState));
    const bad = spawnSync(process.execPath, [cli, 'list', '--filter', '10de:zz'], {
      env: { ...process.env, PASSTHRU_SIM: file },
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain("'10de:zz'");
    expect(bad.stdout).toBe('');
    const ok = spawnSync(process.execPath, [cli, 'list', '--json', '--filter', '8086:1521'], {
      env: { ...process.env, PASSTHRU_SIM: file },
      encoding: 'utf8',
    });
    expect(ok.status).toBe(0);
    expect((JSON.parse(ok.stdout) as { devices: unknown[] }).devices).toHaveLength(2);
  });
});
