/**
 * `@marginkit/losses`: margin-softmax heads that own their class centres — `ArcFaceLoss`,
 * `CosFaceLoss`, `SphereFaceLoss`, `CombinedMarginLoss`, `NormFaceLoss` — and the catalogue:
 * sub-center ArcFace, Partial FC, AdaCos, CurricularFace, MagFace, AdaFace and ElasticFace, each a margin on
 * core's widened hook and a plugin on its registry. Heads save and restore centres, state and
 * generator, split and merge by class range, and ignore label −1. They run unchanged on every
 * marginkit backend.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { AdaFaceLoss } from '@marginkit/losses';
 * const head = new AdaFaceLoss(tfjsBackend(tf), { numClasses: 100, embeddingSize: 16 });
 * const optimizer = tf.train.sgd(0.1);
 * optimizer.minimize(() => head.loss(tf.randomNormal([8, 16]), [0, 1, 2, 3, 4, 5, 6, 7]));
 * ```
 *
 * @packageDocumentation
 */
export { type HeadCheckpoint, decodeCheckpoint, encodeCheckpoint, mergeCheckpoints, splitCheckpoint } from './checkpoint.js';
export type { ChunkedOptimizerCheckpoint, ChunkedTrainerCheckpoint } from './chunked-checkpoint.js';
export { ChunkedHeadTrainer, type ChunkedHeadTrainerOptions, type ChunkedTrainerStepResult } from './chunked-trainer.js';
export { type HeadCallOptions, type HeadConfig, type HeadOptions, type HeadTrainerParts, MarginHead, type MarginHeadOptions } from './head.js';
export {
  AdaCosLoss,
  AdaFaceLoss,
  ArcFaceLoss,
  CombinedMarginLoss,
  CosFaceLoss,
  CurricularFaceLoss,
  ElasticFaceLoss,
  type LossOptions,
  MagFaceLoss,
  NormFaceLoss,
  SphereFaceLoss,
  SubCenterArcFaceLoss,
} from './heads.js';
export type { CenterInit } from './init.js';
export { adacos } from './margins/adacos.js';
export { type AdaFaceOptions, adaface } from './margins/adaface.js';
export { type CurricularFaceOptions, curricularface } from './margins/curricularface.js';
export { type ElasticFaceOptions, elasticface } from './margins/elasticface.js';
export { type MagFaceOptions, magface, magfaceLambdaBound } from './margins/magface.js';
export {
  type PartialFCCheckpoint,
  type PartialFCConfig,
  PartialFCLoss,
  type PartialFCOptions,
  type PartialFCStepResult,
  sparseAdam,
  sparseSgd,
} from './partial-fc.js';
export { type SeededGenerator, seededGenerator } from './random.js';
export { CATALOGUE_TYPES, type HeadSpec, createHead, createLossRegistry, loadHead, registerCatalogue } from './registry.js';
export type { AdamStepCount, SparseAdam, SparseAdamOptions, SparseOptimizer, SparseSgd, SparseSgdOptions } from './sparse-optimizer.js';
export { type SubCenterOutlierInput, type SubCenterOutlierReport, subCenterOutliers } from './subcenter-outliers.js';
