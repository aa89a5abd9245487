/**
 * `@marginkit/eval`: the numbers face-recognition papers report, from embeddings and labels, in
 * plain TypeScript over typed arrays (no tensor library; runs in browsers and Node).
 * Verification (ROC, AUC, EER, TAR@FAR with explicit policies, DET, intervals), the LFW 10-fold
 * and IJB-B/C protocols as insightface computes them, open-set identification (CMC, TPIR@FPIR),
 * retrieval (precision@1, R-precision, MAP@R), readers for the usual files, SVG plots.
 * The CLI and file helpers are in `@marginkit/eval/node`.
 *
 * @example
 * ```ts
 * import { verificationReport } from '@marginkit/eval';
 * const r = verificationReport(new Float64Array([0.9, 0.2, 0.7, 0.4]), [1, 0, 1, 0], { farTargets: [0.5] });
 * console.log(r.auc); // 1
 * ```
 *
 * @packageDocumentation
 */
export { MarginkitEvalError, type MarginkitEvalErrorCode, EvalInputError, EvalFileError, NotEnoughClassesError, ParseError } from './errors.js';
export { type EqualErrorRate, equalErrorRate } from './equal-error-rate.js';
export { type CmcPoint, type IdentificationOptions, type IdentificationResult, type TpirAtFpir, identification } from './identification.js';
export { type PoolOptions, type PooledTemplates, pairScores, poolTemplates } from './ijb.js';
export type { BinaryLabels, Scores } from './input.js';
export { type BinomialInterval, type IntervalMethod, binomialInterval, normalQuantile } from './intervals.js';
export { type Matrix, flipFusion, matrix, normalizeRows } from './matrix.js';
export {
  type AxisScale,
  type LinePlotOptions,
  type LineSeries,
  type PlotMarker,
  cmcPlotSvg,
  detPlotSvg,
  linePlotSvg,
  rocPlotSvg,
  scoreHistogramSvg,
} from './plots.js';
export type { ProgressCallback } from './progress.js';
export { type LfwOptions, type LfwResult, lfwTenFold, valThreshold } from './protocols.js';
export {
  type IjbFaceTidMid,
  type IjbIdentificationList,
  type IjbTemplatePairs,
  type LfwImage,
  type LfwPair,
  type LfwPairs,
  type NpyArray,
  parseIjbFaceTidMid,
  parseIjbIdentificationCsv,
  parseIjbTemplatePairs,
  parseLfwPairs,
  readNpy,
  writeNpy,
} from './readers.js';
export { type RetrievalResult, retrievalMetrics } from './retrieval.js';
export { type DetCurve, type RocCurve, auc, detCurve, rocCurve } from './roc-curve.js';
export { type FarPolicy, type TarAtFar, tarAtFar } from './tar-at-far.js';
export { type ThresholdAccuracy, accuracyAtThreshold } from './threshold-accuracy.js';
export { type IntervalOptions, type TarAtFarReport, type VerificationOptions, type VerificationReport, verificationReport } from './verification-report.js';
