// isoTime spells a time exactly as Date.prototype.toISOString does, which the journal used before.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoTime } from '../../src/exec/iso-time.js';

describe('isoTime', () => {
  it('matches toISOString at the edges: epoch, leap days, century rules, ends of months and years', () => {
    for (const t of [
      '1970-01-01T00:00:00.000Z',
      '2000-02-29T23:59:59.999Z',
      '2100-03-01T00:00:00.000Z',
      '1900-02-28T12:00:00.001Z',
      '2024-12-31T23:59:59.999Z',
      '2026-11-23T13:06:31.512Z',
      '0000-03-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '1969-12-31T23:59:59.999Z',
    ]) {
      const ms = Date.parse(t);
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      expect(isoTime(ms)).toBe(t);
    }
  });

  it('matches toISOString for any millisecond of years 0-9999', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('0000-01-01T00:00:00.000Z'), max: Date.parse('9999-12-31T23:59:59.999Z') }),
        (ms) => {
          expect(isoTime(ms)).toBe(new Date(ms).toISOString());
        },
      ),
      { numRuns: 5000 },
    );
  });
});
