// Generated hostile input (fast-check): random values in every metadata slot, random mutations of a
// domain document on the hook's stdin and on xmlfix's. Whatever is generated, the program either
// refuses with one line and writes nothing, or (the value happened to be fine) writes only to
// well-formed paths under the host root and release puts the host back. Reproduce a failure with
// PASSTHRU_FC_SEED=<seed printed in the failure>; PASSTHRU_FC_RUNS raises the number of runs.
import { afterAll, describe, expect } from 'vitest';
import fc from 'fast-check';
import { figures, figureTest } from '../support/figures.js';
import { domainXml, stableUuid, type DomainSpec } from '../support/domains.js';
import { carrierDomain } from '../support/hostile.js';
import { gpusWithPeers, loadFixture, mdevParents, sriovPfs, vfAddress } from '../support/scenarios.js';
import { simHostForSuite, type SimWrite } from '../support/simhost.js';
import { before, refusalProblems } from '../support/refusal.js';
import { dist, nodeBin } from '../support/paths.js';
import { run } from '../support/proc.js';

const seed = process.env.PASSTHRU_FC_SEED
  ? Number(process.env.PASSTHRU_FC_SEED)
  : (Date.now() ^ (process.pid << 8)) >>> 0;
const numRuns = Number(process.env.PASSTHRU_FC_RUNS ?? 20);
const fig = figures('hostile-generated');
for (const k of ['generated', 'accepted', 'wroteSomething', 'badErrors', 'unsafeWrites', 'notRestored']) fig.add(k, 0);
fig.set('seed', String(seed));
afterAll(() => fig.write());
const params = { seed, numRuns, endOnFailure: true } as const;

const fx = loadFixture('workstation');
const gpu = gpusWithPeers(fx)[0]!;
const pf = sriovPfs(fx)[0]!;
const mdev = mdevParents(fx)[0]!;
const pfDev = pf.netdev ?? pf.netdevs![0]!;
const vf = vfAddress(pf, 0);

/** Strings an attacker would try, mixed with fully random ones and with valid values plus a tail. */
const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('..', '../', '/', '.', '', ' ', '\n', '\t', '%2e%2e', '\u202e', 'a'.repeat(300)),
  fc
    .tuple(
      fc.constantFrom(mdev.type, pfDev, mdev.parent.address, vf, '52:54:00:aa:bb:cc', '10', stableUuid('x')),
      fc.constantFrom('/..', '/../../x', '\n', ' ', '/', '..', '%00', '\u0085'),
    )
    .map(([a, b]) => a + b),
);

/** An XML attribute value as it would be written (escaped, control characters as char refs). */
const attr = (s: string): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/'/g, '&apos;')
    .replace(/[\u0000-\u001f\u007f-\u009f\ud800-\udfff\ufffe\uffff]/g, (c) => `&#${c.charCodeAt(0)};`);

type Slot = (v: string) => string;
const slots: Record<string, Slot> = {
  'mdev type': (v) =>
    domainXml({ name: 'gen', mdevs: [{ uuid: stableUuid('gen'), type: 'TYPE', parent: mdev.parent.address }] }).replace(
      "type='TYPE'",
      `type='${attr(v)}'`,
    ),
  'mdev parent': (v) =>
    domainXml({ name: 'gen', mdevs: [{ uuid: stableUuid('gen'), type: mdev.type, parent: '0000:00:00.7' }] }).replace(
      "parent='0000:00:00.7'",
      `parent='${attr(v)}'`,
    ),
  'mdev uuid': (v) =>
    domainXml({ name: 'gen', mdevs: [{ uuid: 'UUID', type: mdev.type, parent: mdev.parent.address }] }).replace(
      /UUID/g,
      attr(v),
    ),
  'pf dev': (v) => domainXml({ name: 'gen', pfs: [{ dev: 'DEV', vfs: 2 }] }).replace("dev='DEV'", `dev='${attr(v)}'`),
  'pf vfs': (v) => domainXml({ name: 'gen', pfs: [{ dev: pfDev, vfs: 2 }] }).replace("vfs='2'", `vfs='${attr(v)}'`),
  'vf mac': (v) =>
    domainXml({ name: 'gen', vfs: [{ address: vf, mac: 'MAC' }] }).replace("mac='MAC'", `mac='${attr(v)}'`),
  'vf vlan': (v) =>
    domainXml({ name: 'gen', vfs: [{ address: vf, vlan: 1 }] }).replace("vlan='1'", `vlan='${attr(v)}'`),
  'vf address': (v) =>
    domainXml({ name: 'gen', vfs: [{ address: vf, trust: true }] }).replace(`address='${vf}'`, `address='${attr(v)}'`),
  'vf max-rate': (v) =>
    domainXml({ name: 'gen', vfs: [{ address: vf, maxRate: 1 }] }).replace("max-rate='1'", `max-rate='${attr(v)}'`),
  'hostdev bus': (v) =>
    domainXml({ name: 'gen', hostdevs: [{ address: gpu.address }] }).replace(/bus='0x[0-9a-f]+'/, `bus='${attr(v)}'`),
  'domain name': (v) =>
    domainXml({ name: 'gen', hostdevs: [{ address: gpu.address }] }).replace(
      '<name>gen</name>',
      `<name>${attr(v)}</name>`,
    ),
};

/** A write the simulator logged stays inside the host root: relative, no dot segments, sane names. */
function unsafe(w: SimWrite): boolean {
  return (
    !w.path.split('/').every((seg) => /^[A-Za-z0-9:._@+-]+$/.test(seg) && seg !== '.' && seg !== '..') ||
    !/^(sys|dev|etc|run|proc)\//.test(w.path)
  );
}

describe(`generated values in every slot (seed ${seed}, ${numRuns} runs each)`, () => {
  const suite = simHostForSuite('workstation');

  for (const [slot, make] of Object.entries(slots)) {
    figureTest(
      fig,
      `${slot}: refused cleanly, or only safe writes and restored on release`,
      async () => {
        await fc.assert(
          fc.asyncProperty(hostile, async (v) => {
            const xml = make(v);
            const b = before(suite.host);
            const r = await suite.host.hook('gen', 'prepare', xml);
            fig.add('generated');
            if (r.code === 0) {
              fig.add('accepted');
              const bad = suite.host.writes().filter(unsafe);
              if (bad.length) fig.add('unsafeWrites');
              expect(bad, `${slot}=${JSON.stringify(v)}`).toEqual([]);
              const rel = await suite.host.hook('gen', 'release', xml);
              expect(rel.code).toBe(0);
              if (suite.host.state() !== suite.start) fig.add('notRestored');
              expect(
                suite.host.state() === suite.start,
                `${slot}=${JSON.stringify(v)}: release restored the host`,
              ).toBe(true);
              return;
            }
            const problems = refusalProblems(suite.host, b, r, fig);
            expect(problems, `${slot}=${JSON.stringify(v)}: ${r.stderr.slice(0, 200)}`).toEqual([]);
          }),
          params,
        );
      },
      { timeout: 600_000 },
    );
  }
});

/** Mutations of a valid domain document: truncate, insert random bytes, prepend declarations. */
const mutated = (doc: string): fc.Arbitrary<Buffer> =>
  fc.oneof(
    fc.nat({ max: doc.length }).map((n) => Buffer.from(doc.slice(0, n))),
    fc
      .tuple(fc.nat({ max: doc.length }), fc.uint8Array({ minLength: 1, maxLength: 16 }))
      .map(([at, bytes]) =>
        Buffer.concat([Buffer.from(doc.slice(0, at)), Buffer.from(bytes), Buffer.from(doc.slice(at))]),
      ),
    fc
      .tuple(
        fc.nat({ max: doc.length }),
        fc.constantFrom(
          '<!DOCTYPE x [<!ENTITY e "e">]>',
          '&e;',
          '<![CDATA[',
          ']]>',
          '<?pi x?>',
          '<!--',
          '</domain>',
          "<hostdev mode='subsystem' type='pci'>",
          '\u0000',
          '\uffff',
          '"',
          "'",
        ),
      )
      .map(([at, s]) => Buffer.from(doc.slice(0, at) + s + doc.slice(at))),
  );

describe(`generated documents (seed ${seed}, ${numRuns} runs each)`, () => {
  const doc = domainXml({
    name: 'gen',
    hostdevs: [{ address: gpu.address, managed: true }],
    mdevs: [{ uuid: stableUuid('gen:doc'), type: mdev.type, parent: mdev.parent.address }],
  } satisfies DomainSpec);
  const suite = simHostForSuite('workstation');

  figureTest(
    fig,
    'the hook: refused cleanly, or a well-formed prepare that release undoes',
    async () => {
      await fc.assert(
        fc.asyncProperty(mutated(doc), async (body) => {
          const b = before(suite.host);
          const r = await suite.host.hook('gen', 'prepare', body);
          fig.add('generated');
          if (r.code === 0) {
            fig.add('accepted');
            expect(suite.host.writes().filter(unsafe)).toEqual([]);
            expect((await suite.host.hook('gen', 'release', body)).code).toBe(0);
            expect(suite.host.state() === suite.start, 'release restored the host').toBe(true);
            return;
          }
          expect(refusalProblems(suite.host, b, r, fig), r.stderr.slice(0, 200)).toEqual([]);
        }),
        params,
      );
    },
    { timeout: 600_000 },
  );

  figureTest(
    fig,
    'xmlfix: output or exit 2 with one line; never a crash or a stack trace',
    async () => {
      const carrier = carrierDomain(gpu.address);
      await fc.assert(
        fc.asyncProperty(mutated(carrier), async (body) => {
          const r = await run(nodeBin, [dist.xmlfix, '-'], {
            input: body,
            env: { PATH: process.env.PATH, LC_ALL: 'C' },
          });
          fig.add('generated');
          expect(r.timedOut).toBe(false);
          expect(r.signal).toBe(null);
          if (r.code === 0) {
            fig.add('accepted');
            // no edit: output is the input, byte for byte
            expect(Buffer.from(r.stdout, 'utf8').equals(body)).toBe(true);
            return;
          }
          expect(r.code).toBe(2);
          expect(r.stdout).toBe('');
          const line = r.stderr.trimEnd();
          if (!line || line.includes('\n')) fig.add('badErrors');
          expect(line).not.toBe('');
          expect(line).not.toContain('\n');
        }),
        params,
      );
    },
    { timeout: 600_000 },
  );
});
