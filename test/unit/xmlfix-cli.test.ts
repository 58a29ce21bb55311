import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { xmlfixNoHost } from '../support/xmlfix-run.js';

const q35 = readFileSync('fixtures/xml/domain-q35.xml', 'utf8');
const xmlfix = (args: string[], input?: string | Buffer) => xmlfixNoHost(args, input ?? '');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xmlfix-'));
});

describe('xmlfix CLI', () => {
  it('with no edit writes its input back byte for byte (stdin and file)', () => {
    const odd = '\ufeff<domain type="kvm">\r\n <name>x</name> \r\n <devices/>\r\n</domain>';
    expect(xmlfix(['-'], odd).stdout).toBe(odd);
    writeFileSync(join(dir, 'a.xml'), odd);
    expect(xmlfix([join(dir, 'a.xml')]).stdout).toBe(odd);
  });

  it('-i edits several files in one process, atomically, keeping each mode, with --backup', () => {
    const a = join(dir, 'a.xml');
    const b = join(dir, 'b.xml');
    writeFileSync(a, q35);
    writeFileSync(b, q35.replace('win11-gpu', 'other'));
    chmodSync(a, 0o600);
    const r = xmlfix(['-i', a, b, '--add-hostdev', '01:00.0', '--backup', '.orig']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(a, 'utf8')).toContain("<address domain='0x0000' bus='0x01'");
    expect(readFileSync(b, 'utf8')).toContain('<name>other</name>');
    expect(readFileSync(b, 'utf8')).toContain("bus='0x01'");
    expect(statSync(a).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${a}.orig`, 'utf8')).toBe(q35);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('-i with one bad file writes none of them', () => {
    const a = join(dir, 'a.xml');
    const b = join(dir, 'b.xml');
    writeFileSync(a, q35);
    writeFileSync(b, '<domain><name>x</name><devices>'); // truncated
    const r = xmlfix(['-i', a, b, '--add-hostdev', '01:00.0']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^xmlfix: '.*b\.xml' is not well-formed/);
    expect(readFileSync(a, 'utf8')).toBe(q35);
    expect(readdirSync(dir).sort()).toEqual(['a.xml', 'b.xml']);
  });

  it('-o writes the result; --check says 1 for changes, 0 for none, and prints nothing', () => {
    const out = join(dir, 'out.xml');
    expect(xmlfix(['-', '--add-hostdev', '01:00.0', '-o', out], q35).status).toBe(0);
    const edited = readFileSync(out, 'utf8');
    const c1 = xmlfix(['-', '--add-hostdev', '01:00.0', '--check'], q35);
    expect([c1.status, c1.stdout]).toEqual([1, '']);
    const c0 = xmlfix(['-', '--add-hostdev', '01:00.0', '--check'], edited);
    expect([c0.status, c0.stdout]).toEqual([0, '']);
  });

  it('--diff prints a unified diff of only the inserted lines', () => {
    const r = xmlfix(['-', '--add-hostdev', '01:00.0', '--diff'], q35);
    const added = r.stdout.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    const removed = r.stdout.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'));
    expect(added).toHaveLength(5);
    expect(removed).toHaveLength(0);
    expect(r.stdout).toContain('@@');
  });

  it('--list shows the passthrough devices, --json for machines', () => {
    const edited = xmlfix(
      ['-', '--add-hostdev', '01:00.0,managed=no', '--add-vf', '03:10.0,mac=52:54:00:00:00:01,trust=on'],
      q35,
    ).stdout;
    const text = xmlfix(['-', '--list'], edited).stdout;
    expect(text).toBe(
      'hostdev           0000:01:00.0 managed=no\ninterface         0000:03:10.0 managed=yes mac=52:54:00:00:00:01 trust=yes\nnetwork-interface default mac=52:54:00:6d:90:02\n',
    );
    const json = JSON.parse(xmlfix(['-', '--list', '--json'], edited).stdout);
    expect(json.map((j: { kind: string; id: string }) => `${j.kind} ${j.id}`)).toEqual([
      'hostdev 0000:01:00.0',
      'interface 0000:03:10.0',
      'network-interface default',
    ]);
  });

  it("--validate runs libvirt's own parse (virsh, test driver): a second boot order the RNG accepts is refused", () => {
    const hostdevs = [1, 2]
      .map(
        (bus) =>
          `    <hostdev mode="subsystem" type="pci" managed="yes">\n      <source>\n        <address domain="0x0000" bus="0x0${bus}" slot="0x00" function="0x0"/>\n      </source>\n      <boot order="1"/>\n    </hostdev>\n`,
      )
      .join('');
    const twice = readFileSync('fixtures/xml/domain-i440fx.xml', 'utf8').replace(
      '    <memballoon',
      `${hostdevs}    <memballoon`,
    );
    const r = xmlfix(['-', '--remove-hostdev', '09:00.0', '--validate'], twice);
    expect([r.status, r.stdout, r.stderr]).toEqual([
      2,
      '',
      "xmlfix: --validate: libvirt refuses the result for stdin at define: unsupported configuration: boot order '1' used for more than one device\n",
    ]);
  });

  it('--validate refuses a result libvirt would not accept, writing nothing', () => {
    const broken = q35.replace("<vcpu placement='static'>4</vcpu>", "<vcpu placement='sometimes'>4</vcpu>");
    const a = join(dir, 'a.xml');
    writeFileSync(a, broken);
    const r = xmlfix(['-i', a, '--add-hostdev', '01:00.0', '--validate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^xmlfix: --validate: the result for '.*a\.xml' does not validate against domain\.rng/);
    expect(readFileSync(a, 'utf8')).toBe(broken);
    expect(xmlfix(['-', '--add-hostdev', '01:00.0', '--validate'], q35).status).toBe(0);
  });

  it.each([
    [['-', '--add-hostdev', '1:0.0'], q35, /invalid PCI address '1:0\.0'/],
    [['-'], '<!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/passwd">]><domain>&a;</domain>', /DOCTYPE declaration/],
    [['-'], Buffer.from([0x3c, 0x64, 0xc3, 0x28, 0x2f, 0x3e]), /not valid UTF-8/],
    [['-'], '<html><body/></html>', /root element is <html>/],
    [['/nonexistent/x.xml'], '', /cannot read '\/nonexistent\/x\.xml': ENOENT/],
    [['-', '--frobnicate'], q35, /Unknown option '--frobnicate'/],
    [['a.xml', 'b.xml'], q35, /more than one input file/],
    [['pool', 'p', '--pf', 'eth0', '--pf', 'eth1/../x'], '', /invalid pool --pf 'eth1\/\.\.\/x'/],
    [['pool', 'p'], '', /give --pf DEV or --vf ADDR/],
    [['-', '--pf', 'eth0'], q35, /belong to `xmlfix pool NAME`/],
  ] as [string[], string | Buffer, RegExp][])('refuses %j with one line on stderr and exit 2', (args, input, msg) => {
    const r = xmlfix(args, input);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(msg);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
