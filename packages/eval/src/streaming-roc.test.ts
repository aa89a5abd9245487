import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RocPointCollector, collect, dropIntermediate, sortScores, tee, walkDistinct } from './streaming-roc.js';

/** A collector that records the points it is given. */
const recorder = (): RocPointCollector<number[][]> => {
  const points: number[][] = [];
  return { add: (fps, tps, threshold) => points.push([fps, tps, threshold]), result: () => points };
};

describe('walkDistinct', () => {
  it('merging 4 sorted chunks visits the same points as a naive count (property)', () => {
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

describe('collectors share add/result', () => {
  // Genuine 0.9, 0.8, 0.7; impostors 0.6, 0.5 then a tie at 0.4: the points (fps, tps) are
  // (0,1) (0,2) (0,3) (1,3) (2,3) (3,4), with corners at (0,3) and (2,3).
  const sorted = sortScores([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.4], [1, 1, 1, 0, 0, 0, 1]);
  it('collect walks every distinct score into a collector', () => {
    expect(collect(sorted, recorder())).toEqual([
      [0, 1, 0.9],
      [0, 2, 0.8],
      [0, 3, 0.7],
      [1, 3, 0.6],
      [2, 3, 0.5],
      [3, 4, 0.4],
    ]);
  });
  it('dropIntermediate passes on the first point, the corners and the last point', () => {
    expect(collect(sorted, dropIntermediate(recorder()))).toEqual([
      [0, 1, 0.9],
      [0, 3, 0.7],
      [2, 3, 0.5],
      [3, 4, 0.4],
    ]);
  });
  it('tee gives every point to each collector and returns their results in order', () => {
    const [all, corners] = collect(sorted, tee(recorder(), dropIntermediate(recorder())));
    expect(all).toHaveLength(6);
    expect(corners).toHaveLength(4);
  });
});
