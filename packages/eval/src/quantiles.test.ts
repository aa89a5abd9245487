import { describe, expect, it } from 'vitest';
import { type BetaQuantileRow, quantileFixtures as reference } from '../test/fixtures.js';
import { betaQuantile, betaTails, standardNormalQuantile } from './quantiles.js';

// 60-digit references (tools/make_quantile_fixtures.py): the beta tails of integer shapes from exact
// binomial sums, so nothing is shared with the continued fraction tested here.
const relative = (actual: number, expected: number) => (actual === expected ? 0 : Math.abs(actual - expected) / Math.abs(expected));
const shape = (r: BetaQuantileRow) => `Beta(${r.a}, ${r.b}) at p = ${r.p}`;

describe('standardNormalQuantile (AS 241)', () => {
  it('equals the 60-digit Φ⁻¹ within 2e-15 relative, from p = 1e-300 to 1 − 2⁻⁵²', () => {
    expect(reference.normal.length).toBe(30);
    for (const { p, z } of reference.normal) {
      if (z === 0) expect(standardNormalQuantile(p)).toBe(0);
      else expect(relative(standardNormalQuantile(p), z), `p = ${p}`).toBeLessThan(2e-15);
    }
  });
  it('is odd about ½: Φ⁻¹(1 − p) = −Φ⁻¹(p) where 1 − p is exact', () => {
    for (const p of [0.5 ** 10, 0.125, 0.25, 0.375]) expect(standardNormalQuantile(1 - p)).toBe(-standardNormalQuantile(p));
  });
});

describe('betaTails', () => {
  it('each tail, lower and upper, within 1e-12 relative at the 532 reference points (shapes up to 1e9)', () => {
    expect(reference.beta.length).toBe(532);
    for (const r of reference.beta) {
      const { lower, upper } = betaTails(r.tails.x, r.a, r.b);
      expect(relative(lower, r.tails.lower), `lower tail of ${shape(r)}`).toBeLessThan(1e-12);
      expect(relative(upper, r.tails.upper), `upper tail of ${shape(r)}`).toBeLessThan(1e-12);
    }
  });
  it('has the density as the derivative of the lower tail (central difference)', () => {
    for (const [x, a, b] of [
      [0.3, 2.5, 3.75],
      [0.001, 3, 1000],
      [0.999, 800, 2],
    ] as const) {
      const h = 1e-6 * Math.min(x, 1 - x);
      const slope = (betaTails(x + h, a, b).lower - betaTails(x - h, a, b).lower) / (2 * h);
      expect(relative(betaTails(x, a, b).density, slope)).toBeLessThan(1e-7);
    }
  });
  it('is 0 and 1 at the ends of [0, 1]', () => {
    expect(betaTails(0, 2, 3)).toMatchObject({ lower: 0, upper: 1 });
    expect(betaTails(1, 2, 3)).toMatchObject({ lower: 1, upper: 0 });
  });
});

describe('betaQuantile', () => {
  it('equals the 60-digit quantile within 1e-13 relative (Clopper–Pearson shapes from 1/1 to 7/1e9, and real shapes)', () => {
    for (const r of reference.beta) expect(relative(betaQuantile(r.p, r.a, r.b), r.x), shape(r)).toBeLessThan(1e-13);
  });
  it('is the closed form of Beta(1, b) and Beta(a, 1): 1 − (1 − p)^(1/b) and p^(1/a)', () => {
    for (const p of [1e-9, 0.025, 0.5, 0.975]) {
      expect(relative(betaQuantile(p, 1, 1000), -Math.expm1(Math.log1p(-p) / 1000))).toBeLessThan(1e-13);
      expect(relative(betaQuantile(p, 40, 1), p ** (1 / 40))).toBeLessThan(1e-14);
    }
  });
});
