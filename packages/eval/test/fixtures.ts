import { readFileSync } from 'node:fs';

/** The parsed fixtures/eval.json (made by tools/make_eval_fixtures.py). @internal */
// biome-ignore lint/suspicious/noExplicitAny: JSON fixture, shape checked by the tests that read it
export const fixtures: any = JSON.parse(readFileSync(new URL('../../../fixtures/eval.json', import.meta.url), 'utf8'));

/** Path of a fixture .npy file. @internal */
export const npyPath = (name: string) => new URL(`../../../fixtures/npy/${name}`, import.meta.url).pathname;

/** Asserts |a − b| ≤ tol for every element (null in a fixture means +∞). @internal */
export function expectClose(actual: ArrayLike<number>, expected: readonly (number | null)[], tol: number, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] ?? Number.POSITIVE_INFINITY;
    const a = actual[i]!;
    if (!(a === e || Math.abs(a - e) <= tol)) throw new Error(`${what}[${i}]: got ${a}, expected ${e} (tol ${tol})`);
  }
}
