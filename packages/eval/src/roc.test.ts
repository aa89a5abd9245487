import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvalInputError, NotEnoughClassesError } from './errors.js';
import { expectClose, fixtures } from '../test/fixtures.js';
import { accuracyAtThreshold, auc, detCurve, equalErrorRate, rocCurve, tarAtFar, verificationReport } from './roc.js';

// biome-ignore lint/suspicious/noExplicitAny: fixture rows
type Case = any;
const cases: [string, Case][] = fixtures.verification.map((c: Case) => [c.name, c]);
const scoresOf = (c: Case) => (c.dtype === 'float32' ? Float32Array.from(c.scores) : Float64Array.from(c.scores));

describe.each(cases)('agrees with scikit-learn and insightface: %s', (_, c) => {
  const scores = scoresOf(c);
  it('roc_curve with drop_intermediate (points and thresholds)', () => {
    const roc = rocCurve(scores, c.labels);
    expectClose(roc.fpr, c.roc.fpr, 1e-12, 'fpr');
    expectClose(roc.tpr, c.roc.tpr, 1e-12, 'tpr');
    expect(roc.thresholds[0]).toBe(Number.POSITIVE_INFINITY);
    expectClose(roc.thresholds.subarray(1), c.roc.thresholds, 0, 'thresholds');
  });
  it('roc_curve without drop_intermediate', () => {
    const roc = rocCurve(scores, c.labels, { dropIntermediate: false });
    expectClose(roc.fpr, c.rocFull.fpr, 1e-12, 'fpr');
    expectClose(roc.tpr, c.rocFull.tpr, 1e-12, 'tpr');
    expectClose(roc.thresholds.subarray(1), c.rocFull.thresholds, 0, 'thresholds');
  });
  it('auc, EER (brentq on interp1d) and det_curve', () => {
    const roc = rocCurve(scores, c.labels);
    expect(Math.abs(auc(roc.fpr, roc.tpr) - c.auc)).toBeLessThan(1e-9);
    expect(Math.abs(equalErrorRate(scores, c.labels).eer - c.eer)).toBeLessThan(1e-9);
    const det = detCurve(scores, c.labels);
    expectClose(det.fpr, c.det.fpr, 1e-12, 'det fpr');
    expectClose(det.fnr, c.det.fnr, 1e-12, 'det fnr');
    expectClose(det.thresholds, c.det.thresholds, 0, 'det thresholds');
  });
  it.each([
    ['strict', 'tarStrict'],
    ['nearest', 'tarNearest'],
    ['interpolated', 'tarInterpolated'],
  ] as const)('TAR@FAR, policy %s', (policy, key) => {
    const got = tarAtFar(scores, c.labels, c.fars, { policy }).map((r) => r.tar);
    expectClose(got, c[key], 1e-9, `${policy} TAR`);
  });
  it('the one-pass report equals the separate functions', () => {
    const r = verificationReport(scores, c.labels, { farTargets: c.fars, policy: 'nearest' });
    expect(Math.abs(r.auc - c.auc)).toBeLessThan(1e-9);
    expect(Math.abs(r.eer.eer - c.eer)).toBeLessThan(1e-9);
    expectClose(
      r.tarAtFar.map((t) => t.tar),
      c.tarNearest,
      1e-9,
      'report TAR',
    );
    expectClose(r.roc.fpr, c.roc.fpr, 1e-12, 'report fpr');
  });
  it('accuracy at a threshold', () => {
    expect(accuracyAtThreshold(scores, c.labels, c.accuracy.threshold).accuracy).toBeCloseTo(c.accuracy.accuracy, 12);
  });
});

describe('TAR@FAR details', () => {
  it('strict never exceeds the target; it reports threshold and false accepts that hold', () => {
    const c = fixtures.verification[0];
    const scores = Float64Array.from(c.scores);
    for (const r of tarAtFar(scores, c.labels, c.fars)) {
      expect(r.far).toBeLessThanOrEqual(r.target);
      const acc = accuracyAtThreshold(scores, c.labels, r.threshold);
      expect(acc.falsePositives).toBe(r.falseAccepts);
      expect(acc.tar).toBeCloseTo(r.tar, 12);
    }
  });
  it('warns when too few impostors back a FAR point, and gives intervals that contain the estimate', () => {
    const c = fixtures.verification[4]; // 200 impostors
    const r = verificationReport(Float64Array.from(c.scores), c.labels, { farTargets: [1e-3, 0.1] });
    expect(r.tarAtFar[0]!.warning).toMatch(/less than one expected false accept/);
    expect(r.tarAtFar[1]!.warning).toBeUndefined();
    for (const t of r.tarAtFar) {
      expect(t.tarInterval.lower).toBeLessThanOrEqual(t.tar + 1e-12);
      expect(t.tarInterval.upper).toBeGreaterThanOrEqual(t.tar - 1e-12);
    }
  });
});

describe('properties', () => {
  const data = fc
    .array(fc.tuple(fc.integer({ min: -20, max: 20 }), fc.boolean()), { minLength: 2, maxLength: 60 })
    .filter((xs) => xs.some((x) => x[1]) && xs.some((x) => !x[1]));
  it('AUC equals the Mann–Whitney probability P(genuine > impostor) + ½·P(tie)', () => {
    fc.assert(
      fc.property(data, (xs) => {
        const scores = xs.map((x) => x[0] / 4);
        const labels = xs.map((x) => x[1]);
        let wins = 0;
        let pairs = 0;
        for (const [a, la] of xs)
          for (const [b, lb] of xs)
            if (la && !lb) {
              pairs++;
              wins += a > b ? 1 : a === b ? 0.5 : 0;
            }
        const roc = rocCurve(scores, labels);
        expect(auc(roc.fpr, roc.tpr)).toBeCloseTo(wins / pairs, 12);
      }),
    );
  });
  it('is invariant to a strictly increasing transform of the scores', () => {
    fc.assert(
      fc.property(data, (xs) => {
        const scores = xs.map((x) => x[0]);
        const labels = xs.map((x) => x[1]);
        const a = rocCurve(scores, labels);
        const b = rocCurve(
          scores.map((s) => Math.exp(s / 10) * 3 - 1),
          labels,
        );
        expect(Array.from(b.fpr)).toEqual(Array.from(a.fpr));
        expect(Array.from(b.tpr)).toEqual(Array.from(a.tpr));
      }),
    );
  });
  it('dropping intermediate points keeps the area and the corners', () => {
    fc.assert(
      fc.property(data, (xs) => {
        const scores = xs.map((x) => x[0]);
        const labels = xs.map((x) => x[1]);
        const full = rocCurve(scores, labels, { dropIntermediate: false });
        const dropped = rocCurve(scores, labels);
        expect(auc(dropped.fpr, dropped.tpr)).toBeCloseTo(auc(full.fpr, full.tpr), 12);
        expect(dropped.fpr.length).toBeLessThanOrEqual(full.fpr.length);
      }),
    );
  });
});

describe('bad input', () => {
  it.each([
    ['length mismatch', () => rocCurve([0.1, 0.2], [1]), EvalInputError, 'labels'],
    ['NaN score', () => rocCurve([0.1, Number.NaN], [1, 0]), EvalInputError, 'scores'],
    ['Infinity score', () => tarAtFar([0.1, Number.POSITIVE_INFINITY], [1, 0], [0.1]), EvalInputError, 'scores'],
    ['no negatives', () => rocCurve([0.1, 0.2], [1, 1]), NotEnoughClassesError, 'labels'],
    ['no positives', () => equalErrorRate([0.1, 0.2], [0, 0]), NotEnoughClassesError, 'labels'],
    ['empty', () => rocCurve([], []), EvalInputError, 'scores'],
    ['label 2', () => rocCurve([0.1, 0.2], [1, 2]), EvalInputError, 'labels'],
    ['FAR target 0', () => tarAtFar([0.1, 0.2], [1, 0], [0]), EvalInputError, 'targets'],
    ['FAR target 1', () => tarAtFar([0.1, 0.2], [1, 0], [1]), EvalInputError, 'targets'],
    ['FAR target NaN', () => verificationReport([0.1, 0.2], [1, 0], { farTargets: [Number.NaN] }), EvalInputError, 'farTargets'],
    ['unknown policy', () => tarAtFar([0.1, 0.2], [1, 0], [0.1], { policy: 'closest' as never }), EvalInputError, 'policy'],
    ['scores as a string', () => rocCurve('0.1,0.2' as never, [1, 0]), EvalInputError, 'scores'],
    ['auc of a non-monotone x', () => auc([0, 1, 0.5], [0, 1, 1]), EvalInputError, 'x'],
    ['NaN threshold', () => accuracyAtThreshold([0.1], [1], Number.NaN), EvalInputError, 'threshold'],
    ['minFalseAccepts NaN', () => verificationReport([0.1, 0.2], [1, 0], { minFalseAccepts: Number.NaN }), EvalInputError, 'minFalseAccepts'],
    ['minFalseAccepts −1', () => verificationReport([0.1, 0.2], [1, 0], { minFalseAccepts: -1 }), EvalInputError, 'minFalseAccepts'],
    [
      'minFalseAccepts Infinity',
      () => verificationReport([0.1, 0.2], [1, 0], { minFalseAccepts: Number.POSITIVE_INFINITY }),
      EvalInputError,
      'minFalseAccepts',
    ],
  ] as const)('%s', (_, run, type, argument) => {
    let thrown: unknown;
    try {
      run();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(type);
    expect((thrown as EvalInputError).argument).toBe(argument);
    expect((thrown as Error).message).toContain(argument);
  });
});

describe('AUC at IJB-C scale', () => {
  it('verificationReport’s AUC equals rocCurve + auc to rounding level at 3 million distinct scores', () => {
    const n = 3_000_000;
    const scores = new Float64Array(n);
    const labels = new Uint8Array(n);
    let state = 12345;
    const next = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0; // Numerical Recipes LCG
      return state / 2 ** 32;
    };
    for (let i = 0; i < n; i++) {
      labels[i] = next() < 0.3 ? 1 : 0;
      // Distinct scores (i is in the low bits), genuine pairs shifted up: a realistic, non-trivial ROC.
      scores[i] = next() + 0.4 * labels[i]! + i * 1e-13;
    }
    const report = verificationReport(scores, labels, { farTargets: [1e-3] });
    const roc = rocCurve(scores, labels);
    expect(roc.fpr.length).toBeGreaterThan(500_000);
    expect(Math.abs(report.auc - auc(roc.fpr, roc.tpr))).toBeLessThan(1e-12);
    const full = rocCurve(scores, labels, { dropIntermediate: false });
    expect(full.fpr.length).toBe(n + 1);
    expect(Math.abs(report.auc - auc(full.fpr, full.tpr))).toBeLessThan(1e-12);
    // And both agree with the exact Mann–Whitney count (no ties: AUC = P(genuine > impostor)).
    const order = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]!);
    let negativesBelow = 0;
    let pairs = 0;
    for (const i of order) {
      if (labels[i]) pairs += negativesBelow;
      else negativesBelow++;
    }
    expect(Math.abs(report.auc - pairs / (report.positives * report.negatives))).toBeLessThan(1e-12);
  }, 60_000);
});

describe('chunked impostor sort (IJB-C scale path)', () => {
  it('merging 4 sorted chunks visits the same points as a naive count (property)', async () => {
    const { sortScores, walkDistinct } = await import('./roc.js');
    fc.assert(
      fc.property(
        fc
          .array(fc.tuple(fc.integer({ min: -30, max: 30 }), fc.boolean()), { minLength: 2, maxLength: 200 })
          .filter((xs) => xs.some((x) => x[1]) && xs.some((x) => !x[1])),
        (xs) => {
          const scores = Float64Array.from(xs, (x) => x[0] / 8);
          const labels = xs.map((x) => (x[1] ? 1 : 0));
          const visited: number[][] = [];
          walkDistinct(sortScores(scores, labels, 4), (f, t, th) => visited.push([f, t, th]));
          const distinct = [...new Set(scores)].sort((a, b) => b - a);
          const naive = distinct.map((th) => [xs.filter((x, i) => !x[1] && scores[i]! >= th).length, xs.filter((x, i) => x[1] && scores[i]! >= th).length, th]);
          expect(visited).toEqual(naive);
        },
      ),
    );
  });
});
