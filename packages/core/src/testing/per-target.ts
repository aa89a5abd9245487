import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ConformanceHarness, ConformanceTarget } from './conformance.js';

/**
 * Registers `title: <target>` for each backend variant, with the target's harness set up before
 * its tests and torn down after them, and one test per case (named by the case) that runs
 * `check` against the harness. Shared by the fixture parity suites.
 */
export function perTargetSuite<T, C extends { readonly name: string }>(
  title: string,
  targets: readonly ConformanceTarget<T>[],
  cases: readonly C[],
  check: (h: ConformanceHarness<T>, c: C, target: ConformanceTarget<T>) => Promise<void>,
): void {
  describe.each(targets.map((t) => [t.name, t] as const))(`${title}: %s`, (_, target) => {
    let h: ConformanceHarness<T>;
    beforeAll(async () => {
      h = await target.setup();
    });
    afterAll(async () => {
      await h?.teardown?.();
    });
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      await check(h, c, target);
    });
  });
}
