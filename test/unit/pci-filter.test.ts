// Device filters as lspci -d reads them: `*` or empty for any, 1-4 hex digits, `x` digits in the
// class, an exact prog-if; and the one refusal of ours (a class under 4 digits, which lspci would
// read as a number that matches almost nothing).
import { describe, expect, it } from 'vitest';
import { isPciFilter, matchesPciFilter, parsePciFilter } from '../../src/pci/filter.js';

const gpu = { vendor: '10de', device: '1b80', class: '030000' };
const xhci = { vendor: '8086', device: 'a36d', class: '0c0330' };
const nvme = { vendor: '144d', device: 'a808', class: '010802' };
const matches = (spec: string) =>
  [gpu, xhci, nvme].filter((d) => matchesPciFilter(d, parsePciFilter(spec))).map((d) => d.device);

describe('lspci -d filters', () => {
  it.each([
    ['10de:1b80', ['1b80']],
    ['10de:', ['1b80']],
    ['10de:*', ['1b80']],
    ['*:*', ['1b80', 'a36d', 'a808']],
    [':', ['1b80', 'a36d', 'a808']],
    ['10de::0300', ['1b80']],
    ['10de:*:0300', ['1b80']],
    ['::03xx', ['1b80']],
    ['::0xxx', ['1b80', 'a36d', 'a808']],
    ['::xx03', ['a36d']],
    ['::0c03:30', ['a36d']],
    ['::0c03:10', []],
    ['::0c03:*', ['a36d']],
    ['0x10de:0x1b80', ['1b80']],
    ['8086:,144d:a808', ['a36d', 'a808']],
    ['10DE::03XX', ['1b80']],
  ])('%s', (spec, expected) => {
    expect(matches(spec)).toEqual(expected);
  });

  it.each([
    ['10de', 'invalid device filter'],
    ['10de:1b80:0300:00:1', 'invalid device filter'],
    ['10dex:', "vendor '10dex' is not hex"],
    ['1:2:zz00', "class 'zz00' is not 4 hex or x digits"],
    [
      '::03',
      "class '03' has fewer than 4 digits (class and subclass, as lspci -d reads it: 0300, or 03xx for any subclass)",
    ],
    ['::0300:100', "prog-if '100' is not hex up to ff"],
    ['10de::0300,', 'invalid device filter'],
    ['12345:', "vendor '12345'"],
  ])('refuses %s', (spec, why) => {
    expect(() => parsePciFilter(spec)).toThrow(why);
    expect(isPciFilter(spec)).toBe(false);
  });
});
