// `passthru demo` (npm start): the whole product on an embedded simulated workstation, so it runs
// anywhere and touches nothing on this machine. Every step is a real command of ours, run as a
// separate process the way an administrator (or libvirtd, for the hook) would run it.
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFd } from './stdout.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('show list, doctor, xmlfix and the hook on a simulated workstation (changes nothing on this machine)')
    .action(() => {
      process.exitCode = runDemo();
    });
}

/** Thrown once the reader of our output has gone (`passthru demo | head`): the demo stops there. */
class ReaderGone extends Error {}

/** Synchronous, so the demo learns at once that nobody reads any more (the stream would say so later). */
function say(text: string): void {
  if (!writeFd(1, text)) throw new ReaderGone();
}

function runDemo(): number {
  // This module may sit in dist/chunks/; the entry that was run is dist/passthru.js.
  const dist = dirname(realpathSync(process.argv[1]!));
  const top = dirname(dist);
  const work = mkdtempSync(join(tmpdir(), 'passthru-demo-'));
  const sim = join(work, 'host.json');
  const root = join(work, 'root');
  // the scratch root holds libvirt's files (the domain's NAT network 'default') and the installed hook
  const env = { ...process.env, PASSTHRU_SIM: sim, PASSTHRU_STATE_DIR: join(work, 'state'), PASSTHRU_ROOT: root };
  mkdirSync(join(root, 'etc/libvirt/qemu/networks'), { recursive: true });
  writeFileSync(
    join(root, 'etc/libvirt/qemu/networks/default.xml'),
    "<network>\n  <name>default</name>\n  <forward mode='nat'/>\n  <bridge name='virbr0'/>\n</network>\n",
  );
  const node = process.execPath;
  let failed = 0;
  const show = (
    title: string,
    argv: string[],
    opts: { input?: string; expect?: number[]; label?: string } = {},
  ): string => {
    const shown = (opts.label ?? argv.join(' '))
      .replace(`${node} ${join(dist, 'passthru.js')}`, 'passthru')
      .replace(`${node} ${join(dist, 'xmlfix.js')}`, 'xmlfix')
      .split(work)
      .join('$DEMO');
    say(`\n## ${title}\n$ ${shown}\n`);
    const r = spawnSync(argv[0]!, argv.slice(1), { env, input: opts.input ?? '', encoding: 'utf8' });
    say(indent(r.stdout) + indent(r.stderr));
    if (!(opts.expect ?? [0]).includes(r.status ?? -1)) {
      failed++;
      say(`   (exit ${r.status ?? r.signal}: unexpected)\n`);
    }
    return r.stdout;
  };
  const passthru = (...a: string[]) => [node, join(dist, 'passthru.js'), ...a];
  const xmlfix = (...a: string[]) => [node, join(dist, 'xmlfix.js'), ...a];
  try {
    say(
      'passthru demo: a simulated workstation host (iGPU with GVT-g, a GPU + audio in one IOMMU group,\n' +
        'an SR-IOV NIC, the NVMe root disk). Nothing on this machine is read or changed.\n',
    );
    show('Create the simulated host', passthru('sim', 'init', '--fixture', 'workstation', '-o', sim), {
      label: 'passthru sim init --fixture workstation -o $DEMO/host.json',
    });
    const state = () => spawnSync(node, [join(dist, 'passthru.js'), 'sim', 'state'], { env, encoding: 'utf8' }).stdout;
    const before = state();
    show('What the host offers for passthrough', passthru('list'));
    show('Is the host ready?', passthru('doctor'), { expect: [0, 1] });

    const domainFile = join(work, 'win11-gpu.xml');
    writeFileSync(domainFile, readFileSync(join(top, 'fixtures/xml/domain-q35.xml')));
    const edits = [
      '--add-hostdev',
      '0000:01:00.0',
      '--add-mdev',
      'i915-GVTg_V5_4,parent=0000:00:02.0,uuid=c2177883-f1bb-47f0-914d-32a22e3a8804',
    ];
    show(
      'Give the domain the GPU and a GVT-g slice: only the new lines change',
      xmlfix(domainFile, ...edits, '--diff'),
    );
    show('Write it in place (atomically), then check it is idempotent', xmlfix('-i', domainFile, ...edits));
    show('The same edits again change nothing (--check exits 0)', xmlfix(domainFile, ...edits, '--check'));
    const xml = readFileSync(domainFile, 'utf8');

    show('What the hook will do at `virsh start`', passthru('hook', '--dry-run', domainFile));
    show(
      'Install the hook (here into a scratch root, backed by the simulated host)',
      passthru('install', '--root', root, '--sim', sim, '--state-dir', env.PASSTHRU_STATE_DIR),
    );
    const entry = join(root, 'etc/libvirt/hooks/qemu.d/passthru');
    show('libvirtd runs it on `virsh start` (prepare begin)', [entry, 'win11-gpu', 'prepare', 'begin', '-'], {
      input: xml,
      label: 'qemu.d/passthru win11-gpu prepare begin - < win11-gpu.xml',
    });
    show('What is held, and by whom', passthru('status'));
    show('The GPU’s audio peer is now on vfio-pci, the mdev exists', passthru('list', '--filter', '10de:,8086:3e92'));
    show('libvirtd runs it on shutdown (release end)', [entry, 'win11-gpu', 'release', 'end', '-'], {
      input: xml,
      label: 'qemu.d/passthru win11-gpu release end - < win11-gpu.xml',
    });
    const same = state() === before;
    say(
      `\n## After release\nthe simulated host is ${same ? 'byte-identical to where it started' : 'NOT as it started'}\n`,
    );
    if (!same) failed++;
    say(failed ? `\ndemo: ${failed} step(s) did not go as expected\n` : '\ndemo: done\n');
    return failed ? 1 : 0;
  } catch (err) {
    if (err instanceof ReaderGone) return 0;
    throw err;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function indent(text: string): string {
  return text ? `${text.replace(/\n$/, '').replace(/^/gm, '   ')}\n` : '';
}
