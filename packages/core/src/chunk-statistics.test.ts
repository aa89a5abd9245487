import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChunkStatistics, ShapeError, emptyChunkStatistics, mergeChunkStatistics, softmaxRows } from './index.js';
import { expectTypedError } from './testing/index.js';

/** The statistics of one row's logits `z` restricted to the classes [from, to), label `y`, computed directly. */
function sliceStats(z: readonly number[], y: number, from: number, to: number, slope?: readonly number[]): ChunkStatistics {
  const others = z.map((v, j) => [v, j] as const).filter(([, j]) => j >= from && j < to && j !== y);
  const max = others.length === 0 ? Number.NEGATIVE_INFINITY : Math.max(...others.map(([v]) => v));
  const sumExp = others.reduce((s, [v]) => s + Math.exp(v - max), 0);
  const out = { max: Float64Array.of(max), sumExp: Float64Array.of(sumExp), cosTarget: Float64Array.of(y >= from && y < to ? 0.25 : 0) };
  if (slope === undefined) return out;
  return { ...out, slope: Float64Array.of(others.reduce((s, [v, j]) => s + Math.exp(v - max) * slope[j]!, 0)) };
}

const logits = fc.array(fc.double({ min: -80, max: 80, noNaN: true }), { minLength: 1, maxLength: 24 });

describe('mergeChunkStatistics', () => {
  it('merging slices in any order and grouping gives the statistics of the whole row', () => {
    fc.assert(
      fc.property(logits, fc.nat(), fc.array(fc.nat(), { maxLength: 6 }), fc.nat(), (z, yRaw, cutsRaw, seed) => {
        const y = yRaw % z.length;
        const slope = z.map((_, j) => Math.sin(j + 1));
        const cuts = [...new Set([0, z.length, ...cutsRaw.map((c) => c % (z.length + 1))])].sort((a, b) => a - b);
        const parts = cuts.slice(1).map((to, i) => sliceStats(z, y, cuts[i]!, to, slope));
        // A seeded permutation of the slices, merged left to right, and a balanced tree of the original order.
        const order = parts.map((p, i) => ({ p, key: Math.sin(seed + i * 7.1) })).sort((a, b) => a.key - b.key);
        const left = order.reduce((acc, { p }) => mergeChunkStatistics(acc, p), emptyChunkStatistics(1, true));
        const tree = (xs: ChunkStatistics[]): ChunkStatistics =>
          xs.length === 1 ? xs[0]! : mergeChunkStatistics(tree(xs.slice(0, xs.length >> 1)), tree(xs.slice(xs.length >> 1)));
        const whole = sliceStats(z, y, 0, z.length, slope);
        for (const merged of [left, tree(parts)]) {
          expect(merged.max[0]).toBe(whole.max[0]);
          expect(merged.cosTarget[0]).toBe(0.25);
          expect(Math.abs(merged.sumExp[0]! - whole.sumExp[0]!)).toBeLessThanOrEqual(1e-13 * whole.sumExp[0]!);
          expect(Math.abs(merged.slope![0]! - whole.slope![0]!)).toBeLessThanOrEqual(1e-13 * z.length * Math.max(1, whole.sumExp[0]!));
        }
      }),
    );
  });

  it('has the empty statistics as identity, also for rows without non-target classes', () => {
    const a = sliceStats([3, 1, 2], 1, 0, 3);
    expect(mergeChunkStatistics(emptyChunkStatistics(1), a)).toEqual(a);
    const onlyTarget = sliceStats([3], 0, 0, 1);
    expect(onlyTarget.sumExp[0]).toBe(0);
    const m = mergeChunkStatistics(onlyTarget, emptyChunkStatistics(1));
    expect([m.max[0], m.sumExp[0], m.cosTarget[0]]).toEqual([Number.NEGATIVE_INFINITY, 0, 0.25]);
  });

  it('rejects statistics of different batches with a ShapeError naming the array', () => {
    expectTypedError(() => mergeChunkStatistics(emptyChunkStatistics(2), emptyChunkStatistics(3)), { error: ShapeError, argument: 'b.max' });
    expectTypedError(() => softmaxRows(emptyChunkStatistics(2), [1]), { error: ShapeError, argument: 'targetLogits' });
  });
});

describe('softmaxRows', () => {
  it('equals the float64 cross-entropy log Σ e^z − z_y and its softmax, across the series and overflow ranges', () => {
    for (const scale of [1, 64, 1e3, 1e5]) {
      const base = [0.3, -0.2, 0.9, -1, 0.1];
      for (const y of [0, 2, 3]) {
        const z = base.map((v) => v * scale);
        const stats = sliceStats(z, y, 0, z.length);
        const rows = softmaxRows(stats, [z[y]!]);
        const m = Math.max(...z);
        const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
        // ℓ relative to z_y directly, as log1p(Σ_{j≠y} e^{z_j − z_y}) where that sum is finite.
        const s = z.reduce((acc, v, j) => acc + (j === y ? 0 : Math.exp(v - z[y]!)), 0);
        const loss = Number.isFinite(s) ? Math.log1p(s) : lse - z[y]!;
        expect(Math.abs(rows.loss[0]! - loss)).toBeLessThanOrEqual(1e-14 * Math.max(loss, 1e-300) + 1e-15 * Math.abs(lse));
        expect(rows.loss[0]).toBeGreaterThanOrEqual(0); // 0 only where e^{−d} underflows (scale 1e5)
        expect(Math.abs(rows.logSumExp[0]! - lse)).toBeLessThanOrEqual(1e-14 * Math.abs(lse) + 1e-14);
        const pNot = 1 - Math.exp(z[y]! - lse);
        expect(Math.abs(rows.notTarget[0]! - pNot)).toBeLessThanOrEqual(1e-12 * pNot + 1e-16);
      }
    }
  });

  it('keeps full relative precision for a well-classified row (ℓ ≈ 1e-30) and is exact for a row with one class', () => {
    const rows = softmaxRows({ max: Float64Array.of(0), sumExp: Float64Array.of(1), cosTarget: Float64Array.of(1) }, [69.0775527898214]);
    expect(Math.abs(rows.loss[0]! / 1e-30 - 1)).toBeLessThan(1e-12);
    expect(Math.abs(rows.notTarget[0]! / 1e-30 - 1)).toBeLessThan(1e-12);
    const one = softmaxRows(emptyChunkStatistics(1), [5]);
    expect([one.loss[0], one.logSumExp[0], one.notTarget[0]]).toEqual([0, 5, 0]);
  });
});
