import { describe, expect, it } from 'vitest';
import { EvalInputError } from './errors.js';
import { fixtures } from '../test/fixtures.js';
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
  it('normal quantiles equal scipy.stats.norm.ppf (stdlib: within 2e-9 relative even at p = 1e-10)', () => {
    for (const { p, z } of fixtures.quantiles) expect(Math.abs(normalQuantile(p) - z)).toBeLessThan(1e-8 * Math.max(1, Math.abs(z)));
  });
  it('rejects k > n, n = 0 and confidence 1', () => {
    expect(() => binomialInterval(5, 4)).toThrowError(EvalInputError);
    expect(() => binomialInterval(0, 0)).toThrowError(EvalInputError);
    expect(() => binomialInterval(1, 4, { confidence: 1 })).toThrowError(EvalInputError);
  });
});
