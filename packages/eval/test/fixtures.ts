import { AssertionError } from 'node:assert';
import { readFileSync } from 'node:fs';

/** The parsed fixtures/eval.json (made by tools/make_eval_fixtures.py). @internal */
// biome-ignore lint/suspicious/noExplicitAny: JSON fixture, shape checked by the tests that read it
export const fixtures: any = JSON.parse(readFileSync(new URL('../../../fixtures/eval.json', import.meta.url), 'utf8'));

/** Path of a fixture .npy file. @internal */
export const npyPath = (name: string) => new URL(`../../../fixtures/npy/${name}`, import.meta.url).pathname;

/** Asserts |a − b| ≤ tol for every element (null in a fixture means +∞). @internal */
export function expectClose(actual: ArrayLike<number>, expected: readonly (number | null)[], tol: number, what: string): void {
  if (actual.length !== expected.length) throw new AssertionError({ message: `${what}: length ${actual.length}, expected ${expected.length}` });
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] ?? Number.POSITIVE_INFINITY;
    const a = actual[i]!;
    if (!(a === e || Math.abs(a - e) <= tol))
      throw new AssertionError({ message: `${what}[${i}]: got ${a}, expected ${e} (tol ${tol})`, actual: a, expected: e });
  }
}

/** The verification fixture cases (scikit-learn and insightface on the same scores) as `[name, case]` rows. @internal */
// biome-ignore lint/suspicious/noExplicitAny: fixture rows
export const verificationCases: [string, any][] = fixtures.verification.map((c: { name: string }) => [c.name, c]);

/** A verification case's scores in the dtype the fixture names. @internal */
export const scoresOf = (c: { readonly dtype: string; readonly scores: readonly number[] }): Float32Array | Float64Array =>
  c.dtype === 'float32' ? Float32Array.from(c.scores) : Float64Array.from(c.scores);

/** Runs `run` and asserts it throws a `type` naming `argument` in its `argument` field and its message. @internal */
export function expectArgumentError(run: () => unknown, type: abstract new (...args: never[]) => Error, argument: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (e) {
    thrown = e;
  }
  if (!(thrown instanceof type)) throw new Error(`expected a ${type.name}, got ${String(thrown)}`);
  if ((thrown as { argument?: unknown }).argument !== argument)
    throw new Error(`expected argument '${argument}', got ${String((thrown as { argument?: unknown }).argument)}`);
  if (!thrown.message.includes(argument)) throw new Error(`the message does not name '${argument}': ${thrown.message}`);
}

/** One beta quantile of fixtures/quantiles.json, with both tails at the double nearest it. @internal */
export interface BetaQuantileRow {
  readonly p: number;
  readonly a: number;
  readonly b: number;
  readonly x: number;
  readonly tails: { readonly x: number; readonly lower: number; readonly upper: number };
}

/** The 60-digit normal and beta quantiles of fixtures/quantiles.json (made by tools/make_quantile_fixtures.py). @internal */
export const quantileFixtures: { readonly normal: readonly { p: number; z: number }[]; readonly beta: readonly BetaQuantileRow[] } = JSON.parse(
  readFileSync(new URL('../../../fixtures/quantiles.json', import.meta.url), 'utf8'),
);
