// Our hook installed (the real `passthru install`) into a private libvirtd's namespace, backed by a
// simulated host, and the passthru CLI run there as an administrator would: the helpers the lifecycle,
// migration and hot-plug e2e suites share.
import { NsLibvirt, nsScript, smallDomain } from './libvirt-ns.js';
import { SimHost, simDevice } from '../support/simhost.js';
import { dist, nodeBin } from '../support/paths.js';
import { hookEnv, type RunResult } from '../support/proc.js';
import { PASSTHRU_NS, PASSTHRU_PREFIX, PASSTHRU_META_ROOT } from '../../src/xml/model.js';

export interface PassthruNs {
  lv: NsLibvirt;
  host: SimHost;
  /** `passthru ARGS…` inside the namespace (its libvirtd is virsh's default connection there). */
  passthru(args: string[], env?: Record<string, string>): Promise<RunResult>;
  /** The PF's VF count on the simulated host. */
  numVfs(pf: string): number | undefined;
  libvirtd(what: 'start' | 'stop'): Promise<void>;
  stop(): Promise<void>;
}

export async function startPassthruNs(fixture = 'workstation'): Promise<PassthruNs> {
  const lv = await NsLibvirt.start();
  const host = await SimHost.create(fixture);
  const env = (extra: Record<string, string> = {}) =>
    hookEnv({ PASSTHRU_SIM: host.file, PASSTHRU_STATE_DIR: host.stateDir, ...extra });
  const install = await lv.exec(nodeBin, [dist.passthru, 'install', '--sim', host.file, '--state-dir', host.stateDir], {
    env: hookEnv({}),
  });
  if (install.code !== 0) throw new Error(`passthru install failed (${install.code}): ${install.stderr.trim()}`);
  await lv.restartLibvirtd(); // libvirtd sees hooks only if one existed when it started
  return {
    lv,
    host,
    passthru: (args, extra) => lv.exec(nodeBin, [dist.passthru, ...args], { env: env(extra), limitMs: 60_000 }),
    numVfs: (pf) => simDevice(host.doc(), pf)?.numVfs,
    async libvirtd(what) {
      const r = await lv.exec('bash', [nsScript, `libvirtd-${what}`], { limitMs: 45_000 });
      if (r.code !== 0) throw new Error(`libvirtd-${what} failed (${r.code}): ${r.stderr.trim()}`);
    },
    async stop() {
      await lv.stop();
      host.cleanup();
    },
  };
}

/** A small domain libvirt really starts here, whose passthrough is our metadata only (`<passthru:pf …/>` and the like). */
export function metadataDomain(name: string, uuid: string, meta: string[], devices = ''): string {
  const p = PASSTHRU_PREFIX;
  const block = [
    `  <metadata>`,
    `    <${p}:${PASSTHRU_META_ROOT} xmlns:${p}='${PASSTHRU_NS}'>`,
    ...meta.map((m) => `      ${m}`),
    `    </${p}:${PASSTHRU_META_ROOT}>`,
    `  </metadata>`,
  ].join('\n');
  return smallDomain(name, devices, uuid).replace(`  <uuid>${uuid}</uuid>\n`, `  <uuid>${uuid}</uuid>\n${block}\n`);
}
