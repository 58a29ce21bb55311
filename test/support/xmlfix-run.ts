// Runs the built xmlfix on no host at all (an empty PASSTHRU_ROOT), so that tests of edits that need
// no host give the same result on every machine, whatever PCI devices the machine itself has. Such
// a run says once on stderr that its edits go unchecked (NO_HOST_NOTE); `quiet` drops exactly that
// line, so tests can keep asserting an otherwise empty stderr.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyEdits } from '../../src/cli/xmlfix/apply.js';
import type { Edit } from '../../src/cli/xmlfix/args.js';

export const NO_HOST_NOTE =
  'xmlfix: note: no host PCI devices to check edits against (sys/bus/pci/devices): edits not checked\n';

let emptyRoot: string | undefined;

/** The environment of a machine without PCI devices. */
export function noHostEnv(): NodeJS.ProcessEnv {
  emptyRoot ??= mkdtempSync(join(tmpdir(), 'xmlfix-no-host-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PASSTHRU_ROOT: emptyRoot };
  delete env.PASSTHRU_SIM;
  return env;
}

/** xmlfix ARGS on no host, stdin `input`; stderr without the one no-host note. */
export function xmlfixNoHost(args: string[], input: string | Buffer = ''): SpawnSyncReturns<string> {
  const r = spawnSync(process.execPath, ['dist/xmlfix.js', ...args], { encoding: 'utf8', input, env: noHostEnv() });
  return { ...r, stderr: quiet(r.stderr) };
}

export function quiet(stderr: string): string {
  return stderr.replace(NO_HOST_NOTE, '');
}

/** The host of an in-process edit that needs none: asking for it fails the test. */
export const noHost = { all: false, host: () => Promise.reject(new Error('no host in this test')) };

/** applyEdits in process on `text`, each edit a [flag, value] pair, with no host. */
export const applyEditsNoHost = (text: string, ...edits: [Edit['flag'], string][]) =>
  applyEdits(
    text,
    edits.map(([flag, value]) => ({ flag, value })),
    noHost,
  );

/**
 * Whether the schema validators `tools` are on PATH. Missing, they fail the test naming the Debian
 * `packages` to install, or with PASSTHRU_SKIP_VALIDATE=1 the caller skips (false, with a warning).
 */
export function validatorsPresent(tools: string[], packages: string): boolean {
  const which = spawnSync('sh', ['-c', tools.map((t) => `command -v ${t}`).join(' && ')]);
  if (which.status === 0) return true;
  if (process.env.PASSTHRU_SKIP_VALIDATE === '1') {
    console.warn(`skipped: ${tools.join(' or ')} missing (PASSTHRU_SKIP_VALIDATE=1)`);
    return false;
  }
  throw new Error(
    `${tools.join('/')} missing: run \`npm run test:setup\` (${packages}), or set PASSTHRU_SKIP_VALIDATE=1`,
  );
}
