import { describe, expect, it } from 'vitest';
import { readDomainPassthrough, mentionsPassthrough } from '../../src/xml/domain-reader.js';
import { checkXmlInput } from '../../src/xml/guard.js';
import { PASSTHRU_NS } from '../../src/xml/model.js';
import { formatPciAddress } from '../../src/pci/address.js';

const domain = (devices: string, metadata = '') => `<domain type='kvm'>
  <name>vm1</name>
  <uuid>4DEA22B3-1D52-D8F3-2516-782E98AB3FA0</uuid>${metadata}
  <devices>
${devices}
  </devices>
</domain>
`;

describe('readDomainPassthrough', () => {
  it('reads PCI hostdevs with managed, mdev hostdevs, hostdev and network interfaces', () => {
    const d = readDomainPassthrough(
      domain(`    <hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>
    <hostdev mode='subsystem' type='pci'><source><address bus='0x01' slot='0x00' function='0x1'/></source></hostdev>
    <hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='C2177883-F1BB-47F0-914D-32A22E3A8804'/></source></hostdev>
    <interface type='hostdev' managed='yes'><mac address='52:54:00:6D:90:02'/><vlan><tag id='42'/></vlan><source><address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x0'/></source></interface>
    <interface type='network'><mac address='52:54:00:00:00:01'/><source network='vfpool'/></interface>
    <interface type='bridge'><source bridge='br0'/></interface>`),
    );
    expect(d.name).toBe('vm1');
    expect(d.uuid).toBe('4dea22b3-1d52-d8f3-2516-782e98ab3fa0');
    expect(d.pciHostdevs.map((h) => [formatPciAddress(h.address), h.managed])).toEqual([
      ['0000:01:00.0', true],
      ['0000:01:00.1', false],
    ]);
    expect(d.mdevHostdevs).toEqual([{ uuid: 'c2177883-f1bb-47f0-914d-32a22e3a8804', model: 'vfio-pci' }]);
    expect(d.hostdevInterfaces).toHaveLength(1);
    expect(formatPciAddress(d.hostdevInterfaces[0]!.address)).toBe('0000:03:10.0');
    expect(d.hostdevInterfaces[0]).toMatchObject({ managed: true, mac: '52:54:00:6d:90:02', vlan: 42 });
    expect(d.networkInterfaces).toEqual([{ network: 'vfpool', mac: '52:54:00:00:00:01' }]);
  });

  it('reads our metadata by namespace URI whatever the prefix, and ignores other namespaces', () => {
    const meta = `
  <metadata>
    <other:x xmlns:other='http://example.org/other'><other:mdev uuid='bad' type='../x'/></other:x>
    <pt:devices xmlns:pt='${PASSTHRU_NS}'>
      <pt:mdev uuid='c2177883-f1bb-47f0-914d-32a22e3a8804' type='i915-GVTg_V5_4' parent='00:02.0'/>
      <pt:vf address='0000:03:10.0' mac='52:54:00:00:00:02' vlan='7' trust='on' spoofchk='off' state='enable' min-rate='10' max-rate='1000'/>
      <pt:pf dev='enp3s0f0' vfs='4'/>
    </pt:devices>
  </metadata>`;
    const d = readDomainPassthrough(domain('', meta));
    expect(d.metadata.mdevs).toEqual([
      { uuid: 'c2177883-f1bb-47f0-914d-32a22e3a8804', type: 'i915-GVTg_V5_4', parent: '0000:00:02.0' },
    ]);
    expect(d.metadata.vfs[0]).toMatchObject({
      mac: '52:54:00:00:00:02',
      vlan: 7,
      trust: true,
      spoofchk: false,
      state: 'enable',
      minRate: 10,
      maxRate: 1000,
    });
    expect(formatPciAddress(d.metadata.vfs[0]!.address!)).toBe('0000:03:10.0');
    expect(d.metadata.pfs).toEqual([{ dev: 'enp3s0f0', vfs: 4 }]);
  });

  it.each([
    [
      "<pt:mdev uuid='c2177883-f1bb-47f0-914d-32a22e3a8804' type='../../etc'/>",
      /invalid passthru:mdev type '\.\.\/\.\.\/etc'/,
    ],
    ["<pt:mdev uuid='not-a-uuid' type='t'/>", /invalid passthru:mdev uuid 'not-a-uuid'/],
    ["<pt:vf address='0000:03:10.0' vlan='4096'/>", /invalid passthru:vf vlan '4096'/],
    ["<pt:vf address='0000:03:10.0' mac='01:00:00:00:00:01'/>", /multicast/],
    ["<pt:vf address='zz'/>", /invalid PCI address 'zz'/],
    ["<pt:pf dev='eth0/../x' vfs='2'/>", /invalid passthru:pf dev/],
    ["<pt:pf dev='eth0' vfs='0'/>", /invalid passthru:pf vfs '0'/],
  ])('refuses hostile metadata %s', (el, msg) => {
    expect(() =>
      readDomainPassthrough(
        domain('', `<metadata><pt:devices xmlns:pt='${PASSTHRU_NS}'>${el}</pt:devices></metadata>`),
      ),
    ).toThrow(msg);
  });

  it('refuses a non-domain root and a domain without a name', () => {
    expect(() => readDomainPassthrough('<network><name>n</name></network>')).toThrow(/root element is <network>/);
    expect(() => readDomainPassthrough('<domain type="kvm"><devices/></domain>')).toThrow('domain needs <name>');
    expect(() => readDomainPassthrough("<domain type='kvm'><name>  </name></domain>")).toThrow('domain needs <name>');
  });

  it('detects whether XML may ask anything of us', () => {
    expect(mentionsPassthrough(domain(''))).toBe(false);
    expect(mentionsPassthrough(domain("<interface type='bridge'/>"))).toBe(false);
    expect(mentionsPassthrough(domain("<hostdev mode='subsystem' type='usb'/>"))).toBe(true);
    expect(mentionsPassthrough(domain('<interface type="network"/>'))).toBe(true);
    expect(mentionsPassthrough(domain('', `<metadata><x xmlns='${PASSTHRU_NS}'/></metadata>`))).toBe(true);
  });
});

describe('checkXmlInput', () => {
  it.each([
    ['<!DOCTYPE d [<!ENTITY a "x">]><domain/>', /DOCTYPE/],
    ['<domain><!-- x --><!doctype d></domain>', /DOCTYPE/],
    ['<domain/><!EnTiTy a "x">', /ENTITY/],
    ['<domain><name>&a;</name></domain>', /not well-formed/],
    ['<domain><name>x</name>', /not well-formed/],
    ['<domain/><domain/>', /not well-formed/],
    ['', /not well-formed/],
    ['<a>'.repeat(100) + '</a>'.repeat(100), /nesting deeper than 64/],
    [`<domain x="${'a'.repeat(70000)}"/>`, /over 65536 characters/],
  ])('refuses %#', (xml, msg) => {
    expect(() => checkXmlInput(xml)).toThrow(msg);
  });

  it('refuses invalid UTF-8 and oversize input, and keeps a BOM', () => {
    expect(() => checkXmlInput(Buffer.from([0x3c, 0x61, 0xff, 0x2f, 0x3e]))).toThrow(/not valid UTF-8/);
    expect(() => checkXmlInput(Buffer.alloc(5 * 1024 * 1024, 0x20))).toThrow(/too large/);
    expect(checkXmlInput(Buffer.from('\ufeff<domain/>'))).toBe('\ufeff<domain/>');
  });
});
