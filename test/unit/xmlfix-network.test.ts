import { readFileSync } from 'node:fs';
import { xmlfixNoHost } from '../support/xmlfix-run.js';
import { describe, expect, it } from 'vitest';

const pfNet = 'fixtures/xml/network-pf.xml';
const run = (args: string[], stdin?: string) => xmlfixNoHost(args, stdin ?? '');

describe('xmlfix on a <pf> pool network', () => {
  it('the PF already there is idempotent; a second PF or a VF address is refused with one line', () => {
    const same = run([pfNet, '--add-pf', 'enp3s0f0']);
    expect([same.status, same.stdout]).toEqual([0, readFileSync(pfNet, 'utf8')]);
    const second = run([pfNet, '--add-pf', 'enp4s0f0']);
    expect([second.status, second.stdout, second.stderr]).toEqual([
      2,
      '',
      "xmlfix: --add-pf enp4s0f0: the network already has <pf dev='enp3s0f0'/> and libvirt allows only one\n",
    ]);
    const vf = run([pfNet, '--add-vf-address', '03:10.0']);
    expect([vf.status, vf.stdout]).toEqual([2, '']);
    expect(vf.stderr).toMatch(/^xmlfix: --add-vf-address 0000:03:10\.0: .*<pf>.*\n$/);
  });

  it('domain edits are refused on network XML and network edits on domain XML', () => {
    const a = run([pfNet, '--add-hostdev', '01:00.0']);
    expect([a.status, a.stderr]).toEqual([2, 'xmlfix: --add-hostdev edits domain XML, but the input is a <network>\n']);
    const b = run(['fixtures/xml/domain-q35.xml', '--add-pf', 'enp3s0f0']);
    expect([b.status, b.stderr]).toEqual([2, 'xmlfix: --add-pf edits network XML, but the input is a <domain>\n']);
  });
});
