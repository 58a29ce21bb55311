// `passthru recover [--domain NAME|--all] [--force] [-c URI]`: restore the host from the journals after
// a crash; journals of domains that still run are skipped (named) unless --force.
import type { Command } from 'commander';
import { InputError } from '../errors.js';

/** Host-side keys of the domain's live passthrough devices, or undefined when libvirt does not answer. */
async function liveDevices(uuid: string, uri?: string): Promise<Set<string> | undefined> {
  const { domainXml } = await import('../exec/libvirt-domain.js');
  const { deviceFragments } = await import('../xml/device-fragments.js');
  try {
    return new Set(deviceFragments(await domainXml(uuid, uri, false)).map((f) => f.key));
  } catch {
    return undefined;
  }
}

export function registerRecover(program: Command): void {
  program
    .command('recover')
    .description('undo what the journals record (after a crash): --domain NAME|UUID or --all')
    .option('--domain <name>', "one domain's journal, by name or UUID")
    .option('--all', 'every journal of a domain that is not running')
    .option('--force', 'undo the journals of running domains too (pulls their devices from under them)')
    .option(
      '-c, --connect <uri>',
      'libvirt connection asked which domains run (default: LIBVIRT_DEFAULT_URI, as virsh)',
    )
    .action(async (opts: { domain?: string; all?: boolean; force?: boolean; connect?: string }) => {
      if (!!opts.domain === !!opts.all) throw new InputError('recover needs exactly one of --domain NAME or --all');
      const { isLocked, runUnderLock, LOCK_TIMEOUT_EXIT, lockWaitSeconds } = await import('../hook/lock.js');
      if (!isLocked(process.env)) {
        // same host-wide lock as the hook: never undo under a prepare that is running
        const code = await runUnderLock(process.argv[1]!, process.argv.slice(2), '', process.env);
        // on a real kernel a hook run whose write waits for a VM keeps the lock until the kernel lets go
        if (code === LOCK_TIMEOUT_EXIT)
          process.stderr.write(
            `passthru: recover: timed out after ${lockWaitSeconds(process.env)} s waiting for the host-wide lock (another hook or recover run holds it; one whose host write waits in the kernel holds it until the kernel lets go)\n`,
          );
        process.exitCode = code;
        return;
      }
      const { openContext, execEnv } = await import('../hook/context.js');
      const { recover } = await import('../exec/recover.js');
      const { livenessCheck, describeLiveness } = await import('../exec/liveness.js');
      const ctx = await openContext(process.env);
      const r = await recover(
        execEnv(ctx, (l) => process.stderr.write(`${l}\n`)),
        opts.all ? { all: true } : { domain: opts.domain! },
        {
          isRunning: await livenessCheck({ uri: opts.connect, root: ctx.root ?? '/' }),
          force: opts.force,
          settle: async (j, live) => {
            const { settleHotplug, unsettled } = await import('../exec/hotplug-recover.js');
            if (!unsettled(j)) return [];
            const env = execEnv(ctx, (l) => process.stderr.write(`${l}\n`));
            return settleHotplug(
              env,
              j,
              live.by === 'libvirt' ? await liveDevices(j.domain.uuid, opts.connect) : undefined,
            );
          },
        },
      );
      for (const l of r.settled) process.stdout.write(`${l}\n`);
      for (const s of r.skipped)
        process.stdout.write(
          `${s.name} (${s.uuid}): skipped, the domain is running (${describeLiveness(s.liveness)}); --force undoes it anyway\n`,
        );
      if (r.domains.length === 0 && r.skipped.length === 0) process.stdout.write('nothing to recover: no journal\n');
      for (const d of r.domains) {
        process.stdout.write(
          `${d.name} (${d.uuid}): ${d.changed} change(s) undone${d.failed ? `, ${d.failed} step(s) failed (journal kept)` : ', journal removed'}\n`,
        );
      }
      // a recover asked for one domain that it did not do has failed; --all skipping live ones has not
      if (r.domains.some((d) => d.failed) || (opts.domain && r.skipped.length)) process.exitCode = 1;
    });
}
