// The libvirt hook protocol as a real libvirtd (Debian 9.0) runs it, learned with recording hooks in
// qemu.d (FINDINGS.md). These pin the facts the hook design rests on: which operations in which order,
// the environment, the XML on stdin, and when libvirtd notices a hook at all.
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeE2e, NsLibvirt, smallDomain, pciHostdev, realHostUnsafe } from './libvirt-ns.js';

interface Call {
  script: string;
  args: string[];
  env: Record<string, string>;
}

/** A hook script that appends "NAME<TAB>ARGS<TAB>ENV" to the record and keeps stdin per op/subop. */
function recorder(name: string, recDir: string, opts: { failPrepare?: string } = {}): string {
  return [
    '#!/bin/sh',
    `rec=${recDir}`,
    `printf '%s\\t%s\\t%s\\n' ${name} "$*" "$(env | grep -v '^PWD=' | sort | tr '\\n' ' ')" >>"$rec/calls"`,
    `cat >"$rec/${name}.$2.$3.xml"`,
    ...(opts.failPrepare ? [`if [ "$2" = prepare ]; then echo '${opts.failPrepare}' >&2; exit 1; fi`] : []),
    'exit 0',
    '',
  ].join('\n');
}

// a busy CI machine slows libvirtd restarts and qemu starts: generous bounds, each wait still bounded
await describeE2e('libvirt hook protocol (real libvirtd)', 90_000, () => {
  let lv: NsLibvirt;
  let rec: string;
  let hooks: string;

  const calls = (): Call[] =>
    existsSync(join(rec, 'calls'))
      ? readFileSync(join(rec, 'calls'), 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const [script, args, env] = l.split('\t');
            return {
              script: script!,
              args: args!.split(' '),
              env: Object.fromEntries(
                env!
                  .trim()
                  .split(' ')
                  .filter(Boolean)
                  .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
              ),
            };
          })
      : [];
  const ops = (): string[] => calls().map((c) => `${c.script} ${c.args.slice(1).join(' ')}`);
  const stdinOf = (script: string, op: string, sub: string): string =>
    readFileSync(join(rec, `${script}.${op}.${sub}.xml`), 'utf8');
  const reset = (): void => {
    rmSync(rec, { recursive: true, force: true });
    mkdirSync(rec);
  };
  const install = (rel: string, text: string): void => {
    const p = join(hooks, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, text);
    chmodSync(p, 0o755);
  };

  beforeAll(async () => {
    // hooks are noticed only if present when libvirtd starts: they go in first
    const recDir = mkdtempSync(join(tmpdir(), 'passthru-e2e-rec-'));
    lv = await NsLibvirt.start((etc) => {
      hooks = join(etc, 'hooks');
      install('qemu', recorder('qemu', recDir));
      install('qemu.d/10-rec', recorder('10-rec', recDir));
    });
    rec = recDir;
    expect(lv.hostPath('/etc/libvirt/hooks')).toBe(hooks);
    await lv.virshOk(['define', lv.file('plain.xml', smallDomain('e2e-plain'))]);
  });

  afterAll(async () => {
    await lv?.stop();
    if (rec) rmSync(rec, { recursive: true, force: true });
  });

  it('start and destroy: prepare, start, started, then stopped, release; hooks/qemu before each qemu.d entry; extra argument "-"', async () => {
    reset();
    await lv.virshOk(['start', 'e2e-plain']);
    await lv.virshOk(['destroy', 'e2e-plain']);
    const expected = ['prepare begin -', 'start begin -', 'started begin -', 'stopped end -', 'release end -'].flatMap(
      (o) => [`qemu ${o}`, `10-rec ${o}`],
    );
    expect(ops()).toEqual(expected);
    expect(calls().every((c) => c.args[0] === 'e2e-plain')).toBe(true);
    // the domain XML arrives on stdin for every operation, the release one included
    expect(stdinOf('10-rec', 'prepare', 'begin')).toContain('<name>e2e-plain</name>');
    expect(stdinOf('10-rec', 'release', 'end')).toContain('<name>e2e-plain</name>');
  });

  it("the environment is libvirtd's PATH, LC_ALL=C and HOME only: other variables of libvirtd's never reach the hook", async () => {
    reset();
    await lv.virshOk(['start', 'e2e-plain']);
    await lv.virshOk(['destroy', 'e2e-plain']);
    const env = calls()[0]!.env;
    expect(Object.keys(env).sort()).toEqual(['HOME', 'LC_ALL', 'PATH']);
    expect(env.LC_ALL).toBe('C');
    // scripts/e2e-ns.sh starts libvirtd with PASSTHRU_E2E_CANARY set: it is not passed on
    expect(env.PASSTHRU_E2E_CANARY).toBeUndefined();
  });

  it('a start that fails after prepare (a PCI hostdev on a host without IOMMU) still runs stopped and release, never start', async () => {
    const unsafe = realHostUnsafe(['0000:01:00.0']);
    if (unsafe) throw new Error(`refusing to start a hostdev domain: ${unsafe}`);
    reset();
    await lv.virshOk(['define', lv.file('hostdev.xml', smallDomain('e2e-hostdev', pciHostdev('0000:01:00.0')))]);
    const r = await lv.virsh(['start', 'e2e-hostdev']);
    expect(r.code).not.toBe(0);
    expect(ops()).toEqual(
      ['prepare begin -', 'stopped end -', 'release end -'].flatMap((o) => [`qemu ${o}`, `10-rec ${o}`]),
    );
    // prepare sees the hostdev as written in the domain
    expect(stdinOf('10-rec', 'prepare', 'begin')).toContain("<hostdev mode='subsystem' type='pci' managed='yes'>");
  });

  it("a prepare that exits 1 aborts the start with the hook's stderr in virsh's error; later qemu.d entries still run; stopped and release follow", async () => {
    reset();
    install('qemu.d/05-refuse', recorder('05-refuse', rec, { failPrepare: 'refusal line from the hook' }));
    try {
      const r = await lv.virsh(['start', 'e2e-plain']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('refusal line from the hook');
      // a qemu.d entry added while libvirtd runs is used at the next call (hooks existed at its start)
      expect(ops()).toEqual(
        ['prepare begin -', 'stopped end -', 'release end -'].flatMap((o) => [
          `qemu ${o}`,
          `05-refuse ${o}`,
          `10-rec ${o}`,
        ]),
      );
    } finally {
      rmSync(join(hooks, 'qemu.d', '05-refuse'));
    }
  });

  it("an <interface type='network'> is still type='network' at prepare; libvirt resolves it before 'start begin'; release sees type='network' again", async () => {
    reset();
    const br = await lv.exec('ip', ['link', 'add', 'br-e2e', 'type', 'bridge']);
    expect(br.code, br.stderr).toBe(0);
    await lv.exec('ip', ['link', 'set', 'br-e2e', 'up']);
    await lv.virshOk([
      'net-define',
      lv.file(
        'net.xml',
        "<network>\n  <name>e2e-br</name>\n  <forward mode='bridge'/>\n  <bridge name='br-e2e'/>\n</network>\n",
      ),
    ]);
    await lv.virshOk(['net-start', 'e2e-br']);
    const nic =
      "    <interface type='network'>\n      <mac address='52:54:00:e2:e0:01'/>\n      <source network='e2e-br'/>\n      <model type='virtio'/>\n    </interface>";
    await lv.virshOk(['define', lv.file('net-dom.xml', smallDomain('e2e-net', nic))]);
    await lv.virshOk(['start', 'e2e-net']);
    await lv.virshOk(['destroy', 'e2e-net']);
    expect(stdinOf('10-rec', 'prepare', 'begin')).toContain("<interface type='network'>");
    const atStart = stdinOf('10-rec', 'start', 'begin');
    expect(atStart).not.toContain("<interface type='network'>");
    expect(atStart).toMatch(
      /<interface type='bridge'>\s*<mac address='52:54:00:e2:e0:01'\/>\s*<source network='e2e-br' portid='[0-9a-f-]+' bridge='br-e2e'\/>/,
    );
    expect(stdinOf('10-rec', 'release', 'end')).toContain("<interface type='network'>");
  });

  it('a domain left running across a libvirtd restart gets "reconnect begin -"', async () => {
    await lv.virshOk(['start', 'e2e-plain']);
    reset();
    await lv.restartLibvirtd();
    await lv.virshOk(['destroy', 'e2e-plain']);
    expect(ops()).toEqual(
      ['reconnect begin -', 'stopped end -', 'release end -'].flatMap((o) => [`qemu ${o}`, `10-rec ${o}`]),
    );
  });

  it('with no hook at all when libvirtd starts, a qemu.d entry added later is never run until libvirtd restarts', async () => {
    rmSync(hooks, { recursive: true, force: true });
    mkdirSync(hooks); // an empty hooks dir (or an empty qemu.d) counts as no hook too
    await lv.restartLibvirtd();
    install('qemu.d/10-rec', recorder('10-rec', rec));
    reset();
    await lv.virshOk(['start', 'e2e-plain']);
    await lv.virshOk(['destroy', 'e2e-plain']);
    expect(ops()).toEqual([]);
    await lv.restartLibvirtd();
    await lv.virshOk(['start', 'e2e-plain']);
    await lv.virshOk(['destroy', 'e2e-plain']);
    expect(ops()).toEqual(
      ['prepare begin -', 'start begin -', 'started begin -', 'stopped end -', 'release end -'].map(
        (o) => `10-rec ${o}`,
      ),
    );
    expect(readdirSync(join(hooks, 'qemu.d'))).toEqual(['10-rec']);
  });
});
