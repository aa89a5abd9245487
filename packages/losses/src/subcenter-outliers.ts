import { InvalidArgumentError, LabelError, ShapeError } from '@marginkit/core';

/** Inputs of {@link subCenterOutliers}: plain row-major arrays (read them from the head and the network). */
export interface SubCenterOutlierInput {
  /** Embeddings [N, D] of the training set (or any labelled set), row-major. */
  readonly embeddings: Float32Array;
  /** Their labels [N], class indices in [0, C). */
  readonly labels: Int32Array | readonly number[];
  /** The head's centres [C·K, D], row-major (`await head.save()` → `centers`). */
  readonly centers: Float32Array;
  /** K, sub-centres per class. */
  readonly subCenters: number;
  /** D. */
  readonly embeddingSize: number;
  /** Samples farther than this from their class's dominant sub-centre are outliers, degrees. Default 75 (the paper's). */
  readonly thresholdDegrees?: number;
}

/** What {@link subCenterOutliers} reports. */
export interface SubCenterOutlierReport {
  /** Per class, the dominant sub-centre k (the one nearest to most of the class's samples; ties to the lowest k). */
  readonly dominant: Int32Array;
  /** Per class and sub-centre, how many samples it is nearest to, [C, K] row-major. */
  readonly counts: Int32Array;
  /** Per sample, the angle in degrees to its class's dominant sub-centre. */
  readonly angles: Float64Array;
  /** The indices of the samples whose angle exceeds the threshold: the likely label noise. */
  readonly outliers: number[];
}

/**
 * Sub-center ArcFace's clean-up (Deng et al., ECCV 2020, §3.2): for each class the dominant
 * sub-centre is the one most samples are nearest to, and a sample farther than 75° from its
 * class's dominant sub-centre is reported as noise (the paper drops those and retrains with K = 1).
 * Pure TypeScript over arrays, in float64.
 *
 * @param input - embeddings, labels, centres and sizes; see {@link SubCenterOutlierInput}.
 * @returns the dominant sub-centres, counts, angles and outliers.
 *
 * @example
 * ```ts
 * import { subCenterOutliers } from '@marginkit/losses';
 * // One class, K = 2: sub-centre 0 along x, sub-centre 1 along y; two samples near x, one near −x.
 * const report = subCenterOutliers({
 *   embeddings: new Float32Array([1, 0.1, 1, -0.1, -1, 0]),
 *   labels: [0, 0, 0],
 *   centers: new Float32Array([1, 0, 0, 1]),
 *   subCenters: 2,
 *   embeddingSize: 2,
 * });
 * console.log(report.dominant, report.outliers); // Int32Array [0] [2]
 * ```
 */
export function subCenterOutliers(input: SubCenterOutlierInput): SubCenterOutlierReport {
  const { embeddings, labels, centers, subCenters: k, embeddingSize: d } = input;
  const threshold = input.thresholdDegrees ?? 75;
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError('subCenters', `must be an integer K ≥ 1, got ${k}`);
  if (!Number.isInteger(d) || d < 1) throw new InvalidArgumentError('embeddingSize', `must be a positive integer, got ${d}`);
  if (!(threshold > 0 && threshold < 180)) throw new InvalidArgumentError('thresholdDegrees', `must be in (0, 180), got ${threshold}`);
  if (embeddings.length % d !== 0) throw new ShapeError('embeddings', `has ${embeddings.length} values, not a multiple of D = ${d}`);
  if (centers.length % (k * d) !== 0) throw new ShapeError('centers', `has ${centers.length} values, not a multiple of K·D = ${k * d}`);
  const n = embeddings.length / d;
  const classes = centers.length / (k * d);
  if (labels.length !== n) throw new ShapeError('labels', `has ${labels.length} entries for ${n} embeddings`);
  const unit = (a: Float32Array, row: number): Float64Array => {
    const v = Float64Array.from(a.subarray(row * d, row * d + d));
    const norm = Math.hypot(...v) || 1;
    return v.map((x) => x / norm);
  };
  const w = Array.from({ length: classes * k }, (_, r) => unit(centers, r));
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
  const cos = new Float64Array(n * k);
  const counts = new Int32Array(classes * k);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw new LabelError('labels', `labels[${i}] = ${y} is not in [0, ${classes})`);
    const x = unit(embeddings, i);
    let best = 0;
    for (let j = 0; j < k; j++) {
      cos[i * k + j] = dot(x, w[y * k + j]!);
      if (cos[i * k + j]! > cos[i * k + best]!) best = j;
    }
    counts[y * k + best]!++;
  }
  const dominant = new Int32Array(classes);
  for (let c = 0; c < classes; c++) for (let j = 1; j < k; j++) if (counts[c * k + j]! > counts[c * k + dominant[c]!]!) dominant[c] = j;
  const angles = new Float64Array(n);
  const outliers: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = Math.min(1, Math.max(-1, cos[i * k + dominant[labels[i]!]!]!));
    angles[i] = (Math.acos(c) * 180) / Math.PI;
    if (angles[i]! > threshold) outliers.push(i);
  }
  return { dominant, counts, angles, outliers };
}
