// `passthru list` for VFs of an NVIDIA GPU in vGPU mode (vGPU 17+, vendor-specific VFIO): the current
// type and what is creatable, in text and JSON; and the reader reads the nvidia/ files lazily.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimKernel } from '../../src/sim/kernel.js';
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
import { HostReader } from '../../src/host/reader.js';
import { buildListing, formatListing } from '../../src/host/listing.js';
import { parseCreatableVgpuTypes } from '../../src/host/nvidia-vgpu.js';
import { writeSimFile } from '../../src/sim/persist.js';
import type { SimHostState } from '../../src/sim/state.js';

const VF0 = '0000:41:00.4';
const server = () => new SimKernel(hostFromFixture(structuredClone(EMBEDDED_FIXTURES.server) as SimHostState));

describe('NVIDIA vGPU VFs in the host model and passthru list', () => {
  it('text: the VF with a vGPU names its type, a free VF lists what it can take now', async () => {
    const k = server();
    await k.write(`sys/bus/pci/devices/${VF0}/nvidia/current_vgpu_type`, '1157');
    const text = formatListing(buildListing(await new HostReader(k).fullSnapshot(), new Map()));
    expect(text).toMatch(
      new RegExp(
        `\\n {2}${VF0.replace(/\./g, '\\.')} +10de:26b9 +3D controller +nvidia +VF 0 of 0000:41:00\\.0\\n +vGPU type 1157 \\(NVIDIA L40S-12Q\\)\\n`,
      ),
    );
    expect(text).toContain('  0000:41:00.5  10de:26b9');
    expect(text).toMatch(
      /0000:41:00\.5 .*\n +no vGPU; creatable: 1157 \(NVIDIA L40S-12Q\), 1167 \(NVIDIA L40S-12C\)\n/,
    );
    // the PF itself has no nvidia/ directory: no vGPU line under it
    expect(text).toMatch(/0000:41:00\.0 .*SR-IOV 4\/32 VFs\n(?! +(no )?vGPU)/);
  });

  it('JSON through the CLI (--filter on the VF id): vgpu.currentType and vgpu.creatable', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'passthru-list-vgpu-')), 'host.json');
    writeSimFile(file, hostFromFixture(structuredClone(EMBEDDED_FIXTURES.server) as SimHostState));
    const r = spawnSync(process.execPath, ['dist/passthru.js', 'list', '--json', '--filter', '10de:26b9'], {
      env: { ...process.env, PASSTHRU_SIM: file },
      encoding: 'utf8',
    });
    expect([r.status, r.stderr]).toEqual([0, '']);
    const devices = (
      JSON.parse(r.stdout) as {
        devices: { address: string; vgpu?: { currentType: number; creatable: { id: number; name: string }[] } }[];
      }
    ).devices;
    // by IOMMU group: the VFs (each in its own) before the PF's
    expect(devices.map((d) => d.address)).toEqual([
      '0000:41:00.4',
      '0000:41:00.5',
      '0000:41:00.6',
      '0000:41:00.7',
      '0000:41:00.0',
    ]);
    expect(devices[4]!.vgpu).toBeUndefined();
    expect(devices[0]!.vgpu!.currentType).toBe(0);
    expect(devices[0]!.vgpu!.creatable[0]).toEqual({ id: 1155, name: 'NVIDIA L40S-4Q' });
  });

  it('planning reads the nvidia/ files only of the VFs asked for', async () => {
    const k = server();
    const snap = await new HostReader(k).snapshotFor({ addresses: [VF0, '0000:41:00.5'], vgpus: [VF0] });
    expect(snap.devices[VF0]!.nvidiaVgpu?.currentType).toBe(0);
    expect(snap.devices['0000:41:00.5']!.nvidiaVgpu).toBeUndefined();
    const plain = await new HostReader(k).snapshotFor({ addresses: [VF0] });
    expect(plain.devices[VF0]!.nvidiaVgpu).toBeUndefined();
  });

  it('parses creatable_vgpu_types with or without the header, in both seen forms; no ID means no type', () => {
    expect(
      parseCreatableVgpuTypes('ID    : vGPU Name\n1428  : NVIDIA H200X-141C\n1414 : NVIDIA H200X-1-18C\n'),
    ).toEqual([
      { id: 1414, name: 'NVIDIA H200X-1-18C' },
      { id: 1428, name: 'NVIDIA H200X-141C' },
    ]);
    expect(parseCreatableVgpuTypes('NVIDIA L40S-12Q   1177\n')).toEqual([{ id: 1177, name: 'NVIDIA L40S-12Q' }]);
    expect(parseCreatableVgpuTypes('ID    : vGPU Name\n')).toEqual([]);
    expect(parseCreatableVgpuTypes('')).toEqual([]);
  });
});
