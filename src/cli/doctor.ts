// `passthru doctor [--json] [--domain FILE]`: is this host ready for passthrough, and (with a
// domain's XML) is it ready for that domain. Exit 0 when nothing failed, 1 otherwise.
import type { Command } from 'commander';
import { InputError } from '../errors.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      "check IOMMU, vfio, module configuration, libvirt settings (and a domain's devices) with fixes to paste",
    )
    .option('--json', 'machine-readable output')
    .option('--domain <file>', "also check this domain's passthrough devices (libvirt domain XML, - for stdin)")
    .action(async (opts: { json?: boolean; domain?: string }) => {
      let domain;
      let start;
      if (opts.domain !== undefined) {
        const { readFileSync } = await import('node:fs');
        let xml: Buffer;
        try {
          xml = readFileSync(opts.domain === '-' ? 0 : opts.domain);
        } catch (err) {
          throw new InputError(
            `cannot read domain XML '${opts.domain}': ${(err as { code?: string }).code ?? 'error'}`,
          );
        }
        const { readDomainPassthrough } = await import('../xml/domain-reader.js');
        domain = readDomainPassthrough(xml);
        start = (await import('../xml/start-facts.js')).readStartFacts(xml);
      }
      const { timeoutFromEnv, COMMAND_LOCKED_READ_MS } = await import('../host/bounded.js');
      const lockedReadMs = timeoutFromEnv(process.env, COMMAND_LOCKED_READ_MS);
      const { openHost } = await import('../host/open.js');
      const { runDoctor } = await import('../doctor/run.js');
      const { formatDoctor } = await import('../doctor/format.js');
      const host = await openHost(process.env);
      let hookEntry: import('../doctor/hook-entry.js').HookEntryInputs | undefined;
      if (host.kind === 'real') {
        const { packageFiles } = await import('../install/install.js');
        hookEntry = { root: host.root };
        try {
          hookEntry.wouldInstall = { node: process.execPath, hookJs: packageFiles().hookJs };
        } catch {
          // bundles copied out of the package: nothing to say about installing from them
        }
      }
      // the domain is judged with the hook's own context: its config, state dir and libvirt's files
      const hook = domain ? await (await import('../hook/context.js')).openContext(process.env) : undefined;
      const realRoot = host.kind === 'real' && host.root === '/';
      const { libvirtVersion } = await import('../host/libvirt-version.js');
      const { execaRunner } = await import('../doctor/kernel-log.js');
      const libvirt = domain ? await libvirtVersion(process.env, realRoot, execaRunner) : undefined;
      const report = await runDoctor({
        sysfs: host.sysfs,
        host: host.kind === 'sim' ? `simulated host ${host.root}` : `host root ${host.root}`,
        realRoot,
        lockedReadMs,
        ...(hookEntry ? { hookEntry } : {}),
        ...(domain && hook ? { domain, hook, domainFile: opts.domain! } : {}),
        ...(start ? { start } : {}),
        ...(libvirt ? { libvirt } : {}),
      });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
      if (report.summary.fail > 0) process.exitCode = 1;
    });
}
