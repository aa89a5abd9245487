import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvalInputError, NotEnoughClassesError } from './errors.js';
import { expectArgumentError, expectClose, scoresOf, verificationCases } from '../test/fixtures.js';
import { auc, detCurve, rocCurve } from './roc-curve.js';

describe.each(verificationCases)('agrees with scikit-learn: %s', (_, c) => {
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
  it('auc and det_curve', () => {
    const roc = rocCurve(scores, c.labels);
    expect(Math.abs(auc(roc.fpr, roc.tpr) - c.auc)).toBeLessThan(1e-9);
    const det = detCurve(scores, c.labels);
    expectClose(det.fpr, c.det.fpr, 1e-12, 'det fpr');
    expectClose(det.fnr, c.det.fnr, 1e-12, 'det fnr');
    expectClose(det.thresholds, c.det.thresholds, 0, 'det thresholds');
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
    ['no negatives', () => rocCurve([0.1, 0.2], [1, 1]), NotEnoughClassesError, 'labels'],
    ['no positives', () => detCurve([0.1, 0.2], [0, 0]), NotEnoughClassesError, 'labels'],
    ['empty', () => rocCurve([], []), EvalInputError, 'scores'],
    ['label 2', () => rocCurve([0.1, 0.2], [1, 2]), EvalInputError, 'labels'],
    ['scores as a string', () => rocCurve('0.1,0.2' as never, [1, 0]), EvalInputError, 'scores'],
    ['auc of a non-monotone x', () => auc([0, 1, 0.5], [0, 1, 1]), EvalInputError, 'x'],
    ['auc of one point', () => auc([0], [1]), EvalInputError, 'x'],
    ['auc of mismatched lengths', () => auc([0, 1], [1]), EvalInputError, 'y'],
  ] as const)('%s', (_, run, type, argument) => {
    expectArgumentError(run, type, argument);
  });
});
