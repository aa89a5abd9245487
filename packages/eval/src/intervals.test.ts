import { describe, expect, it } from 'vitest';
import { fixtures, quantileFixtures } from '../test/fixtures.js';
import { EvalInputError } from './errors.js';
import { binomialInterval, normalQuantile } from './intervals.js';

describe('binomial intervals against scipy', () => {
  // biome-ignore lint/suspicious/noExplicitAny: fixture rows
  const rows: [string, any][] = fixtures.intervals.map((c: { k: number; n: number; confidence: number }) => [`${c.k}/${c.n} at ${c.confidence}`, c]);
  it.each(rows)('%s', (_, f) => {
    const w = binomialInterval(f.k, f.n, { confidence: f.confidence });
    expect(w.lower).toBeCloseTo(f.wilson[0], 12);
    expect(w.upper).toBeCloseTo(f.wilson[1], 12);
    const cp = binomialInterval(f.k, f.n, { method: 'clopper-pearson', confidence: f.confidence });
    expect(Math.abs(cp.lower - f.clopperPearson[0])).toBeLessThan(1e-10);
    expect(Math.abs(cp.upper - f.clopperPearson[1])).toBeLessThan(1e-10);
  });
  it('normal quantiles equal scipy.stats.norm.ppf within 1e-15 relative, p = 1e-10 to 1 − 1e-9', () => {
    for (const { p, z } of fixtures.quantiles) expect(Math.abs(normalQuantile(p) - z)).toBeLessThanOrEqual(1e-15 * Math.abs(z));
  });
  it('rejects k > n, n = 0, confidence 1 and p outside (0, 1)', () => {
    expect(() => binomialInterval(5, 4)).toThrowError(EvalInputError);
    expect(() => binomialInterval(0, 0)).toThrowError(EvalInputError);
    expect(() => binomialInterval(1, 4, { confidence: 1 })).toThrowError(EvalInputError);
    expect(() => normalQuantile(1)).toThrowError(EvalInputError);
  });
});

describe('Clopper–Pearson bounds for counts up to 1e9', () => {
  // The 60-digit beta quantiles of tools/make_quantile_fixtures.py at α/2 and 1 − α/2: the bounds of
  // k of n at 95 %, 99 % and 99.9 % (IJB-C-sized FAR counts of 15.6M pairs, and n = 1e9).
  const at = (p: number, a: number, b: number) => quantileFixtures.beta.find((r) => r.p === p && r.a === a && r.b === b)?.x;
  const counts = [
    [1, 1000],
    [500, 1000],
    [1560, 15_600_000],
    [15600, 15_600_000],
    [19990, 20000],
    [7, 1e9],
    [1e9 - 3, 1e9],
  ] as const;
  it.each(counts)('%d of %d', (k, n) => {
    for (const [confidence, tail] of [
      [0.95, 0.025],
      [0.99, 0.005],
      [0.999, 0.0005],
    ] as const) {
      const { lower, upper } = binomialInterval(k, n, { method: 'clopper-pearson', confidence });
      const expected = [at(tail, k, n - k + 1), at(1 - tail, k + 1, n - k)];
      expect(expected.every((x) => x !== undefined)).toBe(true);
      expect(Math.abs(lower - expected[0]!) / expected[0]!).toBeLessThan(1e-13);
      expect(Math.abs(upper - expected[1]!) / expected[1]!).toBeLessThan(1e-13);
    }
  });
});
