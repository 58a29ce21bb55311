// Host-aware xmlfix: slots, device filters and PF names resolved against a simulated host
// (PASSTHRU_SIM, made by the real `passthru sim init`); plain addresses never open the host.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const q35 = readFileSync('fixtures/xml/domain-q35.xml', 'utf8');
const i440fx = readFileSync('fixtures/xml/domain-i440fx.xml', 'utf8');
const noBootDev = q35.replace("    <boot dev='hd'/>\n", '');
const sims: Record<string, string> = {};

function xmlfix(host: string, args: string[], input?: string) {
  const env = { ...process.env, PASSTHRU_SIM: sims[host] ?? host };
  return spawnSync(process.execPath, ['dist/xmlfix.js', ...args], { input: input ?? '', encoding: 'utf8', env });
}

/** Guest `<address>` lines of the hostdevs whose source is `bus`:`slot`, in document order. */
function guestAddresses(xml: string): string[] {
  return [...xml.matchAll(/<hostdev [^>]*>\s*<source>\s*<address [^>]*\/>\s*<\/source>\s*(<address [^>]*\/>)?/g)].map(
    (m) => m[1] ?? '-',
  );
}

function sources(xml: string): string[] {
  return [
    ...xml.matchAll(
      /<source>\s*<address (?:type='pci' )?domain='(0x[0-9a-f]+)' bus='(0x[0-9a-f]+)' slot='(0x[0-9a-f]+)' function='(0x[0-7])'/g,
    ),
  ].map((m) => `${m[2]}:${m[3]}.${m[4]}`);
}

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'xmlfix-host-'));
  for (const fixture of ['workstation', 'server']) {
    const file = join(dir, `${fixture}.json`);
    const r = spawnSync(process.execPath, ['dist/passthru.js', 'sim', 'init', '--fixture', fixture, '-o', file], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`passthru sim init --fixture ${fixture}: ${r.stderr}`);
    sims[fixture] = file;
  }
});

describe('host-aware xmlfix', () => {
  it('plain addresses need no host: an unreadable PASSTHRU_SIM leaves them unchecked, said once', () => {
    const r = xmlfix(
      '/nonexistent/host.json',
      ['-', '--add-hostdev', '01:00.0', '--add-vf', '03:10.0', '--remove-hostdev', 'all'],
      q35,
    );
    expect(r.stderr).toMatch(
      /^xmlfix: note: no host to check edits against \(.*\/nonexistent\/host\.json.*\): edits not checked\n$/,
    );
    expect(r.status).toBe(0);
    // …while a slot does need it, and says why it cannot read it.
    const s = xmlfix('/nonexistent/host.json', ['-', '--add-hostdev', '01:00'], q35);
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/^xmlfix: .*\/nonexistent\/host\.json.*\n$/);
  });

  it('q35: a slot goes behind one new pcie-root-port, never on pcie-root (multifunction on function 0)', () => {
    const r = xmlfix('workstation', ['-', '--add-hostdev', '01:00'], q35);
    expect(r.stderr).toBe('');
    expect(sources(r.stdout).slice(-2)).toEqual(['0x01:0x00.0x0', '0x01:0x00.0x1']);
    // the fixture's only root port (index 1) holds the NIC, and buses up to 5 are named: a new port, index 6
    expect(r.stdout).toContain("<controller type='pci' index='6' model='pcie-root-port'/>");
    expect(guestAddresses(r.stdout).slice(-2)).toEqual([
      "<address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x0' multifunction='on'/>",
      "<address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x1'/>",
    ]);
    // Idempotent: the same edit on its output changes nothing.
    expect(xmlfix('workstation', ['-', '--add-hostdev', '01:00', '--check'], r.stdout).status).toBe(0);
    // A root port no device uses is taken rather than a new one added.
    const spare = q35.replace(
      '    <interface',
      "    <controller type='pci' index='7' model='pcie-root-port'/>\n    <interface",
    );
    const s = xmlfix('workstation', ['-', '--add-hostdev', '01:00'], spare);
    expect(s.stdout.match(/model='pcie-root-port'/g)).toHaveLength(2);
    expect(guestAddresses(s.stdout).slice(-1)[0]).toContain("bus='0x07' slot='0x00' function='0x1'");
  });

  it("a slot's bootindex, rombar and romfile go on function 0 only (one <boot order>, as libvirt requires)", () => {
    const r = xmlfix(
      'workstation',
      ['-', '--add-hostdev', '01:00,bootindex=2,rombar=on,romfile=/srv/gpu.rom'],
      noBootDev,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.match(/<boot order='2'\/>/g)).toHaveLength(1);
    expect(r.stdout.match(/<rom /g)).toHaveLength(1);
    const f0 = r.stdout.indexOf("function='0x0'/>\n      </source>");
    expect(r.stdout.indexOf("<boot order='2'/>")).toBeGreaterThan(f0);
    expect(r.stdout.indexOf("<boot order='2'/>")).toBeLessThan(r.stdout.indexOf("function='0x1'/>\n      </source>"));
  });

  it('on i440fx the guest slot avoids the slots libvirt keeps for the PIIX3 and the video', () => {
    const r = xmlfix('workstation', ['-', '--add-hostdev', '0000:01:00'], i440fx);
    expect(r.status).toBe(0);
    const guest = guestAddresses(r.stdout).slice(-2);
    const slot = Number(/slot="(0x[0-9a-f]{2})"/.exec(guest[0]!)![1]);
    expect(slot).toBeGreaterThanOrEqual(3);
    expect(guest[0]).toContain('multifunction="on"'); // the document's own quote character
  });

  it('a slot whose function 0 is already there joins the remaining functions to its guest slot', () => {
    const withF0 = xmlfix('workstation', ['-', '--add-hostdev', '01:00'], q35).stdout;
    const without1 = xmlfix('workstation', ['-', '--remove-hostdev', '01:00.1'], withF0).stdout;
    expect(sources(without1)).not.toContain('0x01:0x00.0x1');
    const back = xmlfix('workstation', ['-', '--add-hostdev', '01:00'], without1);
    expect(back.stdout).toBe(withF0);
  });

  it('a filter adds its one free match, never a bridge; again, it changes nothing (exit 0); --all takes every free one', () => {
    const one = xmlfix('workstation', ['-', '--add-hostdev', '10de::0300'], q35);
    expect(one.stderr).toBe('');
    expect(sources(one.stdout)).toContain('0x01:0x00.0x0');
    // Again on its own output: the device is there, the edit is done.
    const again = xmlfix('workstation', ['-', '--add-hostdev', '10de::0300'], one.stdout);
    expect([again.status, again.stdout === one.stdout, again.stderr]).toEqual([
      0,
      true,
      "xmlfix: note: --add-hostdev: 0000:01:00.0 matches '10de::0300' and is in the domain already: nothing added (--all adds every free match)\n",
    ]);
    const all = xmlfix('workstation', ['-', '--add-hostdev', '8086:', '--all', '--list', '--json'], q35);
    expect(all.status).toBe(0);
    const ids = (JSON.parse(all.stdout) as { kind: string; id: string }[])
      .filter((i) => i.kind === 'hostdev')
      .map((i) => i.id);
    // Intel's devices minus its bridges (host bridge 00:00.0, root ports, ISA bridge 00:1f.0).
    expect(ids).toEqual([
      '0000:00:02.0',
      '0000:00:14.0',
      '0000:00:14.2',
      '0000:00:1f.3',
      '0000:00:1f.4',
      '0000:00:1f.6',
      '0000:03:00.0',
      '0000:03:00.1',
    ]);
    // the boot VGA among them is named on stderr
    expect(all.stderr).toContain("0000:00:02.0 is the host's boot VGA");
    const none = xmlfix('workstation', ['-', '--add-hostdev', 'abcd:'], q35);
    expect([none.status, none.stderr]).toEqual([2, "xmlfix: --add-hostdev: no device on this host matches 'abcd:'\n"]);
  });

  it('a filter with several free matches and no --all is refused with the list: no silent pick, no boot VGA preferred', () => {
    const r = xmlfix('workstation', ['-', '--add-hostdev', '::03xx'], q35);
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toBe(
      "xmlfix: --add-hostdev: 2 devices match '::03xx': 0000:00:02.0 [8086:3e92, class 0300] (boot VGA), 0000:01:00.0 [10de:1b80, class 0300]; give one address, or --all for every one\n",
    );
    // lspci -d syntax in full: '*' for any, x digits in the class
    const star = xmlfix('workstation', ['-', '--add-hostdev', '10de:*:03xx'], q35);
    expect([star.status, star.stderr]).toEqual([0, '']);
    expect(sources(star.stdout)).toContain('0x01:0x00.0x0');
  });

  it('a PF netdev picks a free VF of it, a different one each time', () => {
    const first = xmlfix('server', ['-', '--add-vf', 'ens1f0,mac=52:54:00:aa:bb:01'], q35);
    expect(first.stderr).toBe('');
    const second = xmlfix('server', ['-', '--add-vf', 'ens1f0,mac=52:54:00:aa:bb:02'], first.stdout);
    // ens1f0 is 0000:3b:00.0 with VF offset 16, stride 1: its VFs start at 0000:3b:02.0.
    expect(sources(second.stdout).slice(-2)).toEqual(['0x3b:0x02.0x0', '0x3b:0x02.0x1']);
    expect(second.stdout).toContain("<mac address='52:54:00:aa:bb:02'/>");
  });

  it('refuses, naming what exists: unknown slot, unknown PF, a PF without VFs', () => {
    const slot = xmlfix('workstation', ['-', '--add-hostdev', '05:00'], q35);
    expect(slot.status).toBe(2);
    expect(slot.stderr).toMatch(
      /^xmlfix: no PCI device in slot 0000:05:00 on this host \(slots present: .*01:00.*\)\n$/,
    );
    const pf = xmlfix('workstation', ['-', '--add-vf', 'eth9'], q35);
    expect([pf.status, pf.stderr]).toEqual([
      2,
      "xmlfix: no PCI network interface 'eth9' on this host (SR-IOV PFs: enp3s0f0, enp3s0f1)\n",
    ]);
    const novfs = xmlfix('workstation', ['-', '--add-vf', 'enp3s0f0'], q35);
    expect(novfs.status).toBe(2);
    expect(novfs.stderr).toMatch(/^xmlfix: 'enp3s0f0' \(0000:03:00\.0\) has no VFs/);
    const bad = xmlfix('workstation', ['-', '--add-vf', '../../etc'], q35);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^xmlfix: invalid PF '\.\.\/\.\.\/etc'/);
  });

  it('host-aware results validate with libvirt schemas (golden files)', () => {
    const cases: [string, string, string[], string][] = [
      ['host-q35-add-slot', 'workstation', ['--add-hostdev', '01:00'], q35],
      ['host-i440fx-add-slot', 'workstation', ['--add-hostdev', '01:00'], i440fx],
      ['host-q35-add-filter-all', 'workstation', ['--add-hostdev', '10de:,managed=no', '--all'], q35],
      ['host-q35-add-vf-of-pf', 'server', ['--add-vf', 'ens3f0np0,vlan=12,trust=on'], q35],
    ];
    const haveValidator = spawnSync('sh', ['-c', 'command -v virt-xml-validate']).status === 0;
    if (!haveValidator && process.env.PASSTHRU_SKIP_VALIDATE !== '1')
      throw new Error(
        'virt-xml-validate is missing: run `npm run test:setup` (libvirt-clients), or set PASSTHRU_SKIP_VALIDATE=1',
      );
    if (!haveValidator) console.warn('schema validation skipped: virt-xml-validate missing (PASSTHRU_SKIP_VALIDATE=1)');
    for (const [name, host, args, input] of cases) {
      const r = xmlfix(host, ['-', ...args], input);
      expect(`${name}: ${r.status} ${r.stderr}`).toBe(`${name}: 0 `);
      const file = `fixtures/xml/golden/${name}.xml`;
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, r.stdout);
      expect(r.stdout, name).toBe(readFileSync(file, 'utf8'));
      if (haveValidator) {
        const v = spawnSync('virt-xml-validate', [file], { encoding: 'utf8' });
        expect(`${name}: ${v.status} ${v.stderr.trim()}`).toBe(`${name}: 0 ${file} validates`);
      }
    }
  });
});
