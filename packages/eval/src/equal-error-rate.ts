import type { BinaryLabels, Scores } from './input.js';
import { type RocPointCollector, collect, sortScores } from './streaming-roc.js';

/** The equal error rate and where it is reached. */
export interface EqualErrorRate {
  /** The rate at which FAR = FRR on the (linearly interpolated) ROC. */
  readonly eer: number;
  /** The threshold of the ROC point nearest the crossing. */
  readonly threshold: number;
}

/** Streams the EER: the crossing of the ROC polyline with tpr = 1 − fpr. @internal */
export function eerCollector(positives: number, negatives: number): RocPointCollector<EqualErrorRate> {
  let prev = { fpr: 0, tpr: 0, threshold: Number.POSITIVE_INFINITY, g: 1 };
  let result: EqualErrorRate | undefined;
  return {
    add(fps, tps, threshold) {
      if (result) return;
      const fpr = fps / negatives;
      const tpr = tps / positives;
      const g = 1 - fpr - tpr; // decreasing along the curve
      if (g <= 0) {
        const lambda = prev.g - g > 0 ? prev.g / (prev.g - g) : 0;
        result = { eer: prev.fpr + lambda * (fpr - prev.fpr), threshold: Math.abs(g) < Math.abs(prev.g) ? threshold : prev.threshold };
      }
      prev = { fpr, tpr, threshold, g };
    },
    result() {
      return result ?? { eer: prev.fpr, threshold: prev.threshold };
    },
  };
}

/**
 * The equal error rate: where the linearly interpolated ROC meets tpr = 1 − fpr (FAR = FRR),
 * the value `brentq(lambda x: 1 - x - interp1d(fpr, tpr)(x), 0, 1)` gives.
 *
 * @param scores - similarity scores.
 * @param labels - 1 genuine, 0 impostor.
 * @returns the EER and a threshold near it.
 *
 * @example
 * ```ts
 * import { equalErrorRate } from '@marginkit/eval';
 * console.log(equalErrorRate([0.9, 0.8, 0.4, 0.3], [1, 0, 1, 0]).eer); // 0.5
 * ```
 */
export function equalErrorRate(scores: Scores, labels: BinaryLabels): EqualErrorRate {
  const sorted = sortScores(scores, labels);
  return collect(sorted, eerCollector(sorted.positives, sorted.negatives));
}
