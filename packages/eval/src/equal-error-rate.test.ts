import { describe, expect, it } from 'vitest';
import { NotEnoughClassesError } from './errors.js';
import { equalErrorRate } from './equal-error-rate.js';
import { expectArgumentError, scoresOf, verificationCases } from '../test/fixtures.js';

describe.each(verificationCases)('agrees with scipy: %s', (_, c) => {
  it('EER = brentq(1 − x − interp1d(fpr, tpr)(x))', () => {
    expect(Math.abs(equalErrorRate(scoresOf(c), c.labels).eer - c.eer)).toBeLessThan(1e-9);
  });
});

describe('hand-derived', () => {
  it('the crossing on a diagonal step (genuine 0.9, 0.5; impostors 0.5, 0.1) is at FAR ¼', () => {
    // Points (0, ½) at 0.9 and (½, 1) at 0.5: tpr = ½ + fpr meets 1 − fpr at fpr = ¼; both ends are ¼ away, so the earlier threshold.
    expect(equalErrorRate([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0])).toEqual({ eer: 0.25, threshold: 0.9 });
  });
  it('separable scores have EER 0; reversed scores have EER 1', () => {
    expect(equalErrorRate([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]).eer).toBe(0);
    expect(equalErrorRate([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]).eer).toBe(1);
  });
});

describe('bad input', () => {
  it('no positives', () => {
    expectArgumentError(() => equalErrorRate([0.1, 0.2], [0, 0]), NotEnoughClassesError, 'labels');
  });
});
