// The installed hook entry (<root>/etc/libvirt/hooks/qemu.d/passthru) as doctor sees it: is it there,
// do the node binary and bundle it names still exist (an upgrade or removal leaves it pointing at
// nothing, and every start of a passthrough domain then fails), and is all it runs and reads root's
// alone (src/host/root-owned.ts, the rule the hook itself applies before acting).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDirFor } from '../exec/state-dir.js';
import { layout } from '../host/layout.js';
import { firstUntrusted, hookTrustedPaths, type TrustOptions } from '../host/root-owned.js';
import { readEntry } from '../install/entry.js';
import { both, type CheckResult } from './types.js';

export interface HookEntryInputs {
  /** Host root the entry is installed under (`passthru install --root`). */
  root: string;
  /** What `passthru install` would write from here: this node and this package's hook bundle. */
  wouldInstall?: { node: string; hookJs: string };
  trust?: TrustOptions;
}

const entryCheck = { id: 'hook-entry', title: 'libvirt hook entry installed and pointing at what exists' };
const trustCheck = { id: 'hook-trust', title: "what the hook runs and reads is root's alone" };

const fixOf = (why: string): string => why.slice(why.lastIndexOf(': ') + 2);

/** Whether what the entry runs (or would run) is root's alone: none when there is nothing to ask about. */
function trustChecks(
  runs: { node: string; hookJs: string } | undefined,
  env: NodeJS.ProcessEnv,
  opts: TrustOptions = {},
): CheckResult[] {
  if (!runs) return [];
  const untrusted = firstUntrusted(hookTrustedPaths(env, runs.node, runs.hookJs, stateDirFor(env)), opts);
  return untrusted
    ? [{ ...trustCheck, status: 'fail', detail: `the hook refuses to run: ${untrusted}`, fix: both(fixOf(untrusted)) }]
    : [{ ...trustCheck, status: 'pass', detail: `${runs.node}, ${runs.hookJs}, the config and the state dir` }];
}

export function hookEntryChecks(inputs: HookEntryInputs): CheckResult[] {
  const path = join(inputs.root, layout.hooksDir, 'qemu.d', 'passthru');
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // not installed
  }
  const installed = text === undefined ? undefined : readEntry(text);
  const rootEnv = inputs.root === '/' ? {} : { PASSTHRU_ROOT: inputs.root };
  const trust = trustChecks(installed ?? inputs.wouldInstall, installed?.env ?? rootEnv, inputs.trust);

  if (text === undefined)
    return [
      {
        ...entryCheck,
        status: 'warn',
        detail: `${path} is not installed: domains start without passthru's hook`,
        fix: both('passthru install'),
      },
      ...trust,
    ];
  if (!installed)
    return [
      {
        ...entryCheck,
        status: 'warn',
        detail: `${path} was not written by passthru install (or was edited): not checked further`,
      },
    ];
  const gone = [installed.node, installed.hookJs].filter((p) => !existsSync(p));
  if (gone.length)
    return [
      {
        ...entryCheck,
        status: 'fail',
        detail: `${path} runs ${gone.join(' and ')}, which no longer exist${gone.length > 1 ? '' : 's'} (node or passthru upgraded or removed): every start of a passthrough domain fails`,
        fix: both('passthru install'),
      },
    ];
  return [{ ...entryCheck, status: 'pass', detail: `${path} runs ${installed.node} ${installed.hookJs}` }, ...trust];
}
