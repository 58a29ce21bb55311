// `passthru attach DOMAIN EDIT... [--live] [--config] [--dry-run] [-c URI]` and
// `passthru detach DOMAIN ADDR|SLOT|UUID|MAC [--live] [--config] [-c URI]`: hot-plug with the host
// prepared and restored as the hook does at start and stop (src/exec/attach.ts, detach.ts). Both take
// the host-wide lock, as recover does. Edits use xmlfix's syntax and apply in the order given.
import type { Command } from 'commander';
import type { Edit, EditFlag } from './xmlfix/args.js';

interface Opts {
  live?: boolean;
  config?: boolean;
  dryRun?: boolean;
  connect?: string;
}

async function underLock(run: () => Promise<void>): Promise<void> {
  const { isLocked, runUnderLock, LOCK_TIMEOUT_EXIT, lockWaitSeconds } = await import('../hook/lock.js');
  if (isLocked(process.env)) return run();
  const code = await runUnderLock(process.argv[1]!, process.argv.slice(2), '', process.env);
  if (code === LOCK_TIMEOUT_EXIT)
    process.stderr.write(
      `passthru: timed out after ${lockWaitSeconds(process.env)} s waiting for the host-wide lock (a hook or recover holds it)\n`,
    );
  process.exitCode = code;
}

const io = {
  out: (l: string) => process.stdout.write(`${l.endsWith('\n') ? l : `${l}\n`}`),
  err: (l: string) => process.stderr.write(`${l}\n`),
};

export function registerAttach(program: Command): void {
  const edits: Edit[] = [];
  const edit = (flag: EditFlag) => (value: string) => {
    edits.push({ flag, value });
    return value;
  };
  const common = (c: Command) =>
    c
      .option('--live', 'the running domain')
      .option('--config', "the domain's persistent definition")
      .option('-c, --connect <uri>', 'libvirt connection (default: LIBVIRT_DEFAULT_URI, as virsh)');
  common(
    program
      .command('attach')
      .description('hot-plug passthrough devices: prepare the host as the hook does, then virsh attach-device')
      .argument('<domain>', 'domain name')
      .option('--add-hostdev <spec>', 'ADDR|SLOT|FILTER[,managed=..] (as xmlfix)', edit('add-hostdev'))
      .option('--add-mdev <spec>', 'TYPE[,parent=ADDR][,uuid=UUID] (as xmlfix)', edit('add-mdev'))
      .option('--add-vf <spec>', 'VF_ADDR|PF_NETDEV[,mac=..][,vlan=..]... (as xmlfix)', edit('add-vf'))
      .option('--add-vgpu <spec>', 'PF_ADDR|VF_ADDR,type=ID|NAME (as xmlfix)', edit('add-vgpu'))
      .option('--dry-run', 'print the plan and the device XML, change nothing'),
  ).action(async (domain: string, opts: Opts) => {
    await underLock(async () => {
      const { openContext } = await import('../hook/context.js');
      const { attach } = await import('../exec/attach.js');
      await attach(await openContext(process.env), domain, edits, hotplugOpts(opts), io);
    });
  });
  common(
    program
      .command('detach')
      .description('hot-unplug a device (virsh detach-device), wait until libvirt lets go, undo its hot-plug steps')
      .argument('<domain>', 'domain name')
      .argument('<device>', 'PCI address, slot, mdev UUID or MAC')
      .option('--dry-run', 'say what would be detached, change nothing'),
  ).action(async (domain: string, device: string, opts: Opts) => {
    await underLock(async () => {
      const { openContext } = await import('../hook/context.js');
      const { detach, detachWaitMs } = await import('../exec/detach.js');
      const o = { ...hotplugOpts(opts), waitMs: detachWaitMs(process.env) };
      await detach(await openContext(process.env), domain, device, o, io);
    });
  });
}

function hotplugOpts(o: Opts) {
  return {
    ...(o.live ? { live: true } : {}),
    ...(o.config ? { config: true } : {}),
    ...(o.dryRun ? { dryRun: true } : {}),
    ...(o.connect ? { uri: o.connect } : {}),
  };
}
