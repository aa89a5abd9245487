import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOps } from './create-ops.js';
import { DEFAULT_EPSILON } from './loss-types.js';
import { degrees, psi } from './angular-margin.js';
import { arcface, combinedMargin, cosface, noMargin, sphereface } from './builtin-margins.js';
import { composeMargins } from './compose-margins.js';
import { defineMargin } from './define-margin.js';
import type { Margin } from './margin-types.js';
import { RefTensor, referenceBackend } from './testing/index.js';

const ops = createOps(referenceBackend());
const vec = (values: readonly number[]) => new RefTensor([values.length], 'float32', Float64Array.from(values));
const target = (margin: Margin, cosines: readonly number[]): number[] => margin.targetLogit!(vec(cosines), { ops, epsilon: DEFAULT_EPSILON }).toArray();
/** Sorted cosines in [-1, 1] including both ends. */
const grid = (n: number) => Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));

// Hand-written closed forms (DESIGN.md), independent of the op-set code under test.
const EPS = 2 ** -23;
/** θ = arccos c, with c clamped to [−1 + ε, 1 − ε] as every margin clamps before acos. */
const theta = (c: number) => Math.acos(Math.min(1 - EPS, Math.max(-1 + EPS, c)));
/** ψ(u) = (−1)^k cos u − 2k, k = ⌊u/π⌋. */
const psiOf = (u: number) => {
  const k = Math.floor(u / Math.PI);
  return (k % 2 === 0 ? 1 : -1) * Math.cos(u) - 2 * k;
};
/** ArcFace with the 'linear' fallback: cos(θ + m) while θ ≤ π − m, else c − m·sin m. */
const arcLinear = (c: number, m: number) => (theta(c) + m <= Math.PI ? Math.cos(theta(c) + m) : c - m * Math.sin(m));
const expectAllClose = (actual: readonly number[], expected: readonly number[], digits = 12) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => {
    expect(v, `at ${i}`).toBeCloseTo(expected[i]!, digits);
  });
};

describe('ψ (SphereFace extension of cos)', () => {
  it('equals cos on [0, π] (hand-derived points)', () => {
    const u = [0, Math.PI / 3, Math.PI / 2, Math.PI];
    const y = psi(ops, vec(u)).toArray();
    u.forEach((v, i) => {
      expect(y[i]).toBeCloseTo(Math.cos(v), 12);
    });
  });
  it('equals −cos(u) − 2 on [π, 2π) and cos(u) − 4 on [2π, 3π)', () => {
    const y = psi(ops, vec([1.5 * Math.PI, 2.5 * Math.PI])).toArray();
    expect(y[0]).toBeCloseTo(-Math.cos(1.5 * Math.PI) - 2, 12);
    expect(y[1]).toBeCloseTo(Math.cos(2.5 * Math.PI) - 4, 12);
  });
  it('is continuous and strictly decreasing on [0, 6π] (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 6 * Math.PI, noNaN: true }), fc.double({ min: 1e-6, max: 1, noNaN: true }), (u, h) => {
        const [a, b] = psi(ops, vec([u, u + h])).toArray();
        expect(b!).toBeLessThan(a!);
        expect(a! - b!).toBeLessThanOrEqual(h + 1e-9); // |ψ'| ≤ 1: continuous, no jumps
      }),
    );
  });
});

describe('target logits of the built-in margins (hand-derived values)', () => {
  it('arcface: cos(θ + m) inside the valid range', () => {
    const [t] = target(arcface({ m: 0.5 }), [0.6]);
    expect(t).toBeCloseTo(Math.cos(Math.acos(0.6) + 0.5), 12);
  });
  it("arcface 'linear': c − m·sin m past θ > π − m", () => {
    const [t] = target(arcface({ m: 0.5 }), [-0.95]);
    expect(t).toBeCloseTo(-0.95 - 0.5 * Math.sin(0.5), 12);
  });
  it("arcface 'easy': no margin where c ≤ 0", () => {
    expect(target(arcface({ fallback: 'easy' }), [-0.3])[0]).toBeCloseTo(-0.3, 12);
  });
  it('cosface: c − m', () => {
    expect(target(cosface({ m: 0.35 }), [0.2])[0]).toBeCloseTo(-0.15, 12);
  });
  it('sphereface m = 4: ψ(4θ); λ blends (λc + ψ)/(1 + λ)', () => {
    const c = 0.3;
    const u = 4 * Math.acos(c);
    const k = Math.floor(u / Math.PI);
    const expected = (k % 2 === 0 ? 1 : -1) * Math.cos(u) - 2 * k;
    expect(target(sphereface({ m: 4 }), [c])[0]).toBeCloseTo(expected, 10);
    expect(target(sphereface({ m: 4, lambda: 5 }), [c])[0]).toBeCloseTo((5 * c + expected) / 6, 10);
  });
  it("arcface 'psi': ψ(θ + m) past π − m, cos(θ + m) before", () => {
    expectAllClose(target(arcface({ m: 0.5, fallback: 'psi' }), [0.6, -0.95]), [Math.cos(Math.acos(0.6) + 0.5), -Math.cos(Math.acos(-0.95) + 0.5) - 2]);
  });
  it("arcface 'easy': cos(θ + m) where c > 0", () => {
    expect(target(arcface({ m: 0.5, fallback: 'easy' }), [0.3])[0]).toBeCloseTo(Math.cos(Math.acos(0.3) + 0.5), 12);
  });
  it("arcface 'none' at c = 1 exactly: cos(arccos(1 − ε) + m) (the clamp)", () => {
    expect(target(arcface({ m: 0.5, fallback: 'none' }), [1])[0]).toBeCloseTo(Math.cos(Math.acos(1 - EPS) + 0.5), 12);
  });
  it("combinedMargin 'psi': ψ(m1·θ + m2) − m3, on both sides of π", () => {
    const m = combinedMargin({ m1: 1.2, m2: 0.3, m3: 0.2 });
    const cs = [0.9, 0.1, -0.7, -0.99];
    expect(cs.some((c) => 1.2 * Math.acos(c) + 0.3 > Math.PI)).toBe(true);
    expectAllClose(
      target(m, cs),
      cs.map((c) => psiOf(1.2 * Math.acos(c) + 0.3) - 0.2),
    );
  });
  it("combinedMargin 'linear': c − m2·sin m2 − m3 where θ > π − m2", () => {
    const [inside, past] = target(combinedMargin({ m1: 1, m2: 0.3, m3: 0.2, fallback: 'linear' }), [0.5, -0.99]);
    expect(inside).toBeCloseTo(Math.cos(Math.acos(0.5) + 0.3) - 0.2, 12);
    expect(past).toBeCloseTo(-0.99 - 0.3 * Math.sin(0.3) - 0.2, 12);
  });
  it('sphereface m = 2.5 (non-integer): ψ(2.5·θ)', () => {
    const cs = [0.8, 0, -0.6];
    expectAllClose(
      target(sphereface({ m: 2.5 }), cs),
      cs.map((c) => psiOf(2.5 * Math.acos(c))),
      10,
    );
  });
  it('noMargin is the identity', () => {
    expect(target(noMargin(), [0.25, -0.5])).toEqual([0.25, -0.5]);
  });
  it('the clamp keeps c = ±1 finite', () => {
    for (const m of [arcface({ fallback: 'none' }), sphereface(), combinedMargin()]) {
      for (const v of target(m, [1, -1])) expect(Number.isFinite(v)).toBe(true);
    }
  });
});

describe('policies (properties over the cosine grid)', () => {
  const monotone: [string, Margin][] = [
    ["arcface 'psi'", arcface({ fallback: 'psi' })],
    ["arcface 'linear'", arcface({ fallback: 'linear' })],
    ["combined 'psi'", combinedMargin({ m1: 1.3 })],
    ["combined 'linear'", combinedMargin({ m1: 1, fallback: 'linear' })],
    ["sphereface 'psi' m = 4", sphereface({ m: 4 })],
    ["sphereface 'psi' m = 2.5", sphereface({ m: 2.5 })],
    ['cosface', cosface()],
  ];
  it.each(monotone)('%s: the target logit is non-decreasing in c', (_, margin) => {
    const t = target(margin, grid(2001));
    for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThanOrEqual(t[i - 1]! - 1e-12);
  });
  it("arcface 'none' is not monotone past π − m (why the fallbacks exist)", () => {
    const t = target(arcface({ fallback: 'none', m: 0.5 }), grid(2001));
    expect(t.some((v, i) => i > 0 && v < t[i - 1]! - 1e-6)).toBe(true);
  });
  it('every margin lowers the target logit (m > 0 penalises the target) on (−1, 1)', () => {
    fc.assert(
      fc.property(fc.double({ min: -0.999, max: 0.999, noNaN: true }), (c) => {
        for (const m of [arcface(), cosface(), sphereface(), combinedMargin()]) expect(target(m, [c])[0]!).toBeLessThanOrEqual(c + 1e-12);
      }),
    );
  });
  it('straight-through has the forward value of the formula (hand-derived), as exact does', () => {
    const cs = grid(101);
    for (const gradient of ['exact', 'straight-through'] as const) {
      expectAllClose(
        target(arcface({ gradient }), cs),
        cs.map((c) => arcLinear(c, 0.5)),
      );
      expectAllClose(
        target(sphereface({ lambda: 3, gradient }), cs),
        cs.map((c) => (3 * c + psiOf(4 * theta(c))) / 4),
        10,
      );
    }
  });
});

describe('composition and user margins', () => {
  it('composeMargins(arcface, cosface) applies both: cos(θ + m2) − m3 (property, hand-derived)', () => {
    const composed = composeMargins(arcface({ m: 0.3, fallback: 'none' }), cosface({ m: 0.2 }));
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 16 }), (cs) => {
        expectAllClose(
          target(composed, cs),
          cs.map((c) => Math.cos(theta(c) + 0.3) - 0.2),
        );
      }),
    );
  });
  it('cosface and combinedMargin(1, 0, m) are both c − m', () => {
    const cs = grid(51);
    expectAllClose(
      target(cosface({ m: 0.4 }), cs),
      cs.map((c) => c - 0.4),
    );
    expectAllClose(
      target(combinedMargin({ m1: 1, m2: 0, m3: 0.4 }), cs),
      cs.map((c) => c - 0.4),
    );
  });
  it('defineMargin passes its params and stores them in the config', () => {
    const m = defineMargin({ type: 'shift', params: { m: 0.1 }, targetLogit: (c, { ops: o }, p) => o.sub(c, o.scalar(p.m)) });
    expect(m.config).toEqual({ type: 'shift', m: 0.1 });
    expect(target(m, [0.5])[0]).toBeCloseTo(0.4, 12);
  });
  it('composition scales by ‖x‖ when a part does', () => {
    expect(composeMargins(sphereface({ featureScale: 'norm' }), cosface()).featureScale).toBe('norm');
    expect(composeMargins(arcface(), cosface()).featureScale).toBe('fixed');
  });
  it('degrees converts to radians (pytorch-metric-learning takes degrees)', () => {
    expect(degrees(180)).toBeCloseTo(Math.PI, 15);
    expect(arcface({ m: degrees(28.6) }).config['m']).toBeCloseTo(0.49916, 5);
  });
});
