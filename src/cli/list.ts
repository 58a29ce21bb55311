// `passthru list [--json] [--filter SPEC]`: PCI devices by IOMMU group, with drivers, SR-IOV, mdev
// types and which running domain (per passthru's journals) holds each.
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
    .description('list PCI devices by IOMMU group: drivers, SR-IOV, netdevs, mdev types, users')
    .option('--json', 'machine-readable output')
    .option(
      '--filter <spec>',
      'only devices matching lspci -d style filters (10de:1b80, 10de::0300, ::0300, comma lists), with their group peers',
    )
    .action(async (opts: { json?: boolean; filter?: string }) => {
      const { parsePciFilter } = await import('../pci/filter.js');
      const filter = opts.filter !== undefined ? parsePciFilter(opts.filter) : undefined; // bad filter: exit 2 before reading anything
      const { timeoutFromEnv, COMMAND_LOCKED_READ_MS } = await import('../host/bounded.js');
      const lockedReadMs = timeoutFromEnv(process.env, COMMAND_LOCKED_READ_MS);
      const { openHost } = await import('../host/open.js');
      const { HostReader } = await import('../host/reader.js');
      const { buildListing, formatListing } = await import('../host/listing.js');
      const { domainUsers } = await import('../host/users.js');
      // every module before the first read: loading one may take a thread-pool thread, and held
      // devices' reads may be keeping them
      const { rootDiskDevices, defaultRouteDevices } = await import('../exec/host-facts.js');
      const host = await openHost(process.env);
      const snap = await new HostReader(host.sysfs, { lockedReadMs }).fullSnapshot();
      const facts = {
        rootDiskDevices: await rootDiskDevices(host.sysfs),
        defaultRouteDevices: await defaultRouteDevices(host.sysfs),
      };
      const listing = buildListing(snap, domainUsers(process.env, snap), filter, facts);
      process.stdout.write(opts.json ? `${JSON.stringify(listing, null, 2)}\n` : formatListing(listing));
      for (const d of listing.devices) {
        if (!d.unreadable) continue;
        process.stderr.write(
          `passthru: ${d.address}: ${d.unreadable.join(', ')} did not answer within ${lockedReadMs} ms, device lock held (being unbound?): listed without its driver state; passthru exits once the kernel answers\n`,
        );
        process.exitCode = 1;
      }
    });
}
