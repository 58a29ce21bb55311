// The journal file: atomic writes, and every way a journal can be unusable refused with one line.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JournalError,
  journalPath,
  listJournals,
  readJournalFile,
  writeJournal,
  type Journal,
} from '../../src/exec/journal.js';
import { selectJournals } from '../../src/exec/recover.js';
import { generateValidators } from '../../src/config/generate-validators.mjs';
import { parseConfig } from '../../src/config/load.js';
import { InputError } from '../../src/errors.js';

const UUID = '11111111-2222-4333-8444-555555555555';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'passthru-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function journal(): Journal {
  return {
    schema: 'passthru-journal/1',
    domain: { name: 'gpu', uuid: UUID },
    state: 'preparing',
    pid: 1,
    updated: '',
    holds: { groups: [1], devices: ['0000:01:00.0'], mdevs: [], pfs: [] },
    actions: [
      {
        id: 'bind-vfio 0000:01:00.1',
        kind: 'bind-vfio',
        device: '0000:01:00.1',
        why: 'peer',
        status: 'pending',
        do: [{ op: 'driver-override', device: '0000:01:00.1', value: 'vfio-pci' }],
        undo: [{ op: 'driver-override', device: '0000:01:00.1', value: null }],
      },
    ],
  };
}

describe('journal', () => {
  it('round-trips and leaves no temp file behind', () => {
    writeJournal(dir, journal());
    expect(readdirSync(dir)).toEqual([`${UUID}.json`]);
    const j = readJournalFile(journalPath(dir, UUID));
    expect(j.actions[0]!.undo).toEqual([{ op: 'driver-override', device: '0000:01:00.1', value: null }]);
    expect(j.updated).toMatch(/Z$/);
  });

  const bad: [string, (file: string) => void, RegExp][] = [
    ['empty', (f) => writeFileSync(f, ''), /is empty/],
    ['corrupt JSON', (f) => writeFileSync(f, '{"schema": "passthru-jou'), /is corrupt \(not JSON/],
    [
      'wrong schema',
      (f) => writeFileSync(f, JSON.stringify({ ...journal(), schema: 'passthru-journal/9' })),
      /does not match the journal schema: schema:/,
    ],
    [
      'hostile path in an op',
      (f) =>
        writeFileSync(
          f,
          JSON.stringify({
            ...journal(),
            actions: [{ ...journal().actions[0], undo: [{ op: 'mdev-remove', uuid: '../../../etc' }] }],
          }),
        ),
      /does not match the journal schema/,
    ],
    [
      'extra field',
      (f) => writeFileSync(f, JSON.stringify({ ...journal(), evil: 1 })),
      /must NOT have additional properties 'evil'/,
    ],
    [
      'symlink',
      (f) => {
        writeFileSync(join(dir, 'target.json'), JSON.stringify(journal()));
        symlinkSync(join(dir, 'target.json'), f);
      },
      /is a symbolic link/,
    ],
  ];
  for (const [name, make, msg] of bad) {
    it(`refuses a journal that is ${name}, with one line, changing nothing`, () => {
      const file = journalPath(dir, UUID);
      make(file);
      const before = readdirSync(dir).map((n) => [n, readFileSync(join(dir, n), 'utf8')]);
      let err: unknown;
      try {
        readJournalFile(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(JournalError);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain('\n');
      expect(() => selectJournals(dir, { all: true })).toThrow(JournalError);
      expect(listJournals(dir)[0]!.error).toBeInstanceOf(JournalError);
      expect(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n), 'utf8')])).toEqual(before);
    });
  }
});

describe('schemas', () => {
  it('the committed standalone validators match schemas/*.schema.json (run `npm run build` after editing a schema)', () => {
    expect(readFileSync(join(__dirname, '..', '..', 'src', 'config', 'validators.generated.js'), 'utf8')).toBe(
      generateValidators(),
    );
  });

  it('accepts a good config and refuses bad ones with one line naming the problem', () => {
    expect(
      parseConfig(
        JSON.stringify({
          protected: ['0000:00:17.0', '01:00', '10de::0300', '10de:*:03xx', '*:*:0c03:30'],
          writeTimeoutMs: 500,
        }),
        'c.json',
      ),
    ).toMatchObject({ writeTimeoutMs: 500, autoProtect: { rootDisk: true } });
    const cases: [string, RegExp][] = [
      ['{', /config c.json is not valid JSON/],
      [JSON.stringify({ protected: ['../etc'] }), /config c.json: protected.0: is not a valid value here/],
      [JSON.stringify({ writeTimeoutMs: 0 }), /writeTimeoutMs: must be >= 1/],
      // a short class passes the schema's shape, and the filter parser names the spelling meant
      [JSON.stringify({ protected: ['::03'] }), /class '03' has fewer than 4 digits .* 03xx for any subclass/],
      [JSON.stringify({ stateDir: '/tmp' }), /must NOT have additional properties 'stateDir'/],
    ];
    for (const [text, msg] of cases) {
      expect(() => parseConfig(text, 'c.json')).toThrow(InputError);
      expect(() => parseConfig(text, 'c.json')).toThrow(msg);
    }
  });
});
