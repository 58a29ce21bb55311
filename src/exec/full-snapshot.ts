// Every PCI device of the host (`passthru list`, `passthru doctor`), read under one bound. While the
// kernel holds a device's lock for a write that waits for a VM (an unbind from vfio-pci, an SR-IOV
// disable, lab-measured in test/lab/FINDINGS.md), reads of that device's uevent and driver_override
// wait with it: unbounded, the listing would hang on a real host for as long as the VM holds on
// (and, in the simulator, end silently with nothing printed). Bounded, it says why it stopped.
import { HostReader } from '../host/reader.js';
import type { Sysfs } from '../host/sysfs.js';
import type { HostSnapshot } from '../host/types.js';
import { bounded } from './ops.js';

export function boundedFullSnapshot(sysfs: Sysfs, timeoutMs: number, reader = new HostReader(sysfs)): Promise<HostSnapshot> {
  return bounded('reading every PCI device (a device lock held by the kernel, e.g. an unbind or SR-IOV disable waiting for a VM to let go, blocks reads)', timeoutMs, reader.fullSnapshot());
}
