import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyEditsNoHost } from '../support/xmlfix-run.js';
import type { Edit } from '../../src/cli/xmlfix/args.js';

const q35 = readFileSync('fixtures/xml/domain-q35.xml', 'utf8');
const run = applyEditsNoHost;

describe('xmlfix edits (plain addresses, no host)', () => {
  it('adds a PCI hostdev after the last device libvirt writes before hostdevs, in the document style', async () => {
    const out = await run(q35, ['add-hostdev', '01:00.0']);
    expect(out).toContain(`    </video>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source>
        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
      </source>
    </hostdev>
    <memballoon`);
    expect(out.replace(/\n {4}<hostdev[\s\S]*?<\/hostdev>/, '')).toBe(q35);
  });
  it('is idempotent and accepts every address notation for the same device', async () => {
    const once = await run(q35, ['add-hostdev', '0000:01:00.0']);
    expect(await run(once, ['add-hostdev', 'pci_0000_01_00_0'])).toBe(once);
    expect(await run(once, ['add-hostdev', '01:00.0,managed=no'])).toBe(once);
  });
  it('removal after addition restores the input bytes, for every edit kind', async () => {
    const cases: [Edit['flag'], string, Edit['flag'], string][] = [
      ['add-hostdev', '01:00.0,managed=no,rombar=off', 'remove-hostdev', '0000:01:00.0'],
      [
        'add-mdev',
        'i915-GVTg_V5_4,parent=0000:00:02.0,uuid=c2177883-f1bb-47f0-914d-32a22e3a8804',
        'remove-hostdev',
        'c2177883-f1bb-47f0-914d-32a22e3a8804',
      ],
      ['add-vf', '0000:03:10.0,mac=52:54:00:00:00:02,vlan=42,trust=on', 'remove-vf', '0000:03:10.0'],
      ['add-vf', '0000:03:10.0,mac=52:54:00:00:00:02,vlan=42,as=hostdev', 'remove-vf', '52:54:00:00:00:02'],
      ['add-hostdev', '02:00.0', 'remove-hostdev', 'all'],
    ];
    for (const [add, a, rem, r] of cases) {
      const added = await run(q35, [add, a]);
      expect(added).not.toBe(q35);
      expect(await run(added, [rem, r])).toBe(q35);
    }
  });
  it('puts mdev type and parent in our metadata namespace, after <uuid>', async () => {
    const out = await run(q35, [
      'add-mdev',
      'i915-GVTg_V5_4,parent=00:02.0,uuid=c2177883-f1bb-47f0-914d-32a22e3a8804,display=on',
    ]);
    expect(out).toContain(`  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <metadata>
    <passthru:devices xmlns:passthru='https://passthru.dev/xmlns/domain/1'>
      <passthru:mdev uuid='c2177883-f1bb-47f0-914d-32a22e3a8804' type='i915-GVTg_V5_4' parent='0000:00:02.0'/>
    </passthru:devices>
  </metadata>`);
    expect(out).toContain(`<hostdev mode='subsystem' type='mdev' model='vfio-pci' display='on'>`);
    expect(await run(out, ['add-mdev', 'i915-GVTg_V5_4,parent=00:02.0'])).toBe(out);
  });
  it('an mdev without a UUID gets a fresh one, and the same edit on its output changes nothing', async () => {
    const out = await run(q35, ['add-mdev', 'nvidia-63']);
    expect(out).toMatch(/<address uuid='[0-9a-f-]{36}'\/>/);
    expect(await run(out, ['add-mdev', 'nvidia-63'])).toBe(out);
  });
  it('a VF as hostdev interface gets mac and vlan from libvirt, the rest in metadata', async () => {
    const out = await run(q35, ['add-vf', '03:10.0,mac=52:54:00:AA:00:01,vlan=100,spoofchk=off,max-rate=1000']);
    expect(out).toContain(`    </interface>
    <interface type='hostdev' managed='yes'>
      <mac address='52:54:00:aa:00:01'/>
      <source>
        <address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x0'/>
      </source>
      <vlan>
        <tag id='100'/>
      </vlan>
    </interface>`);
    expect(out).toContain(`<passthru:vf address='0000:03:10.0' spoofchk='off' max-rate='1000'/>`);
  });
  it('keeps CRLF, a BOM, double quotes, tabs and comments of the input', async () => {
    const odd =
      '\ufeff<?xml version="1.0"?>\r\n<domain type="kvm">\r\n\t<name>x</name>\r\n\t<!-- c -->\r\n\t<devices>\r\n\t\t<emulator>/usr/bin/qemu</emulator>\r\n\t</devices>\r\n</domain>\r\n';
    const out = await run(odd, ['add-hostdev', '01:00.0']);
    expect(out).toBe(
      '\ufeff<?xml version="1.0"?>\r\n<domain type="kvm">\r\n\t<name>x</name>\r\n\t<!-- c -->\r\n\t<devices>\r\n\t\t<emulator>/usr/bin/qemu</emulator>\r\n\t\t<hostdev mode="subsystem" type="pci" managed="yes">\r\n\t\t\t<source>\r\n\t\t\t\t<address domain="0x0000" bus="0x01" slot="0x00" function="0x0"/>\r\n\t\t\t</source>\r\n\t\t</hostdev>\r\n\t</devices>\r\n</domain>\r\n',
    );
    expect(await run(out, ['remove-hostdev', '01:00.0'])).toBe(odd);
  });
  it.each([
    [['add-hostdev', '01:00.8'], /invalid PCI address '01:00.8'/],
    [['add-hostdev', '01:00.0,managed=maybe'], /invalid --add-hostdev managed 'maybe' \(expected yes or no\)/],
    [['add-hostdev', '01:00.0,color=red'], /unknown option 'color'/],
    [['add-hostdev', '01:00.0,bootindex=1'], /refuses per-device boot order/],
    [['add-mdev', '../x'], /invalid --add-mdev type/],
    [['add-vf', '03:10.0,mac=zz'], /invalid --add-vf mac 'zz'/],
    [['add-vf', '03:10.0,vlan=5000'], /invalid --add-vf vlan '5000'/],
    [['remove-vf', 'nonsense'], /not a PCI address or a MAC address/],
    [['add-pf', 'eth0'], /edits network XML, but the input is a <domain>/],
  ] as [[Edit['flag'], string], RegExp][])('refuses %j', async (edit, msg) => {
    await expect(run(q35, edit)).rejects.toThrow(msg);
  });
});

describe('network edits', () => {
  const pool = readFileSync('fixtures/xml/network-pool.xml', 'utf8');
  it('adds and removes VF addresses byte-exactly, and refuses a <pf> beside them', async () => {
    const out = await run(pool, ['add-vf-address', '0000:03:10.4']);
    expect(out).toContain(`function='0x0'/>
    <address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x4'/>
  </forward>`);
    expect(await run(out, ['add-vf-address', '03:10.4'])).toBe(out);
    expect(await run(out, ['remove-vf-address', '03:10.4'])).toBe(pool);
    await expect(run(pool, ['add-pf', 'enp3s0f0'])).rejects.toThrow(/refuses <pf> together/);
  });

  it("refuses to remove the pool's last VF address (an empty pool cannot start) and leaves a missing one alone", async () => {
    await expect(run(pool, ['remove-vf-address', '03:10.0'])).rejects.toThrow(
      /--remove-vf-address 0000:03:10.0: it is the pool's last device/,
    );
    expect(await run(pool, ['remove-vf-address', '03:11.0'])).toBe(pool);
  });
});
