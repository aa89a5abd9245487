import { EvalInputError } from './errors.js';
import { type BinaryLabels, checkLabels } from './input.js';
import { type Matrix, checkShape } from './matrix.js';

/** Options of {@link lfwTenFold}. */
export interface LfwOptions {
  /** Number of folds; default 10 (contiguous, unshuffled, as scikit-learn's KFold). */
  readonly folds?: number;
  /** L2-normalise the embeddings first, as insightface does; default true. */
  readonly normalize?: boolean;
  /** FAR target of VAL@FAR; default 1e-3. */
  readonly farTarget?: number;
}

/** The LFW-style protocol's results, as insightface's `verification.py` reports them. */
export interface LfwResult {
  /** Mean test accuracy over the folds. */
  readonly accuracy: number;
  /** Population standard deviation of the fold accuracies (numpy's `std`). */
  readonly accuracyStd: number;
  /** Test accuracy of each fold. */
  readonly foldAccuracies: number[];
  /** The squared-L2 threshold chosen on each fold's training pairs. */
  readonly foldThresholds: number[];
  /** The threshold grid: 0, 0.01, …, 3.99 (squared L2 distance). */
  readonly thresholds: Float64Array;
  /** Mean over folds of the test TPR at each grid threshold. */
  readonly tpr: Float64Array;
  /** Mean over folds of the test FPR at each grid threshold. */
  readonly fpr: Float64Array;
  /** VAL@FAR: mean validation rate at the FAR target (facenet/insightface `calculate_val`). */
  readonly val: number;
  /** Population standard deviation of VAL over folds. */
  readonly valStd: number;
  /** Mean FAR achieved on the test folds. */
  readonly far: number;
}

/** scikit-learn KFold(n_splits=k, shuffle=False): contiguous test folds, the first n % k one longer. @internal */
export function kFoldRanges(n: number, k: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < k; i++) {
    const size = Math.floor(n / k) + (i < n % k ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}

/** numpy's arange(0, stop, step) as start + i·step. @internal */
export function grid(stop: number, step: number): Float64Array {
  const n = Math.ceil(stop / step);
  return Float64Array.from({ length: n }, (_, i) => i * step);
}

/** For each distance, the first grid index k with grid[k] > d (pairs with d < grid[k] are accepted). */
function gridIndex(dist: Float64Array, thresholds: Float64Array, step: number): Int32Array {
  const out = new Int32Array(dist.length);
  const T = thresholds.length;
  for (let i = 0; i < dist.length; i++) {
    const d = dist[i]!;
    let k = Math.min(T, Math.max(0, Math.floor(d / step) + 1));
    while (k > 0 && thresholds[k - 1]! > d) k--;
    while (k < T && thresholds[k]! <= d) k++;
    out[i] = k;
  }
  return out;
}

/** Counts of same/different pairs accepted at each grid threshold. */
interface Accepted {
  readonly sameAcc: Float64Array;
  readonly diffAcc: Float64Array;
  readonly nSame: number;
  readonly nDiff: number;
}

/** Accepted counts for the pairs in [lo, hi). */
function acceptedCounts(index: Int32Array, same: Uint8Array, T: number, lo: number, hi: number): Accepted {
  const sameAcc = new Float64Array(T + 1);
  const diffAcc = new Float64Array(T + 1);
  let nSame = 0;
  for (let i = lo; i < hi; i++) {
    if (same[i]) {
      sameAcc[index[i]!]!++;
      nSame++;
    } else diffAcc[index[i]!]!++;
  }
  // accepted at threshold k: pairs whose first index ≤ k (a running sum of the histogram).
  for (let k = 1; k <= T; k++) {
    sameAcc[k]! += sameAcc[k - 1]!;
    diffAcc[k]! += diffAcc[k - 1]!;
  }
  return { sameAcc, diffAcc, nSame, nDiff: hi - lo - nSame };
}

/** The counts of all pairs but a fold: the whole minus the fold. */
function minus(all: Accepted, fold: Accepted): Accepted {
  return {
    sameAcc: all.sameAcc.map((v, k) => v - fold.sameAcc[k]!),
    diffAcc: all.diffAcc.map((v, k) => v - fold.diffAcc[k]!),
    nSame: all.nSame - fold.nSame,
    nDiff: all.nDiff - fold.nDiff,
  };
}

/**
 * Squared L2 distances between paired rows, of the L2-normalised rows when `normalize` (one fused
 * pass per pair, no normalised copies; x / ‖x‖ by division, as scikit-learn's normalize).
 * Throws on a non-finite value. @internal
 */
export function pairDistances(a: Matrix, b: Matrix, normalize: boolean): Float64Array {
  const out = new Float64Array(a.rows);
  const D = a.cols;
  const A = a.data;
  const B = b.data;
  for (let r = 0; r < a.rows; r++) {
    const o = r * D;
    let na = 1;
    let nb = 1;
    if (normalize) {
      let sa = 0;
      let sb = 0;
      for (let c = 0; c < D; c++) {
        sa += A[o + c]! * A[o + c]!;
        sb += B[o + c]! * B[o + c]!;
      }
      na = Math.sqrt(sa) || 1;
      nb = Math.sqrt(sb) || 1;
    }
    let s = 0;
    for (let c = 0; c < D; c++) {
      const diff = A[o + c]! / na - B[o + c]! / nb;
      s += diff * diff;
    }
    if (!Number.isFinite(s)) {
      const m = [a, b].find((x) => !x.data.subarray(o, o + D).every(Number.isFinite));
      throw new EvalInputError(m === b ? 'embeddings2' : 'embeddings1', `row ${r} has a non-finite value`);
    }
    out[r] = s;
  }
  return out;
}

const mean = (v: readonly number[]) => v.reduce((p, q) => p + q, 0) / v.length;
const std = (v: readonly number[]) => {
  const m = mean(v);
  return Math.sqrt(mean(v.map((x) => (x - m) ** 2)));
};

/** Per-fold accuracy on the 0..4 step 0.01 grid (each test fold at its training folds' best threshold), and the mean ROC. */
function foldAccuracy(dist: Float64Array, same: Uint8Array, ranges: readonly (readonly [number, number])[]) {
  const folds = ranges.length;
  const thresholds = grid(4, 0.01);
  const T = thresholds.length;
  const index = gridIndex(dist, thresholds, 0.01);
  const foldAccuracies: number[] = [];
  const foldThresholds: number[] = [];
  const tpr = new Float64Array(T);
  const fpr = new Float64Array(T);
  const all = acceptedCounts(index, same, T, 0, dist.length);
  for (const [lo, hi] of ranges) {
    const test = acceptedCounts(index, same, T, lo, hi);
    const train = minus(all, test);
    let best = 0;
    let bestAcc = -1;
    const nTrain = train.nSame + train.nDiff;
    for (let k = 0; k < T; k++) {
      const acc = (train.sameAcc[k]! + (train.nDiff - train.diffAcc[k]!)) / nTrain;
      if (acc > bestAcc) {
        bestAcc = acc;
        best = k;
      }
    }
    const nTest = hi - lo;
    for (let k = 0; k < T; k++) {
      tpr[k]! += (test.nSame === 0 ? 0 : test.sameAcc[k]! / test.nSame) / folds;
      fpr[k]! += (test.nDiff === 0 ? 0 : test.diffAcc[k]! / test.nDiff) / folds;
    }
    foldAccuracies.push((test.sameAcc[best]! + (test.nDiff - test.diffAcc[best]!)) / nTest);
    foldThresholds.push(thresholds[best]!);
  }
  return { thresholds, tpr, fpr, foldAccuracies, foldThresholds };
}

/** Per-fold VAL and FAR at the threshold where the training folds reach `farTarget` (grid 0..4 step 0.001, interpolated). */
function foldVal(dist: Float64Array, same: Uint8Array, ranges: readonly (readonly [number, number])[], farTarget: number) {
  const valGrid = grid(4, 0.001);
  const valIndex = gridIndex(dist, valGrid, 0.001);
  const vals: number[] = [];
  const fars: number[] = [];
  const allVal = acceptedCounts(valIndex, same, valGrid.length, 0, dist.length);
  for (const [lo, hi] of ranges) {
    const train = minus(allVal, acceptedCounts(valIndex, same, valGrid.length, lo, hi));
    if (train.nDiff === 0 || train.nSame === 0) throw new EvalInputError('issame', 'a training fold has no genuine or no impostor pairs');
    const farTrain = train.diffAcc.subarray(0, valGrid.length).map((v) => v / train.nDiff);
    const threshold = valThreshold(farTrain, valGrid, farTarget);
    let ta = 0,
      fa = 0,
      nSame = 0,
      nDiff = 0;
    for (let i = lo; i < hi; i++) {
      const accept = dist[i]! < threshold;
      if (same[i]) {
        nSame++;
        if (accept) ta++;
      } else {
        nDiff++;
        if (accept) fa++;
      }
    }
    if (nSame === 0 || nDiff === 0) throw new EvalInputError('issame', `test fold [${lo}, ${hi}) has no genuine or no impostor pairs`);
    vals.push(ta / nSame);
    fars.push(fa / nDiff);
  }
  return { vals, fars };
}

/**
 * The LFW 10-fold protocol exactly as insightface's `verification.py` computes it, for LFW,
 * CFP-FP, AgeDB-30 and other pair lists: squared L2 distance of L2-normalised embeddings,
 * threshold grid 0..4 step 0.01, the threshold with the first maximum training accuracy of each
 * fold applied to its test fold, mean ± population std; plus VAL@FAR as `calculate_val`
 * (grid step 0.001) with the documented rule for tied FAR values (see {@link valThreshold}).
 *
 * @param embeddings1 - the first image of each pair [N, D].
 * @param embeddings2 - the second image of each pair [N, D].
 * @param issame - 1 when the pair shows the same person.
 * @param options - folds, normalisation, FAR target.
 * @returns accuracy ± std, per-fold values, mean ROC and VAL@FAR.
 *
 * @example
 * ```ts
 * import { lfwTenFold, matrix } from '@marginkit/eval';
 * const n = 20;
 * const a = matrix(Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 ? 1 : 0.1 * i)), n, 2);
 * const b = matrix(Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 ? 1 : 0.1 * i + (i % 4 ? 3 : 0))), n, 2);
 * const issame = Array.from({ length: n }, (_, i) => (i % 2 ? 0 : 1));
 * const r = lfwTenFold(a, b, issame);
 * console.log(r.accuracy, r.foldAccuracies.length); // 1 10
 * ```
 */
export function lfwTenFold(embeddings1: Matrix, embeddings2: Matrix, issame: BinaryLabels, options: LfwOptions = {}): LfwResult {
  const folds = options.folds ?? 10;
  const farTarget = options.farTarget ?? 1e-3;
  const a = checkShape(embeddings1, 'embeddings1');
  const b = checkShape(embeddings2, 'embeddings2');
  if (a.rows !== b.rows || a.cols !== b.cols)
    throw new EvalInputError('embeddings2', `has shape [${b.rows}, ${b.cols}] but embeddings1 has [${a.rows}, ${a.cols}]`);
  const same = checkLabels(issame, a.rows, 'issame');
  if (!Number.isInteger(folds) || folds < 2 || folds > a.rows) throw new EvalInputError('folds', `must be an integer in [2, ${a.rows}], got ${folds}`);
  if (!(farTarget > 0 && farTarget < 1)) throw new EvalInputError('farTarget', `must be in (0, 1), got ${farTarget}`);
  const dist = pairDistances(a, b, options.normalize !== false);
  const ranges = kFoldRanges(a.rows, folds);

  const { thresholds, tpr, fpr, foldAccuracies, foldThresholds } = foldAccuracy(dist, same, ranges);
  const { vals, fars } = foldVal(dist, same, ranges, farTarget);
  return {
    accuracy: mean(foldAccuracies),
    accuracyStd: std(foldAccuracies),
    foldAccuracies,
    foldThresholds,
    thresholds,
    tpr,
    fpr,
    val: mean(vals),
    valStd: std(vals),
    far: mean(fars),
  };
}

/**
 * The distance threshold of VAL@FAR on training pairs: facenet's and insightface's
 * `interp1d(far_train, thresholds, kind='slinear')(far_target)`, with this rule for tied FAR
 * values (which current scipy rejects with "Expect x to not have duplicates" and old scipy
 * interpolated): FAR values are kept in threshold order (a stable sort; they are already
 * non-decreasing), and the threshold is interpolated linearly between the last grid threshold
 * whose FAR is below the target and the first whose FAR reaches it. When no threshold reaches the
 * target, 0 (as the reference code).
 *
 * @param farTrain - FAR at each grid threshold, non-decreasing.
 * @param thresholds - the grid.
 * @param farTarget - the target FAR.
 * @returns the interpolated threshold.
 *
 * @example
 * ```ts
 * import { valThreshold } from '@marginkit/eval';
 * // FAR stays 0 up to 0.2, then jumps to 0.5: interpolate between 0.2 and 0.3.
 * console.log(valThreshold([0, 0, 0, 0.5, 0.5, 1], [0, 0.1, 0.2, 0.3, 0.4, 0.5], 0.25)); // 0.25
 * ```
 */
export function valThreshold(farTrain: ArrayLike<number>, thresholds: ArrayLike<number>, farTarget: number): number {
  const n = farTrain.length;
  if (n !== thresholds.length || n < 2) throw new EvalInputError('thresholds', 'needs as many values as farTrain, at least 2');
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) max = Math.max(max, farTrain[i]!);
  if (!(max >= farTarget)) return 0;
  let hi = 0;
  while (hi < n && farTrain[hi]! < farTarget) hi++; // searchsorted(..., side='left')
  hi = Math.min(Math.max(hi, 1), n - 1);
  const lo = hi - 1;
  const x0 = farTrain[lo]!;
  const x1 = farTrain[hi]!;
  const y0 = thresholds[lo]!;
  const y1 = thresholds[hi]!;
  return x1 === x0 ? y1 : y0 + ((y1 - y0) * (farTarget - x0)) / (x1 - x0);
}
