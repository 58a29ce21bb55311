// `passthru list`: the VF settings (MAC, VLAN, trust, spoofchk, link state, rates) that live in the
// PF drivers, read through NetLink (`ip -j -d link show dev PF` on a host, SimKernel in the
// simulator) for the PFs whose VFs the listing shows: one call per PF netdev, side by side.
import type { NetLink } from './netlink.js';
import type { VfLinks } from './listing.js';

export interface VfLinksRead {
  links: VfLinks;
  /** PF netdevs whose settings could not be read, with why. */
  failed: { netdev: string; error: string }[];
}

export async function readVfLinks(netlink: NetLink, pfNetdevs: string[]): Promise<VfLinksRead> {
  const out: VfLinksRead = { links: {}, failed: [] };
  await Promise.all(
    [...new Set(pfNetdevs)].sort().map(async (n) => {
      try {
        out.links[n] = await netlink.listVfs(n);
      } catch (err) {
        out.failed.push({ netdev: n, error: (err instanceof Error ? err.message : String(err)).split('\n')[0]! });
      }
    }),
  );
  out.failed.sort((a, b) => (a.netdev < b.netdev ? -1 : 1));
  return out;
}
