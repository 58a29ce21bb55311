// The values xmlfix takes from the command line and the XML before they become sysfs paths or
// libvirt attributes: PCI addresses in every notation (and malformed ones), libvirt's address
// attributes, UUIDs, MACs, VLANs, rates, netdev and mdev type names. Each refusal names the value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  formatPciAddress,
  fromLibvirtAttrs,
  isPciAddress,
  parsePciAddress,
  parsePciSelector,
  toLibvirtAttrs,
} from '../../src/pci/address.js';
import { parseMac, parseMdevTypeName, parseNetdevName, parseRate, parseUuid, parseVlan } from '../../src/xml/values.js';

const gpu = { domain: 0, bus: 1, slot: 0, function: 0 };

describe('PCI address notations', () => {
  it.each([
    ['0000:01:00.0', gpu],
    ['01:00.0', gpu],
    ['pci_0000_01_00_0', gpu],
    ['PCI_0000_01_00_0', gpu],
    ['0000:3B:02.7', { domain: 0, bus: 0x3b, slot: 2, function: 7 }],
    ['10000:01:1f.3'.slice(1), { domain: 0, bus: 1, slot: 0x1f, function: 3 }],
    ['ffff:ff:1f.7', { domain: 0xffff, bus: 0xff, slot: 0x1f, function: 7 }],
  ])('%s', (text, want) => {
    expect(parsePciAddress(text)).toEqual(want);
    expect(isPciAddress(text)).toBe(true);
  });

  it('a bare slot selects every function of it, with or without domain', () => {
    expect(parsePciSelector('01:00')).toEqual({ kind: 'slot', domain: 0, bus: 1, slot: 0 });
    expect(parsePciSelector('0001:af:1f')).toEqual({ kind: 'slot', domain: 1, bus: 0xaf, slot: 0x1f });
    expect(isPciAddress('01:00')).toBe(false);
    expect(() => parsePciAddress('01:00')).toThrow(
      "invalid PCI address '01:00': a function number is needed (e.g. 01:00.0)",
    );
  });

  it.each([
    ['1:0.0', "'1:0.0'"],
    ['01:00.8', "'01:00.8'"],
    ['01:20.0', 'slot 0x20 is above 0x1f'],
    ['00000:01:00.0', "'00000:01:00.0'"],
    ['0000:01:00.0 ', "'0000:01:00.0 '"],
    ['pci_0000_01_00', "'pci_0000_01_00'"],
    ['pci_0000:01:00.0', "'pci_0000:01:00.0'"],
    ['../01:00.0', "'../01:00.0'"],
    ['01:00.0\n', "'01:00.0\\x0a'"],
    ['', "''"],
    ['0x01:00.0', "'0x01:00.0'"],
  ])('refuses %j, naming it', (text, named) => {
    expect(() => parsePciSelector(text)).toThrow(InputError);
    expect(() => parsePciSelector(text)).toThrow(named);
  });

  it('the syntactic check (which picks address vs filter vs slot) leaves range errors to the parser', () => {
    expect(isPciAddress('01:20.0')).toBe(true); // well-formed, so the parser reports the range
    for (const text of ['1:0.0', '01:00.8', 'pci_0000_01_00', '01:00.0\n', '0x01:00.0'])
      expect(isPciAddress(text)).toBe(false);
  });

  it('every notation of any address parses back to it; formatting is canonical sysfs', () => {
    const addr = fc.record({
      domain: fc.integer({ min: 0, max: 0xffff }),
      bus: fc.integer({ min: 0, max: 0xff }),
      slot: fc.integer({ min: 0, max: 0x1f }),
      function: fc.integer({ min: 0, max: 7 }),
    });
    fc.assert(
      fc.property(addr, fc.boolean(), (a, upper) => {
        const full = formatPciAddress(a);
        expect(full).toMatch(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
        const nodedev = `pci_${full.replace(/[:.]/g, '_')}`;
        const notations = [full, nodedev, ...(a.domain === 0 ? [full.slice(5)] : [])].map((t) =>
          upper ? t.toUpperCase() : t,
        );
        for (const t of notations) expect(parsePciAddress(t)).toEqual(a);
        expect(fromLibvirtAttrs(toLibvirtAttrs(a))).toEqual(a);
      }),
    );
  });
});

describe("libvirt's address attributes", () => {
  it('reads hex and decimal, with domain and function defaulting to 0', () => {
    expect(fromLibvirtAttrs({ domain: '0x0000', bus: '0x01', slot: '0x00', function: '0x0' })).toEqual(gpu);
    expect(fromLibvirtAttrs({ bus: '1', slot: '0' })).toEqual(gpu);
    expect(fromLibvirtAttrs({ domain: '0X0000', bus: '0x3B', slot: '0x1f', function: '7' })).toEqual({
      domain: 0,
      bus: 0x3b,
      slot: 0x1f,
      function: 7,
    });
    expect(toLibvirtAttrs({ domain: 0, bus: 0x3b, slot: 2, function: 7 })).toEqual({
      domain: '0x0000',
      bus: '0x3b',
      slot: '0x02',
      function: '0x7',
    });
  });

  it.each([
    [{ bus: '0x100', slot: '0' }, "invalid PCI bus '0x100'"],
    [{ bus: '1', slot: '0x20' }, "invalid PCI slot '0x20'"],
    [{ bus: '1', slot: '0', function: '8' }, "invalid PCI function '8'"],
    [{ bus: '-1', slot: '0' }, "invalid PCI bus '-1'"],
    [{ bus: '0x', slot: '0' }, "invalid PCI bus '0x'"],
    [{ bus: '', slot: '0' }, "invalid PCI bus ''"],
    [{ bus: '1a', slot: '0' }, "invalid PCI bus '1a'"],
    [{ bus: '0xg', slot: '0' }, "invalid PCI bus '0xg'"],
    [{ bus: '0x0x1', slot: '0' }, "invalid PCI bus '0x0x1'"],
    [{ bus: ' 1', slot: '0' }, "invalid PCI bus ' 1'"],
    [{ bus: '1', slot: '+0' }, "invalid PCI slot '+0'"],
    [{ slot: '0' }, "lacks 'bus'"],
  ])('refuses %j', (attrs, msg) => {
    expect(() => fromLibvirtAttrs(attrs)).toThrow(msg);
  });
});

describe('other values', () => {
  it('UUIDs are lower-cased; malformed ones are refused by value', () => {
    expect(parseUuid('C2177883-F1BB-47F0-914D-32A22E3A8804')).toBe('c2177883-f1bb-47f0-914d-32a22e3a8804');
    for (const bad of [
      'c2177883f1bb47f0914d32a22e3a8804',
      'c2177883-f1bb-47f0-914d-32a22e3a880',
      '../../../../etc/passwd',
      'g2177883-f1bb-47f0-914d-32a22e3a8804',
    ])
      expect(() => parseUuid(bad)).toThrow(`'${bad}'`);
  });

  it('MACs: unicast only, lower-cased', () => {
    expect(parseMac('52:54:00:AA:bb:01')).toBe('52:54:00:aa:bb:01');
    expect(() => parseMac('01:00:5e:00:00:01')).toThrow('multicast');
    for (const bad of ['52:54:00:aa:bb', '52-54-00-aa-bb-01', '52:54:00:aa:bb:0g'])
      expect(() => parseMac(bad)).toThrow(`'${bad}'`);
  });

  it('VLAN 0-4095 and rates in Mbps', () => {
    expect(parseVlan('0')).toBe(0);
    expect(parseVlan('4095')).toBe(4095);
    for (const bad of ['4096', '-1', '1e3', '', ' 5']) expect(() => parseVlan(bad)).toThrow(`'${bad}'`);
    expect(parseRate('1000')).toBe(1000);
    for (const bad of ['10000000', '1.5', 'fast']) expect(() => parseRate(bad)).toThrow(`'${bad}'`);
  });

  it('netdev and mdev type names cannot become paths elsewhere', () => {
    expect(parseNetdevName('enp3s0f0')).toBe('enp3s0f0');
    expect(parseMdevTypeName('i915-GVTg_V5_4')).toBe('i915-GVTg_V5_4');
    expect(parseMdevTypeName('nvidia-222')).toBe('nvidia-222');
    for (const bad of ['a/b', '..', 'x'.repeat(16), 'eth0\u0000', ''])
      expect(() => parseNetdevName(bad)).toThrow(InputError);
    for (const bad of ['../x', 'a/b', 'a..b', 'nvidia 222', 'x\u0000'])
      expect(() => parseMdevTypeName(bad)).toThrow(InputError);
  });
});
