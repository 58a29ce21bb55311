// `passthru list [--json] [--filter SPEC]`: PCI devices by IOMMU group, with drivers, SR-IOV, mdev
// types and which running domain (per passthru's journals) holds each.
import type { Command } from 'commander';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list PCI devices by IOMMU group: drivers, SR-IOV, netdevs, mdev types, users')
    .option('--json', 'machine-readable output')
    .option('--filter <spec>', 'only devices matching lspci -d style filters (10de:1b80, 10de::0300, ::0300, comma lists), with their group peers')
    .action(async (opts: { json?: boolean; filter?: string }) => {
      const { parsePciFilter } = await import('../pci/filter.js');
      const filter = opts.filter !== undefined ? parsePciFilter(opts.filter) : undefined; // bad filter: exit 2 before reading anything
      const { openHost } = await import('../host/open.js');
      const { buildListing, formatListing } = await import('../host/listing.js');
      const { domainUsers } = await import('../host/users.js');
      const { timeoutFrom } = await import('../config/timeout.js');
      const { DEFAULT_WRITE_TIMEOUT_MS } = await import('../config/types.js');
      const { boundedFullSnapshot } = await import('../exec/full-snapshot.js');
      const timeoutMs = timeoutFrom(process.env, DEFAULT_WRITE_TIMEOUT_MS); // bad value: exit 2 before reading
      const host = await openHost(process.env);
      const snap = await boundedFullSnapshot(host.sysfs, timeoutMs);
      const { rootDiskDevices, defaultRouteDevices } = await import('../exec/host-facts.js');
      const facts = { rootDiskDevices: await rootDiskDevices(host.sysfs), defaultRouteDevices: await defaultRouteDevices(host.sysfs) };
      const listing = buildListing(snap, domainUsers(process.env, snap), filter, facts);
      process.stdout.write(opts.json ? JSON.stringify(listing, null, 2) + '\n' : formatListing(listing));
    });
}
