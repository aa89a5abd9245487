import { EvalInputError } from './errors.js';
import { type BinaryLabels, type Scores, checkLabels, checkScores } from './input.js';

/** Counts and rates at one threshold. */
export interface ThresholdAccuracy {
  /** (TP + TN) / N. */
  readonly accuracy: number;
  /** True accept rate TP / P. */
  readonly tar: number;
  /** False accept rate FP / N_neg. */
  readonly far: number;
  /** Genuine pairs accepted. */
  readonly truePositives: number;
  /** Impostor pairs accepted. */
  readonly falsePositives: number;
  /** Impostor pairs rejected. */
  readonly trueNegatives: number;
  /** Genuine pairs rejected. */
  readonly falseNegatives: number;
}

/**
 * Accuracy and rates when pairs with score ≥ `threshold` are accepted as the same identity.
 *
 * @param scores - similarity scores.
 * @param labels - 1 genuine, 0 impostor.
 * @param threshold - the acceptance threshold.
 * @returns accuracy, TAR, FAR and the four counts.
 *
 * @example
 * ```ts
 * import { accuracyAtThreshold } from '@marginkit/eval';
 * console.log(accuracyAtThreshold([0.9, 0.8, 0.4, 0.3], [1, 0, 1, 0], 0.5).accuracy); // 0.5
 * ```
 */
export function accuracyAtThreshold(scores: Scores, labels: BinaryLabels, threshold: number): ThresholdAccuracy {
  const s = checkScores(scores);
  const l = checkLabels(labels, s.length);
  if (typeof threshold !== 'number' || Number.isNaN(threshold)) throw new EvalInputError('threshold', `must be a number, got ${String(threshold)}`);
  if (s.length === 0) throw new EvalInputError('scores', 'is empty');
  let tp = 0,
    fp = 0,
    tn = 0,
    fn = 0;
  for (let i = 0; i < s.length; i++) {
    const accept = s[i]! >= threshold;
    if (l[i]) accept ? tp++ : fn++;
    else accept ? fp++ : tn++;
  }
  return {
    accuracy: (tp + tn) / s.length,
    tar: tp + fn > 0 ? tp / (tp + fn) : Number.NaN,
    far: fp + tn > 0 ? fp / (fp + tn) : Number.NaN,
    truePositives: tp,
    falsePositives: fp,
    trueNegatives: tn,
    falseNegatives: fn,
  };
}
