import { describe, expect, it } from 'vitest';
import { EvalInputError } from './errors.js';
import { expectArgumentError, scoresOf, verificationCases } from '../test/fixtures.js';
import { accuracyAtThreshold } from './threshold-accuracy.js';

describe.each(verificationCases)('agrees with scikit-learn: %s', (_, c) => {
  it('accuracy at a threshold', () => {
    expect(accuracyAtThreshold(scoresOf(c), c.labels, c.accuracy.threshold).accuracy).toBeCloseTo(c.accuracy.accuracy, 12);
  });
});

describe('hand-derived', () => {
  it('counts at threshold 0.5 (score ≥ threshold accepts)', () => {
    expect(accuracyAtThreshold([0.9, 0.5, 0.5, 0.1, 0.4], [1, 1, 0, 0, 1], 0.5)).toEqual({
      accuracy: 3 / 5,
      tar: 2 / 3,
      far: 1 / 2,
      truePositives: 2,
      falsePositives: 1,
      trueNegatives: 1,
      falseNegatives: 1,
    });
  });
});

describe('bad input', () => {
  it.each([
    ['NaN threshold', () => accuracyAtThreshold([0.1], [1], Number.NaN), 'threshold'],
    ['empty', () => accuracyAtThreshold([], [], 0.5), 'scores'],
    ['length mismatch', () => accuracyAtThreshold([0.1, 0.2], [1], 0.5), 'labels'],
  ] as const)('%s', (_, run, argument) => {
    expectArgumentError(run, EvalInputError, argument);
  });
});
