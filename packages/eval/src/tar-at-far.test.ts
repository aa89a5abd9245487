import { describe, expect, it } from 'vitest';
import { EvalInputError } from './errors.js';
import { expectArgumentError, expectClose, fixtures, scoresOf, verificationCases } from '../test/fixtures.js';
import { tarAtFar } from './tar-at-far.js';
import { accuracyAtThreshold } from './threshold-accuracy.js';

describe.each(verificationCases)('agrees with scikit-learn and insightface: %s', (_, c) => {
  it.each([
    ['strict', 'tarStrict'],
    ['nearest', 'tarNearest'],
    ['interpolated', 'tarInterpolated'],
  ] as const)('TAR@FAR, policy %s', (policy, key) => {
    const got = tarAtFar(scoresOf(c), c.labels, c.fars, { policy }).map((r) => r.tar);
    expectClose(got, c[key], 1e-9, `${policy} TAR`);
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
  it('hand-derived: 3 genuine (0.9, 0.8, 0.6), 2 impostors (0.7, 0.2), FAR 0.5', () => {
    const scores = [0.9, 0.8, 0.7, 0.6, 0.2];
    const labels = [1, 1, 0, 1, 0];
    // Full curve (fpr, tpr): (0,0) (0,⅓) (0,⅔) (½,⅔) (½,1) (1,1); FAR ≤ ½ allows the point at threshold 0.6.
    expect(tarAtFar(scores, labels, [0.5])).toEqual([{ target: 0.5, tar: 1, far: 0.5, threshold: 0.6, falseAccepts: 1 }]);
  });
  it('hand-derived: the three policies differ on a tie (genuine 0.9, 0.5; impostors 0.5, 0.1), FAR 0.25', () => {
    const scores = [0.9, 0.5, 0.5, 0.1];
    const labels = [1, 1, 0, 0];
    // Points (fpr, tpr): (0, 0) (0, ½) at 0.9, (½, 1) at 0.5 (a diagonal step: the tie), (1, 1) at 0.1.
    const [strict, nearest, interpolated] = (['strict', 'nearest', 'interpolated'] as const).map((policy) => tarAtFar(scores, labels, [0.25], { policy })[0]!);
    expect(strict).toEqual({ target: 0.25, tar: 0.5, far: 0, threshold: 0.9, falseAccepts: 0 }); // the last point with FAR ≤ ¼
    expect(nearest).toEqual({ target: 0.25, tar: 1, far: 0.5, threshold: 0.5, falseAccepts: 1 }); // |0 − ¼| = |½ − ¼|: the later point wins
    expect(interpolated).toEqual({ target: 0.25, tar: 0.75, far: 0.25, threshold: 0.9, falseAccepts: 0.5 }); // halfway along the diagonal
  });
});

describe('bad input', () => {
  it.each([
    ['Infinity score', () => tarAtFar([0.1, Number.POSITIVE_INFINITY], [1, 0], [0.1]), 'scores'],
    ['FAR target 0', () => tarAtFar([0.1, 0.2], [1, 0], [0]), 'targets'],
    ['FAR target 1', () => tarAtFar([0.1, 0.2], [1, 0], [1]), 'targets'],
    ['unknown policy', () => tarAtFar([0.1, 0.2], [1, 0], [0.1], { policy: 'closest' as never }), 'policy'],
  ] as const)('%s', (_, run, argument) => {
    expectArgumentError(run, EvalInputError, argument);
  });
});
