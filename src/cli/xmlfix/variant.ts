// What --variant-driver asks of the host: that its libvirt knows <driver model=…> on a hostdev
// (10.0+; PASSTHRU_LIBVIRT_VERSION or `virsh --version`), and, when no module is named, the variant
// driver the kernel's modules.alias offers for the device.
import { InputError } from '../../errors.js';
import { formatPciAddress, type PciAddress } from '../../pci/address.js';

/** `what` names the option in the refusal: '--variant-driver', or '--add-hostdev driver.model'. */
export async function checkLibvirtKnowsDriverModel(env: NodeJS.ProcessEnv, what: string): Promise<void> {
  const { atLeast, libvirtVersion } = await import('../../host/libvirt-version.js');
  const { execaRunner } = await import('../../doctor/kernel-log.js');
  const real = !env.PASSTHRU_SIM && (env.PASSTHRU_ROOT || '/') === '/';
  const v = await libvirtVersion(env, real, execaRunner);
  if (!v)
    throw new InputError(
      `${what}: cannot tell the host's libvirt version (<driver model=…> needs libvirt 10.0+); set PASSTHRU_LIBVIRT_VERSION to the version of the host that runs the domain`,
    );
  if (!atLeast(v, 10, 0))
    throw new InputError(
      `${what}: libvirt ${v.text} on this host does not know <driver model=…> on a hostdev (libvirt 10.0+); it would refuse the domain`,
    );
}

export async function variantFromHost(env: NodeJS.ProcessEnv, address: PciAddress): Promise<string> {
  const { openHost } = await import('../../host/open.js');
  const { HostReader } = await import('../../host/reader.js');
  const { bestVariant, readSubsystem, readVariantAliases } = await import('../../host/variant-drivers.js');
  const host = await openHost(env);
  const reader = new HostReader(host.sysfs);
  const addr = formatPciAddress(address);
  const dev = await reader.device(addr);
  if (!dev) throw new InputError(`--variant-driver: ${addr} does not exist on this host`);
  const kernel = await reader.kernel();
  const aliases = await readVariantAliases(host.sysfs, kernel);
  const v = bestVariant(dev, aliases, await readSubsystem(host.sysfs, addr));
  if (!v)
    throw new InputError(
      `--variant-driver: the kernel's modules.alias${kernel ? ` (lib/modules/${kernel})` : ''} offers no vfio variant driver for ${addr} (${dev.vendor}:${dev.device}); name one: --variant-driver ${addr}=MODULE`,
    );
  return v;
}
