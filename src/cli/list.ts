// `passthru list [--json] [--filter SPEC]`: PCI devices by IOMMU group, with drivers, SR-IOV and each
// VF's settings (`ip link`), mdev types and which running domain (per passthru's journals) holds each.
//
// Devices are read from attributes that never take the device lock (src/host/pci-device.ts). The
// one lock-taking read, driver_override of a device with no driver or on vfio-pci/pci-stub, is
// bounded: while an unbind waits for qemu to let go of a device, the kernel blocks it (and the
// device's driver link is gone). Such a device is listed marked (`unreadable` in --json), named on
// stderr, and the exit status is 1 once everything is printed. The read itself stays in the kernel,
// and Node's exit waits for its thread (src/host/node-sysfs.ts): the output is complete, the process
// ends when the kernel lets go.
import type { Command } from 'commander';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list PCI devices by IOMMU group: drivers, SR-IOV with VF settings, netdevs, mdev types, users')
    .option('--json', 'machine-readable output')
    .option(
      '--filter <spec>',
      'only devices matching lspci -d filters (10de:1b80, 10de::0300, 10de:*:03xx) or a PF interface name (its VFs too), comma lists, with their group peers (marked as not matched)',
    )
    .action(async (opts: { json?: boolean; filter?: string }) => {
      const { parseListFilter, unknownNetdevs } = await import('../host/list-filter.js');
      const filter = opts.filter !== undefined ? parseListFilter(opts.filter) : undefined; // bad filter: exit 2 before reading anything
      const { timeoutFromEnv, COMMAND_LOCKED_READ_MS } = await import('../host/bounded.js');
      const lockedReadMs = timeoutFromEnv(process.env, COMMAND_LOCKED_READ_MS);
      const { openHost } = await import('../host/open.js');
      const { HostReader } = await import('../host/reader.js');
      const { addVfStates, buildListing, formatListing, vfPfNetdevs } = await import('../host/listing.js');
      const { readVfLinks } = await import('../host/vf-links.js');
      const { domainUsers } = await import('../host/users.js');
      const { rootDiskDevices, defaultRouteDevices } = await import('../exec/host-facts.js');
      const { InputError } = await import('../errors.js');
      const { bestVariant, needsSubsystem, readSubsystem, readVariantAliases } = await import(
        '../host/variant-drivers.js'
      );
      const host = await openHost(process.env);
      const reader = new HostReader(host.sysfs, { lockedReadMs });
      const bare = await reader.lockFreeSnapshot();
      const unknown = filter ? unknownNetdevs(filter, bare) : [];
      if (unknown.length)
        throw new InputError(
          `no PCI device has the network interface '${unknown[0]}' (give a PF's name as \`ip link\` shows it, or a vendor:device filter)`,
        );
      // VF settings before the driver_override reads: `ip` is loaded on first use, and loading a
      // module may need a thread-pool thread, which a held device's read may be keeping
      const facts = {
        rootDiskDevices: await rootDiskDevices(host.sysfs),
        defaultRouteDevices: await defaultRouteDevices(host.sysfs),
      };
      const shown = filter ? buildListing(bare, new Map(), filter).devices.map((r) => r.address) : undefined;
      const vf = await readVfLinks(host.netlink, vfPfNetdevs(bare, shown));
      // modules.alias too: a file read also takes a thread-pool thread
      const aliases = await readVariantAliases(host.sysfs, bare.kernel);
      const snap = await reader.addOverrides(bare);
      const listing = buildListing(snap, domainUsers(process.env, snap), filter, facts);
      addVfStates(listing, snap, vf.links);
      for (const d of aliases.length ? listing.devices : []) {
        const dev = snap.devices[d.address];
        if (!dev) continue;
        // subsystem ids only for a device an alias names them for (file2alias writes sv*sd* mostly)
        const sub = needsSubsystem(dev, aliases)
          ? await readSubsystem(host.sysfs, d.address).catch(() => undefined)
          : undefined;
        const v = bestVariant(dev, aliases, sub);
        if (v) d.vfioVariant = v;
      }
      process.stdout.write(opts.json ? `${JSON.stringify(listing, null, 2)}\n` : formatListing(listing));
      for (const f of vf.failed) {
        process.stderr.write(`passthru: VF settings of ${f.netdev} not shown: ${f.error}\n`);
        process.exitCode = 1;
      }
      for (const d of listing.devices) {
        if (!d.unreadable) continue;
        process.stderr.write(
          `passthru: ${d.address}: ${d.unreadable.join(', ')} did not answer within ${lockedReadMs} ms, device lock held (being unbound?): listed without its driver state; passthru exits once the kernel answers\n`,
        );
        process.exitCode = 1;
      }
    });
}
