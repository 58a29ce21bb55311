// `restore begin` under a real libvirtd: a saved domain whose passthrough this host no longer has
// (its PF gone) is refused by our filter with one line, before qemu starts and before any change; once
// the host has the device again, the same image restores and the domain runs on it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeE2e } from './libvirt-ns.js';
import { metadataDomain, startPassthruNs, type PassthruNs } from './passthru-ns.js';
import { stableUuid } from '../support/domains.js';

const PF = '0000:03:00.0';
const NAME = 'rs-vf';
const UUID = stableUuid('restore-filter');

await describeE2e('restore filter (real libvirtd)', 120_000, () => {
  let ns: PassthruNs;
  beforeAll(async () => {
    ns = await startPassthruNs();
    const xml = metadataDomain(NAME, UUID, [`<passthru:pf dev='enp3s0f0' vfs='2'/>`]);
    await ns.lv.virshOk(['define', ns.lv.file(`${NAME}.xml`, xml)]);
  });
  afterAll(async () => {
    await ns?.stop();
  });

  it('virsh restore of a saved domain whose PF this host lacks is refused with our line; with the PF back it restores', async () => {
    const pristine = ns.host.state();
    const image = join(ns.lv.work, 'rs.save');
    await ns.lv.virshOk(['start', NAME]);
    await ns.lv.virshOk(['save', NAME, image]);
    expect(ns.host.state()).toBe(pristine);
    // the host loses the PF's network interface (a NIC swapped, a driver not loaded)
    const file = readFileSync(ns.host.file, 'utf8');
    const doc = JSON.parse(file) as { devices: { address: string; netdev?: string }[] };
    delete doc.devices.find((d) => d.address === PF)!.netdev;
    writeFileSync(ns.host.file, JSON.stringify(doc));
    const without = ns.host.state();
    const r = await ns.lv.virsh(['restore', image]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `passthru: restore of '${NAME}': refused: PF 'enp3s0f0' not found: no such network interface on this host`,
    );
    expect((await ns.lv.virshOk(['domstate', NAME])).trim()).toBe('shut off');
    expect(ns.host.state()).toBe(without);
    expect(ns.host.journals()).toEqual([]);
    // the PF back: the same image restores, and the VFs come with it
    writeFileSync(ns.host.file, file);
    await ns.lv.virshOk(['restore', image]);
    expect((await ns.lv.virshOk(['domstate', NAME])).trim()).toBe('running');
    expect(ns.numVfs(PF)).toBe(2);
    await ns.lv.virshOk(['destroy', NAME]);
    expect(ns.host.journals()).toEqual([]);
    expect(ns.host.state()).toBe(pristine);
  });
});
