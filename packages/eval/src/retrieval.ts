import { EvalInputError } from './errors.js';
import { checkIds } from './input.js';
import { type Matrix, checkMatrix, normalizeRows } from './matrix.js';
import type { ProgressCallback } from './progress.js';

/** Retrieval accuracy as pytorch-metric-learning's `AccuracyCalculator` defines it. */
export interface RetrievalResult {
  /** Fraction of queries whose nearest neighbour has the query's label. */
  readonly precisionAt1: number;
  /** Mean over queries of the fraction of same-label items among the R nearest (R = same-label count). */
  readonly rPrecision: number;
  /** Mean over queries of AP@R = (1/R) Σᵢ≤R P(i)·rel(i). */
  readonly mapAtR: number;
  /** Queries counted (queries whose label appears only once are excluded, as in pytorch-metric-learning). */
  readonly queries: number;
}

/**
 * Precision@1, R-precision and MAP@R with exact k-NN, queries and references from the same set
 * (each item is a query against all others), as pytorch-metric-learning defines them. Ranking is
 * by cosine similarity of L2-normalised embeddings (`metric: 'cosine'`, default) or by Euclidean
 * distance; ties go to the lower index.
 *
 * @param embeddings - [N, D].
 * @param labels - class label of each row.
 * @param options - metric, progress.
 * @returns the three metrics.
 *
 * @example
 * ```ts
 * import { matrix, retrievalMetrics } from '@marginkit/eval';
 * const e = matrix([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9], 4, 2);
 * console.log(retrievalMetrics(e, [0, 0, 1, 1]).mapAtR); // 1
 * ```
 */
export function retrievalMetrics(
  embeddings: Matrix,
  labels: ArrayLike<number>,
  options: { readonly metric?: 'cosine' | 'euclidean'; readonly onProgress?: ProgressCallback } = {},
): RetrievalResult {
  let e = checkMatrix(embeddings, 'embeddings');
  checkIds(labels, 'labels', e.rows);
  const metric = options.metric ?? 'cosine';
  if (metric !== 'cosine' && metric !== 'euclidean') throw new EvalInputError('metric', `must be 'cosine' or 'euclidean', got ${JSON.stringify(metric)}`);
  if (metric === 'cosine') e = normalizeRows(e);
  const n = e.rows;
  const D = e.cols;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
  const key = new Float64Array(n);
  const order = new Int32Array(n);
  let p1 = 0;
  let rp = 0;
  let map = 0;
  let queries = 0;
  for (let q = 0; q < n; q++) {
    const R = counts.get(labels[q]!)! - 1;
    if (R === 0) continue;
    queries++;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < D; c++) {
        const a = e.data[q * D + c]!;
        const b = e.data[j * D + c]!;
        s += metric === 'cosine' ? a * b : (a - b) * (a - b);
      }
      key[j] = metric === 'cosine' ? -s : s; // ascending key = best first
      order[j] = j;
    }
    key[q] = Number.POSITIVE_INFINITY; // never its own neighbour
    const sorted = Array.from(order).sort((x, y) => key[x]! - key[y]! || x - y);
    let hits = 0;
    let ap = 0;
    for (let k = 0; k < R; k++) {
      if (labels[sorted[k]!] === labels[q]) {
        hits++;
        ap += hits / (k + 1);
      }
    }
    p1 += labels[sorted[0]!] === labels[q] ? 1 : 0;
    rp += hits / R;
    map += ap / R;
    options.onProgress?.(q + 1, n);
  }
  if (queries === 0) throw new EvalInputError('labels', 'every label appears once: no query has a relevant item');
  return { precisionAt1: p1 / queries, rPrecision: rp / queries, mapAtR: map / queries, queries };
}
