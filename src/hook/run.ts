// The libvirt qemu hook protocol: argv `<domain> <op> <subop> <extra> [reason]`, domain XML on stdin.
//   prepare begin  -> plan + run; a refusal or failure exits 1 with one line (libvirt aborts the start)
//   start begin    -> settings of VFs picked from a pool (see start.ts for why this point)
//   release end    -> undo the journal; always exit 0, never hang
//   migrate begin, restore begin -> XML filters (incoming.ts): check the arriving domain against this
//                    host; empty stdout keeps libvirt's XML, a refusal exits 1 with one line
//   anything else (started, stopped, reconnect, attach) -> exit 0 at once
import { oneLine, PassthruError, InputError } from '../errors.js';
import { printable } from '../pci/address.js';
import { readDomainPassthrough } from '../xml/domain-reader.js';
import type { DomainPassthrough } from '../xml/model.js';
import { isLocked, LOCK_TIMEOUT_EXIT, runUnderLock } from './lock.js';
import { stateDirFor } from '../exec/state-dir.js';
import { firstUntrusted, hookTrustedPaths } from '../host/root-owned.js';
import { openContext } from './context.js';
import { hookPrepare } from './prepare.js';
import type { PlanMemo } from './inputs.js';
import { hookRelease } from './release.js';
import { hookStart } from './start.js';
import { actsOn } from './verdict.js';
import { hookIncoming } from './incoming.js';

export type HookOp = 'prepare' | 'start' | 'release' | 'migrate' | 'restore';

export function hookOp(op: string | undefined, subop: string | undefined): HookOp | undefined {
  if (op === 'prepare' && subop === 'begin') return 'prepare';
  if (op === 'start' && subop === 'begin') return 'start';
  if (op === 'release' && subop === 'end') return 'release';
  if (op === 'migrate' && subop === 'begin') return 'migrate';
  if (op === 'restore' && subop === 'begin') return 'restore';
  return undefined;
}

export interface HookIo {
  /** The raw bytes: the reader decodes them strictly (invalid UTF-8 is refused, not replaced). */
  readStdin(): string | Buffer;
  stderr(line: string): void;
  /** The filters' output (migrate/restore begin): the XML libvirt goes on with. */
  stdout?(text: string): void;
  /** Path of the bundled hook (dist/hook.cjs), for re-running under the lock. */
  hookJs: string;
}

/**
 * The guard (DOCTYPE/ENTITY, UTF-8, well-formedness, limits) runs inside the reader. libvirt passes
 * the domain's own name in argv: a mismatch means the caller is not libvirt, or the XML is not this
 * domain's, and is refused.
 */
function parseDomain(xml: string | Buffer, argvName: string): DomainPassthrough {
  const d = readDomainPassthrough(xml);
  if (d.name !== argvName)
    throw new InputError(
      `the hook's argument names domain '${printable(argvName)}' but the XML on stdin is domain '${printable(d.name)}'`,
    );
  return d;
}

export async function runHook(argv: string[], env: NodeJS.ProcessEnv, io: HookIo): Promise<number> {
  const [rawName, op, subop] = argv;
  const report = (line: string): void => io.stderr(line);
  if (argv.length < 3) {
    report('passthru: usage: hook DOMAIN OP SUBOP [EXTRA] [REASON], with the domain XML on stdin');
    return 2;
  }
  const which = hookOp(op, subop);
  if (!which) {
    // hooks/qemu never starts node for these; said anyway for someone running the hook by hand
    report(`passthru: nothing to do for '${printable(op ?? '')} ${printable(subop ?? '')}'`);
    return 0;
  }
  // argv is hostile until checked: the name only ever appears in messages, made printable
  const name = printable(rawName ?? '');
  let xml: string | Buffer;
  try {
    xml = io.readStdin();
  } catch (err) {
    report(`passthru: cannot read the domain XML on stdin: ${oneLine(err)}`);
    return which === 'release' ? 0 : 2;
  }
  if (!isLocked(env)) {
    try {
      const code = await runUnderLock(io.hookJs, argv, xml, env);
      if (code === LOCK_TIMEOUT_EXIT) {
        report(`passthru: ${which} of '${name}': timed out waiting for the host-wide lock`);
        return which === 'release' ? 0 : 1;
      }
      return code;
    } catch (err) {
      report(`passthru: ${oneLine(err)}`);
      return which === 'release' ? 0 : 1;
    }
  }
  // as root, run and read only what is root's alone (see src/host/root-owned.ts)
  const untrusted = firstUntrusted(hookTrustedPaths(env, process.execPath, io.hookJs, stateDirFor(env)));
  if (untrusted) {
    const after = which === 'release' ? '; nothing undone: run passthru recover once fixed' : '';
    report(`passthru: ${which} of '${name}' refused: ${untrusted}${after}`);
    return which === 'release' ? 0 : 1;
  }
  if (which === 'release') {
    try {
      let by: { uuid?: string; name?: string } = { name: rawName };
      try {
        const d = parseDomain(xml, rawName!);
        if (d.uuid) by = { uuid: d.uuid.toLowerCase() };
      } catch (err) {
        report(`passthru: release of '${name}': ${oneLine(err)}; looking the journal up by name`);
      }
      await hookRelease(await openContext(env), by, report);
    } catch (err) {
      report(`passthru: release of '${name}': ${oneLine(err)}`);
    }
    return 0; // release cannot stop anything: clean up what we can, never fail
  }
  try {
    const domain = parseDomain(xml, rawName!);
    // a domain whose only tie to us is a network is judged only when that network is a hostdev pool
    const memo: PlanMemo = {}; // what actsOn read (the domain's networks) for prepare's planning
    if (!(await actsOn({ root: env.PASSTHRU_ROOT || '/' }, domain, memo))) return 0;
    // one bundle for all three operations: loading one file costs less than loading chunks
    const ctx = await openContext(env);
    if (which === 'prepare') await hookPrepare(ctx, domain, report, memo);
    else if (which === 'start') await hookStart(ctx, domain, report);
    else {
      const text = typeof xml === 'string' ? xml : xml.toString('utf8'); // the reader accepted it as UTF-8
      await hookIncoming(ctx, which, domain, text, report, (t) => io.stdout?.(t));
    }
    return 0;
  } catch (err) {
    report(`passthru: ${which} of '${name}': ${oneLine(err)}`);
    return err instanceof PassthruError ? err.exitCode : 1;
  }
}
