/**
 * The ROC curve (scikit-learn's `roc_curve`), the area under a curve, and the DET curve, which
 * is the same points seen as (FAR, 1 − TAR).
 *
 * @packageDocumentation
 */
import { EvalInputError } from './errors.js';
import type { BinaryLabels, Scores } from './input.js';
import { type RocPointCollector, collect, dropIntermediate, sortScores } from './streaming-roc.js';

/** A ROC curve: false and true positive rates at each threshold (decreasing). */
export interface RocCurve {
  /** False positive (false accept) rates, non-decreasing from 0. */
  readonly fpr: Float64Array;
  /** True positive (true accept) rates, non-decreasing from 0. */
  readonly tpr: Float64Array;
  /** Thresholds: a pair is accepted when score ≥ threshold. `thresholds[0]` is +∞ (accept nothing). */
  readonly thresholds: Float64Array;
}

/**
 * Collects ROC points starting at (0, 0) with threshold +∞: counts go into fixed-size chunks
 * (integers as int32, half the size of float64), and the exact-size float64 arrays are built once
 * at the end, so no growth by doubling and no second pass. @internal
 */
export function rocCollector(positives: number, negatives: number): RocPointCollector<RocCurve> {
  const CHUNK = 1 << 16;
  const fpsChunks: Int32Array[] = [];
  const tpsChunks: Int32Array[] = [];
  const thChunks: Float64Array[] = [];
  let k = CHUNK;
  let total = 0;
  return {
    add(fps, tps, threshold) {
      if (k === CHUNK) {
        fpsChunks.push(new Int32Array(CHUNK));
        tpsChunks.push(new Int32Array(CHUNK));
        thChunks.push(new Float64Array(CHUNK));
        k = 0;
      }
      fpsChunks[fpsChunks.length - 1]![k] = fps;
      tpsChunks[tpsChunks.length - 1]![k] = tps;
      thChunks[thChunks.length - 1]![k++] = threshold;
      total++;
    },
    result() {
      const fpr = new Float64Array(total + 1);
      const tpr = new Float64Array(total + 1);
      const thresholds = new Float64Array(total + 1);
      thresholds[0] = Number.POSITIVE_INFINITY;
      for (let c = 0; c < fpsChunks.length; c++) {
        const n = Math.min(CHUNK, total - c * CHUNK);
        const f = fpsChunks[c]!;
        const t = tpsChunks[c]!;
        const h = thChunks[c]!;
        const o = 1 + c * CHUNK;
        for (let q = 0; q < n; q++) {
          fpr[o + q] = f[q]! / negatives;
          tpr[o + q] = t[q]! / positives;
          thresholds[o + q] = h[q]!;
        }
      }
      return { fpr, tpr, thresholds };
    },
  };
}

/**
 * The ROC curve with scikit-learn's `roc_curve` semantics: one point per distinct score (ties
 * make a diagonal step), plus (0, 0) at threshold +∞; with `dropIntermediate` (the default, as
 * in scikit-learn) collinear points are removed. As scikit-learn ≥ 1.3, `thresholds[0]` is +∞
 * (1.2 used max + 1).
 *
 * @param scores - similarity scores (higher = more likely the same identity).
 * @param labels - 1/true for genuine pairs, 0/false for impostor pairs.
 * @param options - `dropIntermediate` (default true).
 * @returns the curve.
 *
 * @example
 * ```ts
 * import { rocCurve } from '@marginkit/eval';
 * const roc = rocCurve([0.9, 0.9, 0.5, 0.1], [1, 0, 1, 0]);
 * console.log(Array.from(roc.fpr), Array.from(roc.tpr)); // [0, 0.5, 0.5, 1] [0, 0.5, 1, 1]
 * ```
 */
export function rocCurve(scores: Scores, labels: BinaryLabels, options: { readonly dropIntermediate?: boolean } = {}): RocCurve {
  const sorted = sortScores(scores, labels);
  const collector = rocCollector(sorted.positives, sorted.negatives);
  return collect(sorted, options.dropIntermediate === false ? collector : dropIntermediate(collector));
}

/**
 * Area under a curve by the trapezoid rule, as scikit-learn's `auc(x, y)`; `x` must be
 * monotone.
 *
 * @param x - abscissae (e.g. `roc.fpr`).
 * @param y - ordinates (e.g. `roc.tpr`).
 * @returns the area.
 *
 * @example
 * ```ts
 * import { auc } from '@marginkit/eval';
 * console.log(auc([0, 0.5, 1], [0, 1, 1])); // 0.75
 * ```
 */
export function auc(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new EvalInputError('y', `has ${y.length} values but x has ${x.length}`);
  if (x.length < 2) throw new EvalInputError('x', `needs at least 2 points to compute an area, got ${x.length}`);
  let direction = 1;
  for (let i = 1; i < x.length; i++) {
    if (x[i]! < x[i - 1]!) {
      if (i === 1 || direction === -1) direction = -1;
      else throw new EvalInputError('x', 'is neither increasing nor decreasing');
    } else if (direction === -1 && x[i]! > x[i - 1]!) throw new EvalInputError('x', 'is neither increasing nor decreasing');
  }
  return direction * trapezoidSum(x, y);
}

/**
 * The trapezoid sum Σ (x[i] − x[i−1])·(y[i] + y[i−1]) / 2 with Neumaier's compensated summation,
 * so the area stays at rounding level however many points the curve has (a plain running sum
 * drifts by ~1e-11 at IJB-C's millions of distinct scores). Shared by {@link auc} and
 * {@link verificationReport}, so both give the same number. @internal
 */
export function trapezoidSum(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let sum = 0;
  let compensation = 0;
  for (let i = 1; i < x.length; i++) {
    const term = ((x[i]! - x[i - 1]!) * (y[i]! + y[i - 1]!)) / 2;
    const t = sum + term;
    compensation += Math.abs(sum) >= Math.abs(term) ? sum - t + term : term - t + sum;
    sum = t;
  }
  return sum + compensation;
}

/** A DET curve: false accept and false reject rates. */
export interface DetCurve {
  /** False positive rates, decreasing. */
  readonly fpr: Float64Array;
  /** False negative (false reject) rates, increasing. */
  readonly fnr: Float64Array;
  /** Thresholds, increasing. */
  readonly thresholds: Float64Array;
}

/**
 * The detection error trade-off curve with scikit-learn's `det_curve` semantics: the points from
 * the last with fpr at its minimum to the first with fnr at its minimum, in increasing threshold order.
 *
 * @param scores - similarity scores.
 * @param labels - 1 genuine, 0 impostor.
 * @returns fpr, fnr and thresholds.
 *
 * @example
 * ```ts
 * import { detCurve } from '@marginkit/eval';
 * const det = detCurve([0.9, 0.8, 0.4, 0.3], [1, 0, 1, 0]);
 * console.log(Array.from(det.fnr)); // [0, 0.5, 0.5]
 * ```
 */
export function detCurve(scores: Scores, labels: BinaryLabels): DetCurve {
  const sorted = sortScores(scores, labels);
  const roc = collect(sorted, rocCollector(sorted.positives, sorted.negatives));
  // scikit-learn: first_ind = fps.searchsorted(fps[0], 'right') − 1; last_ind = tps.searchsorted(tps[-1]) + 1,
  // over the points without the (0, 0) one.
  const F = roc.fpr.subarray(1);
  const T = roc.tpr.subarray(1);
  const H = roc.thresholds.subarray(1);
  let first = 0;
  while (first + 1 < F.length && F[first + 1] === F[0]) first++;
  let last = 0;
  while (last < T.length && T[last]! < T[T.length - 1]!) last++;
  last += 1;
  const len = last - first;
  const out = { fpr: new Float64Array(len), fnr: new Float64Array(len), thresholds: new Float64Array(len) };
  for (let k = 0; k < len; k++) {
    const i = last - 1 - k;
    out.fpr[k] = F[i]!;
    out.fnr[k] = 1 - T[i]!;
    out.thresholds[k] = H[i]!;
  }
  return out;
}
