import { EvalInputError } from './errors.js';
import { checkIds, checkRates } from './input.js';
import { type Matrix, checkMatrix, normalizeRows } from './matrix.js';
import type { ProgressCallback } from './progress.js';

/** Options of {@link identification}. */
export interface IdentificationOptions {
  /** CMC ranks to report; default [1, 5, 10]. */
  readonly ranks?: readonly number[];
  /** FPIR targets of TPIR@FPIR; default [0.01, 0.1]. */
  readonly fpirs?: readonly number[];
  /** The rank within which a mate counts as found for TPIR; default 1. */
  readonly tpirRank?: number;
  /** Probes scored per block; default 256. */
  readonly blockSize?: number;
  /** L2-normalise probes and gallery (cosine scores); default true. */
  readonly normalize?: boolean;
  /** Progress over probes. */
  readonly onProgress?: ProgressCallback;
}

/** One point of a CMC curve. */
export interface CmcPoint {
  /** The rank k (1-based). */
  readonly rank: number;
  /** Fraction of mated probes whose mate is within rank k. */
  readonly rate: number;
}

/** The true positive identification rate at one false positive identification rate. */
export interface TpirAtFpir {
  /** The FPIR target. */
  readonly fpir: number;
  /** The TPIR reached. */
  readonly tpir: number;
  /** The score threshold (a probe is accepted above it). */
  readonly threshold: number;
}

/** Open-set 1:N identification results. */
export interface IdentificationResult {
  /** Probes whose subject is in the gallery. */
  readonly matedProbes: number;
  /** Probes whose subject is not. */
  readonly nonMatedProbes: number;
  /** CMC: fraction of mated probes whose mate is within rank k, for each requested k. */
  readonly cmc: CmcPoint[];
  /** The full CMC curve, rank 1 … min(gallery size, 100). */
  readonly cmcCurve: Float64Array;
  /** TPIR at each FPIR target. */
  readonly tpirAtFpir: TpirAtFpir[];
  /** The rank of each mated probe's mate (1-based), in probe order; 0 for non-mated probes. */
  readonly mateRanks: Int32Array;
}

/**
 * Scores every probe against the gallery, `blockSize` probes between progress reports: for each
 * probe, its best score, and the rank (1-based; 0 without a mate) and score of its best mate, ties
 * among non-mates ranked by gallery index.
 */
function scoreProbes(
  p: Matrix,
  probeSubjects: ArrayLike<number>,
  g: Matrix,
  gallerySubjects: ArrayLike<number>,
  blockSize: number,
  onProgress: IdentificationOptions['onProgress'],
): { mateRanks: Int32Array; mateScores: Float64Array; maxScores: Float64Array } {
  const D = p.cols;
  const G = g.rows;
  const mateRanks = new Int32Array(p.rows);
  const mateScores = new Float64Array(p.rows);
  const maxScores = new Float64Array(p.rows);
  const scores = new Float64Array(G);
  for (let start = 0; start < p.rows; start += blockSize) {
    const end = Math.min(p.rows, start + blockSize);
    for (let i = start; i < end; i++) {
      let max = Number.NEGATIVE_INFINITY;
      let mate = -1;
      const subject = probeSubjects[i]!;
      for (let j = 0; j < G; j++) {
        let s = 0;
        for (let c = 0; c < D; c++) s += p.data[i * D + c]! * g.data[j * D + c]!;
        scores[j] = s;
        if (s > max) max = s;
        if (gallerySubjects[j] === subject && (mate < 0 || s > scores[mate]!)) mate = j;
      }
      maxScores[i] = max;
      if (mate >= 0) {
        const ms = scores[mate]!;
        let rank = 1;
        for (let j = 0; j < G; j++) {
          if (gallerySubjects[j] === subject) continue;
          if (scores[j]! > ms || (scores[j] === ms && j < mate)) rank++;
        }
        mateRanks[i] = rank;
        mateScores[i] = ms;
      }
    }
    onProgress?.(end, p.rows);
  }
  return { mateRanks, mateScores, maxScores };
}

/**
 * Open-set 1:N identification, scored in blocks of probes: the CMC (rank-k identification rate of
 * mated probes) and TPIR@FPIR. A probe's mate is the best-scoring gallery entry of its subject;
 * its rank is 1 + the number of other gallery entries with a higher score (ties go to the lower
 * gallery index). For FPIR f over the non-mated probes' maximum scores s₁ ≥ s₂ ≥ …, the
 * threshold is s₍ₘ₊₁₎ with m = ⌊f·N⌋ and a probe is accepted when its score is above it, so the
 * achieved FPIR is ≤ f. TPIR is the fraction of mated probes whose mate is within `tpirRank` and
 * above the threshold.
 *
 * @param probes - probe features [P, D].
 * @param probeSubjects - the subject id of each probe.
 * @param gallery - gallery features [G, D].
 * @param gallerySubjects - the subject id of each gallery entry.
 * @param options - ranks, FPIR targets, block size, progress.
 * @returns CMC and TPIR@FPIR.
 *
 * @example
 * ```ts
 * import { identification, matrix } from '@marginkit/eval';
 * const gallery = matrix([1, 0, 0, 1], 2, 2);
 * const probes = matrix([0.9, 0.1, 0.2, 0.8, -1, 0.1], 3, 2);
 * const r = identification(probes, [10, 20, 99], gallery, [10, 20], { ranks: [1], fpirs: [0.5] });
 * console.log(r.cmc[0]!.rate, r.nonMatedProbes); // 1 1
 * ```
 */
export function identification(
  probes: Matrix,
  probeSubjects: ArrayLike<number>,
  gallery: Matrix,
  gallerySubjects: ArrayLike<number>,
  options: IdentificationOptions = {},
): IdentificationResult {
  let p = checkMatrix(probes, 'probes');
  let g = checkMatrix(gallery, 'gallery');
  if (p.cols !== g.cols) throw new EvalInputError('gallery', `has dimension ${g.cols} but probes have ${p.cols}`);
  checkIds(probeSubjects, 'probeSubjects', p.rows);
  checkIds(gallerySubjects, 'gallerySubjects', g.rows);
  if (g.rows === 0) throw new EvalInputError('gallery', 'is empty');
  const ranks = options.ranks ?? [1, 5, 10];
  if (!Array.isArray(ranks) || ranks.length === 0) throw new EvalInputError('ranks', 'expected a non-empty array of positive integers');
  ranks.forEach((r, i) => {
    if (!Number.isInteger(r) || r < 1) throw new EvalInputError('ranks', `ranks[${i}] = ${r} is not a positive integer`);
  });
  const fpirs = checkRates(options.fpirs ?? [0.01, 0.1], 'fpirs');
  const tpirRank = options.tpirRank ?? 1;
  if (!Number.isInteger(tpirRank) || tpirRank < 1) throw new EvalInputError('tpirRank', `must be a positive integer, got ${tpirRank}`);
  const blockSize = options.blockSize ?? 256;
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new EvalInputError('blockSize', `must be a positive integer, got ${blockSize}`);
  if (options.normalize !== false) {
    p = normalizeRows(p);
    g = normalizeRows(g);
  }
  const { mateRanks, mateScores, maxScores } = scoreProbes(p, probeSubjects, g, gallerySubjects, blockSize, options.onProgress);
  const G = g.rows;
  let mated = 0;
  const nonMatedMax: number[] = [];
  for (let i = 0; i < p.rows; i++) {
    if (mateRanks[i]! > 0) mated++;
    else nonMatedMax.push(maxScores[i]!);
  }
  if (mated === 0) throw new EvalInputError('probeSubjects', 'no probe has a mate in the gallery: the identification rate is undefined');
  // Identification rate at rank k: the running sum of a histogram of mate ranks.
  const atRank = new Float64Array(G + 1);
  for (let i = 0; i < p.rows; i++) if (mateRanks[i]! > 0) atRank[mateRanks[i]!]!++;
  for (let k = 1; k <= G; k++) atRank[k]! += atRank[k - 1]!;
  const rateAt = (k: number) => atRank[Math.min(k, G)]! / mated;
  const curveLength = Math.min(G, 100);
  const cmcCurve = Float64Array.from({ length: curveLength }, (_, k) => rateAt(k + 1));
  nonMatedMax.sort((x, y) => y - x);
  const tpirAtFpir = fpirs.map((fpir) => {
    if (nonMatedMax.length === 0) throw new EvalInputError('probeSubjects', 'every probe has a mate: FPIR needs non-mated probes');
    const m = Math.floor(fpir * nonMatedMax.length);
    const threshold = m < nonMatedMax.length ? nonMatedMax[m]! : Number.NEGATIVE_INFINITY;
    let hits = 0;
    for (let i = 0; i < p.rows; i++) if (mateRanks[i]! > 0 && mateRanks[i]! <= tpirRank && mateScores[i]! > threshold) hits++;
    return { fpir, tpir: hits / mated, threshold };
  });
  return { matedProbes: mated, nonMatedProbes: nonMatedMax.length, cmc: ranks.map((rank) => ({ rank, rate: rateAt(rank) })), cmcCurve, tpirAtFpir, mateRanks };
}
