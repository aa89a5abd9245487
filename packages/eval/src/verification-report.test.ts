import { describe, expect, it } from 'vitest';
import { EvalInputError } from './errors.js';
import { expectArgumentError, expectClose, fixtures, scoresOf, verificationCases } from '../test/fixtures.js';
import { auc, rocCurve } from './roc-curve.js';
import { verificationReport } from './verification-report.js';

describe.each(verificationCases)('agrees with scikit-learn and insightface: %s', (_, c) => {
  it.each(['nearest', 'strict', 'interpolated'] as const)('the one-pass report, policy %s', (policy) => {
    const r = verificationReport(scoresOf(c), c.labels, { farTargets: c.fars, policy });
    expect(Math.abs(r.auc - c.auc)).toBeLessThan(1e-9);
    expect(Math.abs(r.eer.eer - c.eer)).toBeLessThan(1e-9);
    const key = { nearest: 'tarNearest', strict: 'tarStrict', interpolated: 'tarInterpolated' }[policy];
    expectClose(
      r.tarAtFar.map((t) => t.tar),
      c[key],
      1e-9,
      'report TAR',
    );
    expectClose(r.roc.fpr, c.roc.fpr, 1e-12, 'report fpr');
    expectClose(r.roc.tpr, c.roc.tpr, 1e-12, 'report tpr');
  });
});

describe('reliability', () => {
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

describe('bad input', () => {
  it.each([
    ['FAR target NaN', () => verificationReport([0.1, 0.2], [1, 0], { farTargets: [Number.NaN] }), 'farTargets'],
    ['unknown policy', () => verificationReport([0.1, 0.2], [1, 0], { policy: 'closest' as never }), 'policy'],
    ['minFalseAccepts NaN', () => verificationReport([0.1, 0.2], [1, 0], { minFalseAccepts: Number.NaN }), 'minFalseAccepts'],
    ['minFalseAccepts −1', () => verificationReport([0.1, 0.2], [1, 0], { minFalseAccepts: -1 }), 'minFalseAccepts'],
    ['minFalseAccepts Infinity', () => verificationReport([0.1, 0.2], [1, 0], { minFalseAccepts: Number.POSITIVE_INFINITY }), 'minFalseAccepts'],
  ] as const)('%s', (_, run, argument) => {
    expectArgumentError(run, EvalInputError, argument);
  });
});

describe('AUC at IJB-C scale', () => {
  it('verificationReport’s AUC equals the exact Mann–Whitney count at 3 million distinct scores, and rocCurve + auc to rounding level', () => {
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
    // The independent reference: no ties, so AUC = P(genuine > impostor), counted exactly.
    const order = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]!);
    let negativesBelow = 0;
    let pairs = 0;
    for (const i of order) {
      if (labels[i]) pairs += negativesBelow;
      else negativesBelow++;
    }
    expect(Math.abs(report.auc - pairs / (report.positives * report.negatives))).toBeLessThan(1e-12);
    const roc = rocCurve(scores, labels);
    expect(roc.fpr.length).toBeGreaterThan(500_000);
    expect(Math.abs(report.auc - auc(roc.fpr, roc.tpr))).toBeLessThan(1e-12);
    const full = rocCurve(scores, labels, { dropIntermediate: false });
    expect(full.fpr.length).toBe(n + 1);
    expect(Math.abs(report.auc - auc(full.fpr, full.tpr))).toBeLessThan(1e-12);
  }, 60_000);
});
