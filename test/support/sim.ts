// Small helpers for tests that drive a SimKernel in process.
import { EMBEDDED_FIXTURES, hostFromFixture } from '../../src/sim/fixture.js';
import { SimKernel } from '../../src/sim/kernel.js';
import type { SimHostState } from '../../src/sim/state.js';

/** A fresh in-memory host from an embedded fixture ('workstation', 'server', …), changed by `mut` first. */
export function simFixture(name: string, mut?: (h: SimHostState) => void): SimKernel {
  const h = structuredClone(EMBEDDED_FIXTURES[name]) as SimHostState;
  mut?.(h);
  return new SimKernel(hostFromFixture(h));
}

/** 'ok' when the call succeeds, else its errno code ('ENOENT', …). */
export const errnoOf = async (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );
