/**
 * The streaming engine under every verification metric: validate, split by label and radix-sort
 * the scores once, then walk the distinct scores from high to low, feeding the cumulative counts
 * to collectors that each build one metric (the ROC, the EER, TAR@FAR). A collector sees each
 * point once and keeps O(1) state (the ROC keeps its points), so several metrics come from one
 * pass. @internal
 *
 * @packageDocumentation
 */
import { type BinaryLabels, type Scores, checkLabels, checkScores, requireBothClasses } from './input.js';
import { sortFloat32, sortFloat64 } from './sort.js';

/**
 * Scores split by label and sorted ascending. Impostors are sorted in up to 4 chunks that share
 * one scratch buffer (a quarter of the memory of a whole-array radix sort) and are merged on the
 * fly by {@link walkDistinct}. @internal
 */
export interface SortedScores {
  readonly genuine: Float64Array | Float32Array;
  readonly impostorChunks: readonly (Float64Array | Float32Array)[];
  readonly positives: number;
  readonly negatives: number;
}

/**
 * What every collector of ROC points has: `add` one point (cumulative impostor and genuine
 * counts at or above `threshold`, thresholds decreasing), then `result()` once at the end.
 * @internal
 */
export interface RocPointCollector<R> {
  /** One point of the curve, in decreasing threshold order. */
  add(fps: number, tps: number, threshold: number): void;
  /** What the collector built; call once, after the last point. */
  result(): R;
}

const CHUNK_ABOVE = 1 << 22;

/** Validates, splits by label and sorts (radix) the scores. @internal */
export function sortScores(scores: Scores, labels: BinaryLabels, chunkAbove = CHUNK_ABOVE): SortedScores {
  const s = checkScores(scores);
  const l = checkLabels(labels, s.length);
  const { positives, negatives } = requireBothClasses(l);
  const f32 = s instanceof Float32Array;
  const make = (n: number) => (f32 ? new Float32Array(n) : new Float64Array(n));
  const genuine = make(positives);
  const impostor = make(negatives);
  let g = 0;
  let m = 0;
  for (let i = 0; i < s.length; i++) {
    if (l[i]) genuine[g++] = s[i]!;
    else impostor[m++] = s[i]!;
  }
  const k = negatives > chunkAbove ? 4 : 1;
  const size = Math.ceil(negatives / k);
  const scratch = negatives >= 1 << 14 ? make(size) : undefined;
  const sort = (a: Float64Array | Float32Array) =>
    a instanceof Float32Array ? sortFloat32(a, scratch as Float32Array | undefined) : sortFloat64(a, scratch as Float64Array | undefined);
  const impostorChunks = Array.from({ length: k }, (_, c) => sort(impostor.subarray(c * size, Math.min(negatives, (c + 1) * size))));
  return { genuine: genuine instanceof Float32Array ? sortFloat32(genuine) : sortFloat64(genuine), impostorChunks, positives, negatives };
}

/**
 * Visits every distinct score from high to low with the cumulative counts of genuine (tps) and
 * impostor (fps) scores ≥ it: the points of scikit-learn's `_binary_clf_curve`. @internal
 */
export function walkDistinct(sorted: SortedScores, visit: (fps: number, tps: number, threshold: number) => void): void {
  const { genuine, impostorChunks: chunks } = sorted;
  const k = chunks.length;
  const at = Int32Array.from(chunks, (c) => c.length - 1);
  const NONE = Number.NEGATIVE_INFINITY;
  const head = Float64Array.from(chunks, (c) => (c.length > 0 ? c[c.length - 1]! : NONE));
  let i = genuine.length - 1;
  let g = i >= 0 ? genuine[i]! : NONE;
  let remaining = sorted.positives + sorted.negatives;
  let tps = 0;
  let fps = 0;
  while (remaining > 0) {
    let t = g;
    for (let c = 0; c < k; c++) if (head[c]! > t) t = head[c]!;
    while (g === t) {
      tps++;
      remaining--;
      i--;
      g = i >= 0 ? genuine[i]! : NONE;
    }
    for (let c = 0; c < k; c++) {
      if (head[c] !== t) continue;
      const chunk = chunks[c]!;
      let j = at[c]!;
      while (j >= 0 && chunk[j] === t) {
        fps++;
        remaining--;
        j--;
      }
      at[c] = j;
      head[c] = j >= 0 ? chunk[j]! : NONE;
    }
    visit(fps, tps, t);
  }
}

/** Walks every distinct score into `collector` and returns its result. @internal */
export function collect<R>(sorted: SortedScores, collector: RocPointCollector<R>): R {
  walkDistinct(sorted, (fps, tps, threshold) => collector.add(fps, tps, threshold));
  return collector.result();
}

/**
 * scikit-learn's `drop_intermediate` in front of another collector: a point is passed on when it
 * is the first or the last, or when the second difference of fps or tps at it is non-zero (it is
 * a corner). `result()` passes on the last point, then returns `next.result()`. @internal
 */
export function dropIntermediate<R>(next: RocPointCollector<R>): RocPointCollector<R> {
  let n = 0;
  let f2 = 0,
    t2 = 0,
    f1 = 0,
    t1 = 0,
    th1 = 0;
  return {
    add(fps, tps, threshold) {
      if (n === 0) next.add(fps, tps, threshold);
      else if (n >= 2 && (f2 - 2 * f1 + fps !== 0 || t2 - 2 * t1 + tps !== 0)) next.add(f1, t1, th1);
      f2 = f1;
      t2 = t1;
      f1 = fps;
      t1 = tps;
      th1 = threshold;
      n++;
    },
    result() {
      if (n >= 2) next.add(f1, t1, th1);
      return next.result();
    },
  };
}

/** The results of a tuple of collectors. @internal */
export type ResultsOf<C extends readonly RocPointCollector<unknown>[]> = { -readonly [K in keyof C]: C[K] extends RocPointCollector<infer R> ? R : never };

/** Feeds every point to each of `collectors`; `result()` is the tuple of their results. @internal */
export function tee<const C extends readonly RocPointCollector<unknown>[]>(...collectors: C): RocPointCollector<ResultsOf<C>> {
  return {
    add(fps, tps, threshold) {
      for (const c of collectors) c.add(fps, tps, threshold);
    },
    result: () => collectors.map((c) => c.result()) as ResultsOf<C>,
  };
}
