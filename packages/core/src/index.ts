/**
 * `@marginkit/core`: the op set, the backend contract, the margin family (SphereFace, CosFace,
 * ArcFace, the combined margin and your own), the margin softmax loss and the config registry.
 * No runtime dependencies; pick a backend package to run it.
 *
 * @example
 * ```ts
 * import { arcface, marginSoftmaxLoss } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * const loss = marginSoftmaxLoss(tfjsBackend(tf), { margin: arcface({ m: 0.5 }), scale: 64 });
 * ```
 *
 * @packageDocumentation
 */
export { type Backend, type BackendCapabilities, assertBackend, isBackend } from './backend.js';
export { type Ops, createOps } from './create-ops.js';
export {
  BackendError,
  DTypeError,
  InternalError,
  InvalidArgumentError,
  InvalidBackendError,
  LabelError,
  MarginDomainError,
  type MarginkitArgumentErrorCode,
  MarginkitError,
  type MarginkitErrorCode,
  MarginkitRuntimeError,
  type MarginkitRuntimeErrorCode,
  NonFiniteError,
  RegistryError,
  ShapeError,
  UnsupportedOpError,
  shorten,
} from './errors.js';
export { FLOAT32_LIMITS, FLOAT32_MAX, FLOAT32_MIN_NORMAL } from './float32.js';
export {
  type ArgumentErrorClass,
  type Dims,
  type LabelValueOptions,
  type MatrixShapeOptions,
  type NumberRange,
  type PairShape,
  broadcastShapes,
  checkDataLength,
  checkDType,
  checkEmbeddingsAndCenters,
  checkFinite,
  checkFloat32Positive,
  checkLabelValues,
  checkLabelsShape,
  checkMatrixShape,
  checkNumber,
  checkShape,
  checkTypedArray,
  formatIndex,
  formatShape,
} from './input-checks.js';
export { cosineLogits } from './cosines.js';
export { marginLogits, marginSoftmaxLoss, marginSoftmaxStep } from './loss.js';
export {
  type ChunkedMarginStep,
  type ChunkedMarginStepOptions,
  type ChunkedStepCallOptions,
  type ChunkedStepResult,
  chunkedMarginSoftmaxStep,
  keepsLogits,
  readKeepLogits,
} from './chunked-loss.js';
export type { ChunkValue } from './chunk-inputs.js';
export { centerNorms } from './chunk-norms.js';
export {
  LogitsCache,
  type ClassShard,
  type ClassShardOptions,
  type ShardCallOptions,
  type ShardCoefficients,
  type ShardRows,
  type ShardStatisticsOptions,
  classShard,
  classShardRanges,
} from './class-shard.js';
export { type ChunkStatistics, type SoftmaxRows, emptyChunkStatistics, mergeChunkStatistics, softmaxRows } from './chunk-statistics.js';
export {
  type CosineLogitsOptions,
  DEFAULT_EPSILON,
  type Labels,
  type MarginLogitsOptions,
  type MarginLoss,
  type MarginSoftmaxLossOptions,
  type MarginStep,
  type MarginStepOptions,
  type MarginStepResult,
  type NormalizeOptions,
  type Reduction,
  type Validation,
} from './loss-types.js';
export { applyGradientPolicy, degrees, psi } from './angular-margin.js';
export {
  type ArcFaceOptions,
  type CombinedMarginOptions,
  type CosFaceOptions,
  type SphereFaceOptions,
  arcface,
  combinedMargin,
  cosface,
  noMargin,
  sphereface,
} from './builtin-margins.js';
export { composeMargins } from './compose-margins.js';
export { type MarginDefinition, defineMargin } from './define-margin.js';
export { type NumberDomain, readChoice, readNumber, readOptions } from './margin-options.js';
export type {
  FallbackPolicy,
  FeatureScale,
  GradientPolicy,
  JsonValue,
  Margin,
  MarginConfig,
  MarginContext,
  MarginInputSpec,
  MarginResult,
  MarginStateSpec,
  RandomSource,
  TargetContext,
} from './margin-types.js';
export {
  type CastAttrs,
  type ClipAttrs,
  type ConstantAttrs,
  type ConstantValues,
  type DType,
  type MatmulAttrs,
  type NoAttrs,
  OP_NAMES,
  Op,
  type OpAttrs,
  type OpConstants,
  type OneHotAttrs,
  type OpName,
  type OpSignature,
  type OpSignatures,
  type ReduceAttrs,
  type ReshapeAttrs,
  type TensorOps,
} from './ops.js';
export { OP_SPECS, type InputMetas, type OpInputs, type OpInputSpec, type OpSpec, type TensorMeta } from './op-specs.js';
export { type LossConfig, type MarginFactory, type Registry, createRegistry } from './registry.js';
