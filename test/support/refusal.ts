// The check every hostile-input case shares: refused with one clear line, non-zero exit, and
// nothing written (simulator write log empty, host state and state dir unchanged).
import type { RunResult } from './proc.js';
import type { SimHost } from './simhost.js';
import type { Figures } from './figures.js';

export interface Before {
  state: string;
  journals: string[];
}

export function before(h: SimHost): Before {
  h.clearLog();
  return { state: h.state(), journals: h.journals() };
}

/** Problems with how `r` refused; empty = refused cleanly. Counts figures as it goes. */
export function refusalProblems(
  h: SimHost,
  b: Before,
  r: RunResult,
  fig: Figures,
  opts: { exitZeroOk?: boolean; silentOk?: boolean } = {},
): string[] {
  const problems: string[] = [];
  const line = r.stderr.trimEnd();
  if (r.timedOut) problems.push('hung');
  if (r.code === 0 && !opts.exitZeroOk) {
    fig.add('accepted');
    problems.push(`accepted (exit 0)${line ? `: ${line}` : ''}`);
  } else if (r.code === 0 && line === '' && !opts.silentOk) {
    // a release may exit 0, but it must still say why it did nothing
    fig.add('badErrors');
    problems.push('exit 0 without a word');
  }
  if (r.code !== 0 && (line === '' || line.includes('\n') || line.length > 400)) {
    fig.add('badErrors');
    problems.push(`error is not one short line: ${JSON.stringify(line.slice(0, 300))}`);
  }
  if (r.signal) problems.push(`died of ${r.signal}`);
  const writes = h.writes();
  const changed = writes.length > 0 || h.state() !== b.state || h.journals().join() !== b.journals.join();
  if (changed) {
    fig.add('wroteSomething');
    problems.push(
      `changed the host: ${writes.length} writes${writes[0] ? ` (first ${writes[0].path})` : ''}, journals ${h.journals().join(',')}`,
    );
  }
  return problems;
}
