// xmlfix --memory-backing: where <memoryBacking> goes, what is added to an existing one, idempotence,
// and the refusals (a bad value, an <allocation> that says something else) with their exact lines.
import { describe, expect, it } from 'vitest';
import { memoryBackingOptions, setMemoryBacking } from '../../src/xml/memory-backing-edit.js';

const dom = (inner: string) =>
  `<domain type='kvm'>\n  <name>g</name>\n  <memory unit='KiB'>33554432</memory>\n${inner}  <vcpu placement='static'>8</vcpu>\n  <devices/>\n</domain>\n`;

describe('xmlfix --memory-backing', () => {
  it('adds <memoryBacking> after <memory>, in the document style; a second run changes nothing', () => {
    const once = setMemoryBacking(dom(''), memoryBackingOptions('--memory-backing', 'threads=4'));
    expect(once).toBe(dom("  <memoryBacking>\n    <allocation mode='immediate' threads='4'/>\n  </memoryBacking>\n"));
    expect(setMemoryBacking(once, memoryBackingOptions('--memory-backing', 'threads=4'))).toBe(once);
  });

  it('adds only the missing children to an existing <memoryBacking>, keeping what is there', () => {
    const had = dom('  <memoryBacking>\n    <nosharepages/>\n  </memoryBacking>\n');
    expect(setMemoryBacking(had, memoryBackingOptions('--memory-backing', 'hugepages,threads=2'))).toBe(
      dom(
        "  <memoryBacking>\n    <nosharepages/>\n    <hugepages/>\n    <allocation mode='immediate' threads='2'/>\n  </memoryBacking>\n",
      ),
    );
  });

  it('refuses a bad value and never overwrites an <allocation> that says something else', () => {
    expect(() => memoryBackingOptions('--memory-backing', 'threads=0')).toThrow(
      "--memory-backing: 'threads=0' is not hugepages or threads=N (N from 1: preallocation threads)",
    );
    const other = dom("  <memoryBacking>\n    <allocation mode='ondemand'/>\n  </memoryBacking>\n");
    expect(() => setMemoryBacking(other, { hugepages: false, threads: 8 })).toThrow(
      "the domain already has <allocation mode='ondemand' threads=''>: change it by hand (virsh edit)",
    );
    // hugepages alone leaves that <allocation> alone
    expect(setMemoryBacking(other, { hugepages: true })).toContain("<allocation mode='ondemand'/>\n    <hugepages/>");
  });
});
