/**
 * TAR@FAR: the true accept rate at false accept rate targets, under an explicit policy for
 * picking the ROC point.
 *
 * @packageDocumentation
 */
import { EvalInputError } from './errors.js';
import { type BinaryLabels, type Scores, checkRates } from './input.js';
import { type RocPointCollector, collect, dropIntermediate, sortScores } from './streaming-roc.js';

/** How TAR@FAR picks its ROC point. */
export type FarPolicy = 'strict' | 'nearest' | 'interpolated';

/** The true accept rate at one false accept rate target. */
export interface TarAtFar {
  /** The requested FAR. */
  readonly target: number;
  /** The true accept rate. */
  readonly tar: number;
  /** The false accept rate actually achieved at `threshold` (the target, for `'interpolated'`). */
  readonly far: number;
  /** The score threshold (accept when score ≥ threshold); +∞ when nothing is accepted. */
  readonly threshold: number;
  /** Impostor pairs accepted at the threshold (far × impostors; fractional for `'interpolated'`). */
  readonly falseAccepts: number;
}

interface Point {
  fpr: number;
  tpr: number;
  fps: number;
  threshold: number;
}

/** Streams the TAR@FAR of several targets under one policy. @internal */
export function tarAtFarCollector(targets: readonly number[], policy: FarPolicy, positives: number, negatives: number): RocPointCollector<TarAtFar[]> {
  const best: (Point | undefined)[] = targets.map(() => undefined);
  const bestDiff = targets.map(() => Number.POSITIVE_INFINITY);
  // 'interpolated': the last point with fpr ≤ target (the highest at that fpr, as np.interp takes).
  const below: Point[] = targets.map(() => ({ fpr: 0, tpr: 0, fps: 0, threshold: Number.POSITIVE_INFINITY }));
  const above: (Point | undefined)[] = targets.map(() => undefined);
  const consider = (p: Point) => {
    targets.forEach((target, k) => {
      if (policy === 'strict') {
        if (p.fpr <= target) best[k] = p; // points come in non-decreasing fpr and tpr
      } else if (policy === 'nearest') {
        // insightface: min over (|fpr − target|, index) of the flipped curve: on ties the later point wins.
        const d = Math.abs(p.fpr - target);
        if (d <= bestDiff[k]!) {
          bestDiff[k] = d;
          best[k] = p;
        }
      } else if (!above[k]) {
        if (p.fpr <= target) below[k] = p;
        else above[k] = p;
      }
    });
  };
  consider({ fpr: 0, tpr: 0, fps: 0, threshold: Number.POSITIVE_INFINITY });
  return {
    add: (fps, tps, threshold) => consider({ fpr: fps / negatives, tpr: tps / positives, fps, threshold }),
    result: () =>
      targets.map((target, k) => {
        if (policy === 'interpolated') {
          const a = below[k]!;
          const b = above[k];
          const lambda = b && a.fpr < target ? (target - a.fpr) / (b.fpr - a.fpr) : 0;
          return { target, tar: b ? a.tpr + lambda * (b.tpr - a.tpr) : a.tpr, far: target, threshold: a.threshold, falseAccepts: target * negatives };
        }
        const p = best[k]!;
        return { target, tar: p.tpr, far: p.fpr, threshold: p.threshold, falseAccepts: p.fps };
      }),
  };
}

/**
 * The true accept rate at false accept rate targets, with an explicit policy for picking the ROC
 * point:
 * - `'strict'` (default): the highest TAR among thresholds whose FAR ≤ target (full curve).
 * - `'nearest'`: the point of the `drop_intermediate` ROC whose FAR is nearest the target, ties
 *   to the higher point, exactly as insightface's IJB-B/C script computes it.
 * - `'interpolated'`: the TAR linearly interpolated at FAR = target on the full curve
 *   (`np.interp(target, fpr, tpr)`); `threshold` is that of the point just below.
 *
 * @param scores - similarity scores.
 * @param labels - 1 genuine, 0 impostor.
 * @param targets - FAR targets in (0, 1), e.g. `[1e-6, 1e-5, 1e-4]`.
 * @param options - the policy.
 * @returns one result per target, in order.
 *
 * @example
 * ```ts
 * import { tarAtFar } from '@marginkit/eval';
 * const [r] = tarAtFar([0.9, 0.8, 0.7, 0.6, 0.2], [1, 1, 0, 1, 0], [0.5]);
 * console.log(r!.tar, r!.far, r!.threshold); // 1 0.5 0.6
 * ```
 */
export function tarAtFar(scores: Scores, labels: BinaryLabels, targets: readonly number[], options: { readonly policy?: FarPolicy } = {}): TarAtFar[] {
  checkRates(targets, 'targets');
  const policy = checkPolicy(options.policy);
  const sorted = sortScores(scores, labels);
  const collector = tarAtFarCollector(targets, policy, sorted.positives, sorted.negatives);
  return collect(sorted, policy === 'nearest' ? dropIntermediate(collector) : collector);
}

/** The TAR@FAR policy, `'strict'` when undefined. @internal */
export function checkPolicy(policy: unknown): FarPolicy {
  if (policy === undefined) return 'strict';
  if (policy !== 'strict' && policy !== 'nearest' && policy !== 'interpolated') {
    throw new EvalInputError('policy', `must be 'strict', 'nearest' or 'interpolated', got ${JSON.stringify(policy)}`);
  }
  return policy;
}
