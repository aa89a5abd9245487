import { EvalInputError } from './errors.js';
import { type Matrix, checkMatrix, normalizeRows } from './matrix.js';
import type { ProgressCallback } from './progress.js';

/** Template features pooled from image features. */
export interface PooledTemplates {
  /** The distinct template ids, ascending. */
  readonly templateIds: Int32Array;
  /** One L2-normalised feature row per template, in `templateIds` order. */
  readonly features: Matrix;
}

/** Options of {@link poolTemplates}. */
export interface PoolOptions {
  /** L2-normalise each image feature before pooling (insightface's default, without norm scores); default true. */
  readonly normalizeImages?: boolean;
  /** Multiply each image feature by its detector score (insightface's `use_detector_score`). */
  readonly facenessScores?: ArrayLike<number>;
}

const toInts = (values: ArrayLike<number>, argument: string, length: number): Int32Array => {
  if (values.length !== length) throw new EvalInputError(argument, `has ${values.length} entries, expected ${length}`);
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) throw new EvalInputError(argument, `${argument}[${i}] = ${v} is not a non-negative integer id`);
    out[i] = v;
  }
  return out;
};

/**
 * IJB-B/C template pooling as insightface's `image2template_feature`: within a template, image
 * features of the same media (video) are averaged, the media features are summed, and the sum
 * is L2-normalised.
 *
 * @param features - image features [N, D] (flip-fused if you use flips).
 * @param templates - the template id of each image (`*_face_tid_mid.txt`, column 2).
 * @param medias - the media id of each image (column 3).
 * @param options - image normalisation and detector scores.
 * @returns the template ids and their features.
 *
 * @example
 * ```ts
 * import { matrix, poolTemplates } from '@marginkit/eval';
 * const pooled = poolTemplates(matrix([1, 0, 0, 1, 1, 1], 3, 2), [7, 7, 9], [1, 2, 3]);
 * console.log(Array.from(pooled.templateIds), pooled.features.rows); // [7, 9] 2
 * ```
 */
export function poolTemplates(features: Matrix, templates: ArrayLike<number>, medias: ArrayLike<number>, options: PoolOptions = {}): PooledTemplates {
  let f = checkMatrix(features, 'features');
  const t = toInts(templates, 'templates', f.rows);
  const m = toInts(medias, 'medias', f.rows);
  if (options.normalizeImages !== false) f = normalizeRows(f);
  if (options.facenessScores) {
    const s = options.facenessScores;
    if (s.length !== f.rows) throw new EvalInputError('facenessScores', `has ${s.length} entries, expected ${f.rows}`);
    for (let r = 0; r < f.rows; r++) {
      const v = s[r];
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new EvalInputError('facenessScores', `facenessScores[${r}] = ${String(v)}; every detector score must be a finite number`);
    }
    const scaled = Float64Array.from(f.data);
    for (let r = 0; r < f.rows; r++) for (let c = 0; c < f.cols; c++) scaled[r * f.cols + c]! *= s[r]!;
    f = { data: scaled, rows: f.rows, cols: f.cols };
  }
  // Group image rows by (template, media), in ascending order of both.
  const order = Array.from({ length: f.rows }, (_, i) => i).sort((x, y) => t[x]! - t[y]! || m[x]! - m[y]! || x - y);
  const ids: number[] = [];
  const pooled: number[][] = [];
  let i = 0;
  const D = f.cols;
  while (i < order.length) {
    const tid = t[order[i]!]!;
    const sum = new Float64Array(D);
    while (i < order.length && t[order[i]!] === tid) {
      const mid = m[order[i]!]!;
      const media = new Float64Array(D);
      let count = 0;
      while (i < order.length && t[order[i]!] === tid && m[order[i]!] === mid) {
        const row = order[i]!;
        for (let c = 0; c < D; c++) media[c]! += f.data[row * D + c]!;
        count++;
        i++;
      }
      for (let c = 0; c < D; c++) sum[c]! += media[c]! / count;
    }
    ids.push(tid);
    pooled.push(Array.from(sum));
  }
  const data = Float64Array.from(pooled.flat());
  return { templateIds: Int32Array.from(ids), features: normalizeRows({ data, rows: ids.length, cols: D }) };
}

/**
 * Scores template pairs (`*_template_pair_label.txt`) as the dot product of the pooled template
 * features, in blocks (insightface's `verification`), reporting progress.
 *
 * @param pooled - from {@link poolTemplates}.
 * @param templates1 - the first template id of each pair.
 * @param templates2 - the second template id of each pair.
 * @param options - block size (default 100,000 pairs) and a progress callback.
 * @returns one score per pair.
 *
 * @example
 * ```ts
 * import { matrix, pairScores, poolTemplates } from '@marginkit/eval';
 * const pooled = poolTemplates(matrix([1, 0, 0, 1, 1, 1], 3, 2), [7, 7, 9], [1, 2, 3]);
 * console.log(Array.from(pairScores(pooled, [7], [9])).map((s) => s.toFixed(3))); // ['1.000']
 * ```
 */
export function pairScores(
  pooled: PooledTemplates,
  templates1: ArrayLike<number>,
  templates2: ArrayLike<number>,
  options: { readonly blockSize?: number; readonly onProgress?: ProgressCallback } = {},
): Float64Array {
  const n = templates1.length;
  if (templates2.length !== n) throw new EvalInputError('templates2', `has ${templates2.length} entries but templates1 has ${n}`);
  const blockSize = options.blockSize ?? 100_000;
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new EvalInputError('blockSize', `must be a positive integer, got ${blockSize}`);
  const row = new Map<number, number>();
  pooled.templateIds.forEach((id, r) => {
    row.set(id, r);
  });
  const { data, cols } = pooled.features;
  const out = new Float64Array(n);
  const lookup = (ids: ArrayLike<number>, i: number, argument: string): number => {
    const r = row.get(ids[i]!);
    if (r === undefined) throw new EvalInputError(argument, `${argument}[${i}] = ${ids[i]} is not a pooled template id`);
    return r * cols;
  };
  for (let start = 0; start < n; start += blockSize) {
    const end = Math.min(n, start + blockSize);
    for (let i = start; i < end; i++) {
      const a = lookup(templates1, i, 'templates1');
      const b = lookup(templates2, i, 'templates2');
      let s = 0;
      for (let c = 0; c < cols; c++) s += data[a + c]! * data[b + c]!;
      out[i] = s;
    }
    options.onProgress?.(end, n);
  }
  return out;
}
