// The prepare/release bench's host and domain: the workstation fixture on the simulator, and a
// domain with 4 PCI hostdevs (a GPU whose audio peer the hook binds, its audio assigned unmanaged,
// two USB controllers unmanaged), 1 mdev (GVT-g) and 2 VFs created on the igb PF (hostdev
// interfaces with MAC/VLAN and trust/spoofchk settings).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NS = 'https://passthru.dev/xmlns/domain/1';
const MDEV = '6a7c1e52-3f0b-4d8e-9c21-5b4f0e8d7a13';
const pci = (a) => {
  const [d, b, sf] = a.split(':');
  const [s, f] = sf.split('.');
  return `domain='0x${d}' bus='0x${b}' slot='0x${s}' function='0x${f}'`;
};
const hostdev = (a, managed) => [
  `    <hostdev mode='subsystem' type='pci' managed='${managed}'>`,
  `      <source>`,
  `        <address ${pci(a)}/>`,
  `      </source>`,
  `    </hostdev>`,
];
const iface = (a, mac, vlan) => [
  `    <interface type='hostdev' managed='yes'>`,
  `      <mac address='${mac}'/>`,
  `      <source>`,
  `        <address type='pci' ${pci(a)}/>`,
  `      </source>`,
  `      <vlan>`,
  `        <tag id='${vlan}'/>`,
  `      </vlan>`,
  `    </interface>`,
];

export async function setup(work) {
  const simFile = join(work, 'host.json');
  const r = spawnSync(
    process.execPath,
    [join(repo, 'dist', 'passthru.js'), 'sim', 'init', '--fixture', 'workstation', '-o', simFile],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`passthru sim init failed: ${r.stderr}`);
  const start = readFileSync(simFile, 'utf8');
  // the host without the simulator's bookkeeping, keys sorted (the per-write save keeps them in
  // whatever order the writes left them)
  const sorted = (v) =>
    Array.isArray(v)
      ? v.map(sorted)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sorted(v[k])]),
          )
        : v;
  const canonical = (text) => {
    const doc = JSON.parse(text);
    for (const k of ['simVersion', 'writeLog', 'counters', 'faults']) delete doc[k];
    return JSON.stringify(sorted(doc));
  };
  const name = 'bench-big';
  const domainXml = [
    `<domain type='kvm'>`,
    `  <name>${name}</name>`,
    `  <uuid>3c9e2b1a-7d4f-4e6a-8b25-0f1d2c3b4a59</uuid>`,
    `  <metadata>`,
    `    <passthru:devices xmlns:passthru='${NS}'>`,
    `      <passthru:mdev uuid='${MDEV}' type='i915-GVTg_V5_4' parent='0000:00:02.0'/>`,
    `      <passthru:pf dev='enp3s0f0' vfs='2'/>`,
    `      <passthru:vf address='0000:03:10.0' trust='on' spoofchk='off'/>`,
    `      <passthru:vf address='0000:03:10.4' trust='on' spoofchk='off' max-rate='1000'/>`,
    `    </passthru:devices>`,
    `  </metadata>`,
    `  <memory unit='KiB'>4194304</memory>`,
    `  <vcpu placement='static'>4</vcpu>`,
    `  <os>`,
    `    <type arch='x86_64' machine='q35'>hvm</type>`,
    `  </os>`,
    `  <devices>`,
    `    <emulator>/usr/bin/qemu-system-x86_64</emulator>`,
    ...hostdev('0000:01:00.0', 'yes'),
    ...hostdev('0000:01:00.1', 'no'),
    ...hostdev('0000:00:14.0', 'no'),
    ...hostdev('0000:04:00.0', 'no'),
    `    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci'>`,
    `      <source>`,
    `        <address uuid='${MDEV}'/>`,
    `      </source>`,
    `    </hostdev>`,
    ...iface('0000:03:10.0', '52:54:00:a1:b2:01', 10),
    ...iface('0000:03:10.4', '52:54:00:a1:b2:02', 20),
    `  </devices>`,
    `</domain>`,
    ``,
  ].join('\n');
  return {
    simFile,
    name,
    domainXml,
    summary: '4 hostdevs, 1 mdev, 2 VFs (created + settings)',
    isPristine: () => canonical(readFileSync(simFile, 'utf8')) === canonical(start),
    /** Puts the start file back (only between full cycles, when the host state already equals it). */
    reset: () => {
      if (canonical(readFileSync(simFile, 'utf8')) !== canonical(start))
        throw new Error('the simulated host did not return to its start state after a cycle');
      writeFileSync(simFile, start);
    },
  };
}
