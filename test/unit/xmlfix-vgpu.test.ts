// xmlfix and NVIDIA vGPUs of the vendor-specific VFIO model: --add-vgpu PF|VF,type=ID|NAME (host-aware:
// a PF picks a free VF that can take the type; the ID is what gets written), --remove-vgpu, and
// --remove-hostdev taking the <passthru:vgpu> entry along. Byte-exact, idempotent, golden outputs
// that validate with libvirt's schemas and ours. (Regenerate goldens with UPDATE_GOLDEN=1.)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { addVgpu, removeHostdevs, removeVgpu } from '../../src/xml/domain-edits.js';
import { readDomainPassthrough } from '../../src/xml/domain-reader.js';
import { findContainer } from '../../src/xml/metadata-edit.js';
import { parseTree } from '../../src/xml/tree.js';
import { parsePciAddress, formatPciAddress } from '../../src/pci/address.js';

const q35 = readFileSync('fixtures/xml/domain-q35.xml', 'utf8');
const i440fx = readFileSync('fixtures/xml/domain-i440fx.xml', 'utf8');
const withMeta = readFileSync('fixtures/xml/domain-metadata.xml', 'utf8');
const VF0 = parsePciAddress('0000:41:00.4');
let sim = '';

function xmlfix(args: string[], input?: string, host = sim) {
  return spawnSync(process.execPath, ['dist/xmlfix.js', ...args], {
    input: input ?? '',
    encoding: 'utf8',
    env: { ...process.env, PASSTHRU_SIM: host },
  });
}

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'xmlfix-vgpu-'));
  sim = join(dir, 'server.json');
  const r = spawnSync(process.execPath, ['dist/passthru.js', 'sim', 'init', '--fixture', 'server', '-o', sim], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`passthru sim init: ${r.stderr}`);
});

describe('vGPU edits (pure)', () => {
  it('add then remove gives back the input bytes; adding twice is adding once; the reader sees the entry', () => {
    for (const doc of [q35, i440fx, withMeta]) {
      const added = addVgpu(doc, VF0, '1157');
      expect(added).toMatch(/<hostdev mode=(["'])subsystem\1 type=\1pci\1 managed=\1no\1>/);
      expect(addVgpu(added, VF0, '1157')).toBe(added);
      expect(removeVgpu(added, VF0)).toBe(doc);
      const d = readDomainPassthrough(added);
      expect(d.metadata.vgpus).toEqual([{ address: VF0, type: '1157' }]);
      expect(d.pciHostdevs.find((h) => formatPciAddress(h.address) === '0000:41:00.4')?.managed).toBe(false);
      // --remove-hostdev of the VF takes the vgpu entry along
      expect(removeHostdevs(added, { kind: 'address', address: VF0 })).toBe(doc);
    }
  });

  it('the reader refuses a <passthru:vgpu> without address or type, or with a type that is neither an ID nor a name', () => {
    const meta = (attrs: string) =>
      q35
        .replace('<devices>', `<devices>`)
        .replace(
          '</uuid>',
          `</uuid>\n  <metadata><p:devices xmlns:p='https://passthru.dev/xmlns/domain/1'><p:vgpu ${attrs}/></p:devices></metadata>`,
        );
    expect(readDomainPassthrough(meta("address='41:00.4' type='NVIDIA L40S-4Q'")).metadata.vgpus).toEqual([
      { address: VF0, type: 'NVIDIA L40S-4Q' },
    ]);
    expect(() => readDomainPassthrough(meta("type='1155'"))).toThrow('passthru:vgpu needs address');
    expect(() => readDomainPassthrough(meta("address='41:00.4'"))).toThrow('passthru:vgpu needs type');
    expect(() => readDomainPassthrough(meta("address='41:00.4' type='../../etc'"))).toThrow(
      "invalid passthru:vgpu type '../../etc'",
    );
    expect(() => readDomainPassthrough(meta("address='41:00.4' type='0'"))).toThrow('invalid passthru:vgpu type');
    expect(() => readDomainPassthrough(meta("address='zz' type='1155'"))).toThrow();
  });

  it('another type replaces the entry; a VF already there with managed=yes is refused', () => {
    const added = addVgpu(q35, VF0, '1157');
    const changed = addVgpu(added, VF0, 'NVIDIA L40S-24Q');
    expect(changed).toContain("<passthru:vgpu address='0000:41:00.4' type='NVIDIA L40S-24Q'/>");
    expect(changed.match(/<hostdev /g)?.length).toBe(added.match(/<hostdev /g)?.length);
    const managed = xmlfix(['-', '--add-hostdev', '41:00.4', '--add-vgpu', '41:00.4,type=1157'], q35);
    expect(managed.status).toBe(2);
    expect(managed.stderr).toBe(
      "xmlfix: 0000:41:00.4 is already in the domain with managed='yes'; a vGPU VF needs managed='no' (--remove-hostdev it first)\n",
    );
  });

  it('property: for any VF addresses and types, adding all then removing all is byte-exact', async () => {
    const addr = fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 7 }))
      .map(([b, s, f]) => ({ domain: 0, bus: b, slot: s, function: f }));
    const type = fc.oneof(
      fc.integer({ min: 1, max: 99999 }).map(String),
      fc.constantFrom('NVIDIA L40S-12Q', 'NVIDIA H200X-1-18C'),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(addr, type), { minLength: 1, maxLength: 4, selector: ([a]) => formatPciAddress(a) }),
        fc.constantFrom(q35, i440fx, withMeta),
        (pairs, doc) => {
          // a device the domain has already (managed='yes') is refused as a vGPU VF, rightly: not this property's case
          const d = readDomainPassthrough(doc);
          const taken = new Set([...d.pciHostdevs, ...d.hostdevInterfaces].map((h) => formatPciAddress(h.address)));
          fc.pre(pairs.every(([a]) => !taken.has(formatPciAddress(a))));
          let out = doc;
          for (const [a, t] of pairs) out = addVgpu(out, a, t);
          expect(readDomainPassthrough(out).metadata.vgpus?.length).toBe(pairs.length);
          for (const [a] of [...pairs].reverse()) out = removeVgpu(out, a);
          expect(out).toBe(doc);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('xmlfix --add-vgpu on the simulated server (L40S-class PF 0000:41:00.0)', () => {
  it('a PF picks its first free VF; a profile name is written as its ID; golden files validate', () => {
    const cases: [string, string[], string][] = [
      [
        'host-q35-add-vgpu-of-pf',
        ['--add-vgpu', '0000:41:00.0,type=NVIDIA L40S-12Q', '--add-vgpu', '41:00.0,type=1167'],
        q35,
      ],
      ['meta-add-vgpu-vf', ['--add-vgpu', '41:00.6,type=1155'], withMeta],
    ];
    for (const [name, args, input] of cases) {
      const r = xmlfix(['-', ...args], input);
      expect(`${r.status} ${r.stderr}`).toBe('0 ');
      const file = `fixtures/xml/golden/${name}.xml`;
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, r.stdout);
      expect(r.stdout).toBe(readFileSync(file, 'utf8'));
      const v = spawnSync('virt-xml-validate', [file], { encoding: 'utf8' });
      if (v.error && process.env.PASSTHRU_SKIP_VALIDATE === '1') continue;
      expect(`${v.status} ${v.stderr.trim()}`).toBe(`0 ${file} validates`);
      const doc = parseTree(r.stdout);
      const c = findContainer(doc)!;
      const rng = spawnSync('xmllint', ['--noout', '--relaxng', 'schemas/passthru-metadata.rng', '-'], {
        input: doc.text.slice(c.element.start, c.element.end),
        encoding: 'utf8',
      });
      expect(`${rng.status} ${rng.stderr.trim()}`).toBe('0 - validates');
    }
    const pf = readFileSync('fixtures/xml/golden/host-q35-add-vgpu-of-pf.xml', 'utf8');
    expect(pf).toContain("<passthru:vgpu address='0000:41:00.4' type='1157'/>");
    expect(pf).toContain("<passthru:vgpu address='0000:41:00.5' type='1167'/>");
    // --list shows the vGPU type on the VF's hostdev line
    expect(xmlfix(['-', '--list'], pf).stdout).toContain('hostdev           0000:41:00.4 managed=no vgpu=1157\n');
    // a VF named directly: the same edit again changes nothing
    expect(
      xmlfix(
        ['-', '--add-vgpu', '41:00.6,type=1155', '--check'],
        readFileSync('fixtures/xml/golden/meta-add-vgpu-vf.xml', 'utf8'),
      ).status,
    ).toBe(0);
  });

  it('errors name what is creatable, or why there is no vGPU interface; nothing is written', () => {
    const cases: [string[], string][] = [
      [
        ['--add-vgpu', '41:00.0,type=NVIDIA L40S-3Q'],
        "xmlfix: --add-vgpu: no free VF of 0000:41:00.0 can take vGPU type 'NVIDIA L40S-3Q'; creatable on its free VFs: 1155 (NVIDIA L40S-4Q), 1156 (NVIDIA L40S-8Q), 1157 (NVIDIA L40S-12Q), 1158 (NVIDIA L40S-24Q), 1159 (NVIDIA L40S-48Q), 1167 (NVIDIA L40S-12C), 1168 (NVIDIA L40S-24C)\n",
      ],
      [
        ['--add-vgpu', '41:00.4,type=42'],
        'xmlfix: --add-vgpu: vGPU type 42 is not creatable on 0000:41:00.4; creatable: 1155 (NVIDIA L40S-4Q), 1156 (NVIDIA L40S-8Q), 1157 (NVIDIA L40S-12Q), 1158 (NVIDIA L40S-24Q), 1159 (NVIDIA L40S-48Q), 1167 (NVIDIA L40S-12C), 1168 (NVIDIA L40S-24C)\n',
      ],
      [
        ['--add-vgpu', '3b:00.0,type=1155'],
        'xmlfix: --add-vgpu: the VFs of 0000:3b:00.0 have no NVIDIA vGPU interface (nvidia/current_vgpu_type): is it an NVIDIA GPU in vGPU mode, its VFs on the nvidia driver?\n',
      ],
      [
        ['--add-vgpu', 'af:00.0,type=1155'],
        'xmlfix: --add-vgpu: 0000:af:00.0 has no NVIDIA vGPU interface: neither a VF with nvidia/current_vgpu_type nor a PF with VFs (for an NVIDIA GPU in vGPU mode: /usr/lib/nvidia/sriov-manage -e 0000:af:00.0)\n',
      ],
      [['--add-vgpu', '42:00.0,type=1155'], 'xmlfix: --add-vgpu: no PCI device 0000:42:00.0 on this host\n'],
      [
        ['--add-vgpu', '41:00.4'],
        "xmlfix: --add-vgpu: missing type= (a vGPU type ID like 1157, or a profile name like 'NVIDIA L40S-12Q')\n",
      ],
      [
        ['--add-vgpu', '41:00.4,type=../x'],
        "xmlfix: invalid --add-vgpu type '../x' (a type ID like 1157, or a profile name like 'NVIDIA L40S-12Q')\n",
      ],
      [['--remove-vgpu', 'nope'], "xmlfix: --remove-vgpu: 'nope' is not a PCI address\n"],
    ];
    for (const [args, err] of cases) {
      const r = xmlfix(['-', ...args], q35);
      expect([r.status, r.stderr, r.stdout]).toEqual([2, err, '']);
    }
  });

  it('a VF with a vGPU of another type is refused; with the same type it is taken as it is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xmlfix-vgpu-busy-'));
    const busy = join(dir, 'server.json');
    writeFileSync(busy, readFileSync(sim));
    const doc = JSON.parse(readFileSync(busy, 'utf8')) as { devices: { address: string; vgpuType?: number }[] };
    doc.devices.find((d) => d.address === '0000:41:00.4')!.vgpuType = 1158;
    writeFileSync(busy, JSON.stringify(doc));
    const other = xmlfix(['-', '--add-vgpu', '41:00.4,type=1157'], q35, busy);
    expect([other.status, other.stderr]).toEqual([2, 'xmlfix: --add-vgpu: 0000:41:00.4 already has vGPU type 1158\n']);
    const same = xmlfix(['-', '--add-vgpu', '41:00.4,type=1158'], q35, busy);
    expect(same.status).toBe(0);
    // the PF form skips the VF that has a vGPU and, the GPU now hosting 24 GB types, offers only those
    const pf = xmlfix(['-', '--add-vgpu', '41:00.0,type=1157'], q35, busy);
    expect(pf.stderr).toBe(
      'xmlfix: --add-vgpu: no free VF of 0000:41:00.0 can take vGPU type 1157; creatable on its free VFs: 1158 (NVIDIA L40S-24Q), 1168 (NVIDIA L40S-24C)\n',
    );
    expect(xmlfix(['-', '--add-vgpu', '41:00.0,type=1168'], q35, busy).stdout).toContain(
      "<passthru:vgpu address='0000:41:00.5' type='1168'/>",
    );
  });
});
