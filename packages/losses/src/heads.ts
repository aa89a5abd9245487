import {
  type ArcFaceOptions,
  type Backend,
  type CombinedMarginOptions,
  type CosFaceOptions,
  InvalidArgumentError,
  type Margin,
  type SphereFaceOptions,
  arcface,
  combinedMargin,
  cosface,
  noMargin,
  sphereface,
} from '@marginkit/core';
import { type HeadOptions, MarginHead, type MarginHeadOptions } from './head.js';
import { adacos } from './margins/adacos.js';
import { type AdaFaceOptions, adaface } from './margins/adaface.js';
import { type CurricularFaceOptions, curricularface } from './margins/curricularface.js';
import { type ElasticFaceOptions, elasticface } from './margins/elasticface.js';
import { type MagFaceOptions, magface } from './margins/magface.js';

/** Head options plus the margin's options (or, where the margin has one parameter, that number). */
export interface LossOptions<M> extends HeadOptions {
  /** The margin's options; a number is the margin's `m`. Defaults as the margin factory's. */
  readonly margin?: M;
}

function withMargin<M>(owner: string, options: LossOptions<M>, build: (m: M | undefined) => Margin): MarginHeadOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${owner}.options`, 'expected { numClasses, embeddingSize, ... }');
  const { margin, ...rest } = options;
  return { ...rest, margin: build(margin) };
}

const mOf = <O extends object>(m: number | O | undefined): O | { m: number } | undefined => (typeof m === 'number' ? { m } : m);

/**
 * ArcFace (Deng et al., CVPR 2019) with its own centres: target cos(θ_y + m). See core's `arcface`.
 * `margin` is m in radians (pytorch-metric-learning takes degrees: use `degrees(28.6)`) or
 * {@link ArcFaceOptions}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { ArcFaceLoss } from '@marginkit/losses';
 * const loss = new ArcFaceLoss(tfjsBackend(tf), { numClasses: 10, embeddingSize: 8, margin: 0.5, scale: 64 });
 * const value: tf.Scalar = loss.loss(tf.randomNormal([4, 8]), [1, 2, 3, -1]); // −1: ignored
 * console.log(value.shape); // []
 * ```
 */
export class ArcFaceLoss<T, S extends T = T> extends MarginHead<T, S> {
  /** @param backend - the backend. @param options - head options; `margin`: m or {@link ArcFaceOptions}. */
  constructor(backend: Backend<T, S>, options: LossOptions<number | ArcFaceOptions>) {
    super(
      backend,
      withMargin('ArcFaceLoss', options, (m) => arcface(mOf(m))),
    );
  }
}

/**
 * CosFace / AM-Softmax (Wang et al., CVPR 2018) with its own centres: target c_y − m.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { CosFaceLoss } from '@marginkit/losses';
 * const loss = new CosFaceLoss(tfjsBackend(tf), { numClasses: 10, embeddingSize: 8, margin: 0.35, scale: 30 });
 * console.log(loss.margin.config.m); // 0.35
 * ```
 */
export class CosFaceLoss<T, S extends T = T> extends MarginHead<T, S> {
  /** @param backend - the backend. @param options - head options; `margin`: m or {@link CosFaceOptions}. */
  constructor(backend: Backend<T, S>, options: LossOptions<number | CosFaceOptions>) {
    super(
      backend,
      withMargin('CosFaceLoss', options, (m) => cosface(mOf(m))),
    );
  }
}

/**
 * SphereFace / A-Softmax (Liu et al., CVPR 2017) with its own centres: target ψ(m·θ_y).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { SphereFaceLoss } from '@marginkit/losses';
 * const loss = new SphereFaceLoss(tfjsBackend(tf), { numClasses: 10, embeddingSize: 8, margin: { m: 1.35, lambda: 5 } });
 * console.log(loss.margin.type); // 'sphereface'
 * ```
 */
export class SphereFaceLoss<T, S extends T = T> extends MarginHead<T, S> {
  /** @param backend - the backend. @param options - head options; `margin`: m or {@link SphereFaceOptions}. */
  constructor(backend: Backend<T, S>, options: LossOptions<number | SphereFaceOptions>) {
    super(
      backend,
      withMargin('SphereFaceLoss', options, (m) => sphereface(mOf(m))),
    );
  }
}

/**
 * InsightFace's combined margin with its own centres: target cos(m1·θ_y + m2) − m3; the paper's
 * CM1 is (1, 0.3, 0.2), CM2 (0.9, 0.4, 0.15).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { CombinedMarginLoss } from '@marginkit/losses';
 * const cm2 = new CombinedMarginLoss(tfjsBackend(tf), { numClasses: 10, embeddingSize: 8, margin: { m1: 0.9, m2: 0.4, m3: 0.15 } });
 * console.log(cm2.margin.config.m1); // 0.9
 * ```
 */
export class CombinedMarginLoss<T, S extends T = T> extends MarginHead<T, S> {
  /** @param backend - the backend. @param options - head options; `margin`: {@link CombinedMarginOptions}. */
  constructor(backend: Backend<T, S>, options: LossOptions<CombinedMarginOptions>) {
    super(
      backend,
      withMargin('CombinedMarginLoss', options, (m) => combinedMargin(m)),
    );
  }
}

/**
 * NormFace / normalised softmax (Wang et al., ACM MM 2017) with its own centres: no margin, the
 * baseline every margin is compared with.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { NormFaceLoss } from '@marginkit/losses';
 * console.log(new NormFaceLoss(tfjsBackend(tf), { numClasses: 3, embeddingSize: 2, scale: 16 }).margin.type); // 'none'
 * ```
 */
export class NormFaceLoss<T, S extends T = T> extends MarginHead<T, S> {
  /** @param backend - the backend. @param options - head options (no margin). */
  constructor(backend: Backend<T, S>, options: HeadOptions) {
    super(backend, { ...options, margin: noMargin() });
  }
}

/**
 * Sub-center ArcFace (Deng et al., ECCV 2020): K centres per class (default 3), the cosine of a
 * class is the max over its K, then ArcFace. Centre row c·K + k is sub-centre k of class c, as in
 * insightface. After training, {@link subCenterOutliers} finds the noisy samples.
 *
 * Reference code: deepinsight/insightface `recognition/subcenter_arcface`, checked at
 * 7fadd420c2351d0ffa8cac403421c1a3ed733365.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { SubCenterArcFaceLoss } from '@marginkit/losses';
 * const loss = new SubCenterArcFaceLoss(tfjsBackend(tf), { numClasses: 10, embeddingSize: 8, subCenters: 3 });
 * console.log(loss.centers.shape, loss.logits(tf.randomNormal([2, 8])).shape); // [30, 8] [2, 10]
 * ```
 */
export class SubCenterArcFaceLoss<T, S extends T = T> extends MarginHead<T, S> {
  /** @param backend - the backend. @param options - head options (`subCenters` default 3); `margin`: m or {@link ArcFaceOptions}. */
  constructor(backend: Backend<T, S>, options: LossOptions<number | ArcFaceOptions>) {
    super(
      backend,
      withMargin('SubCenterArcFaceLoss', { subCenters: 3, ...options }, (m) => arcface(mOf(m))),
    );
  }
}

/**
 * AdaCos (Zhang et al., CVPR 2019) with its own centres: no margin and a dynamic scale kept as
 * state; see {@link adacos}. It takes no `scale` (the scale is what it learns).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { AdaCosLoss } from '@marginkit/losses';
 * const loss = new AdaCosLoss(tfjsBackend(tf), { numClasses: 11, embeddingSize: 8 });
 * console.log(loss.state['s']![0]!.toFixed(3)); // '3.256' = √2·ln 10
 * ```
 */
export class AdaCosLoss<T, S extends T = T> extends MarginHead<T, S> {
  /** @param backend - the backend. @param options - head options without `scale`. */
  constructor(backend: Backend<T, S>, options: Omit<HeadOptions, 'scale'>) {
    if (typeof options === 'object' && options !== null && 'scale' in options) {
      throw new InvalidArgumentError('AdaCosLoss.options.scale', 'AdaCos adapts its scale itself (state s); remove scale');
    }
    super(backend, { ...options, margin: adacos() });
  }
}

/**
 * CurricularFace (Huang et al., CVPR 2020) with its own centres; see {@link curricularface}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { CurricularFaceLoss } from '@marginkit/losses';
 * const loss = new CurricularFaceLoss(tfjsBackend(tf), { numClasses: 10, embeddingSize: 8 });
 * loss.loss(tf.randomNormal([4, 8]), [0, 1, 2, 3]);
 * console.log(loss.state['t']![0]! !== 0); // true: t moved towards the mean target cosine
 * ```
 */
export class CurricularFaceLoss<T, S extends T = T> extends MarginHead<T, S> {
  /** @param backend - the backend. @param options - head options; `margin`: m or {@link CurricularFaceOptions}. */
  constructor(backend: Backend<T, S>, options: LossOptions<number | CurricularFaceOptions>) {
    super(
      backend,
      withMargin('CurricularFaceLoss', options, (m) => curricularface(mOf(m))),
    );
  }
}

/**
 * MagFace (Meng et al., CVPR 2021) with its own centres; see {@link magface}. The constructor checks
 * that λ_g is at least {@link magfaceLambdaBound} for its scale, as the reference's trainer does
 * (the margin's `checkLossOptions`, which every loss built with it runs).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { MagFaceLoss } from '@marginkit/losses';
 * try {
 *   new MagFaceLoss(tfjsBackend(tf), { numClasses: 10, embeddingSize: 8, margin: { lambdaG: 20 } });
 * } catch (e) {
 *   console.log((e as Error).message); // magface.lambdaG: must be at least 22.587 ...
 * }
 * ```
 */
export class MagFaceLoss<T, S extends T = T> extends MarginHead<T, S> {
  /** @param backend - the backend. @param options - head options; `margin`: {@link MagFaceOptions}. */
  constructor(backend: Backend<T, S>, options: LossOptions<MagFaceOptions>) {
    super(
      backend,
      withMargin('MagFaceLoss', options, (m) => magface(m)),
    );
  }
}

/**
 * AdaFace (Kim et al., CVPR 2022) with its own centres; see {@link adaface}. Its state (μ, σ of the
 * norms) is saved and restored with the head.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { AdaFaceLoss } from '@marginkit/losses';
 * const loss = new AdaFaceLoss(tfjsBackend(tf), { numClasses: 10, embeddingSize: 8, margin: { m: 0.4, h: 0.333 } });
 * loss.loss(tf.randomNormal([4, 8]), [0, 1, 2, 3]);
 * console.log(Object.keys(loss.state)); // ['batchMean', 'batchStd']
 * ```
 */
export class AdaFaceLoss<T, S extends T = T> extends MarginHead<T, S> {
  /** @param backend - the backend. @param options - head options; `margin`: {@link AdaFaceOptions}. */
  constructor(backend: Backend<T, S>, options: LossOptions<AdaFaceOptions>) {
    super(
      backend,
      withMargin('AdaFaceLoss', options, (m) => adaface(m)),
    );
  }
}

/**
 * ElasticFace (Boutros et al., CVPRW 2022) with its own centres; see {@link elasticface}. The
 * margins are drawn from the head's seeded generator, whose state is saved with the head.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { ElasticFaceLoss } from '@marginkit/losses';
 * const loss = new ElasticFaceLoss(tfjsBackend(tf), { numClasses: 10, embeddingSize: 8, seed: 1, margin: { variant: 'arc', plus: true } });
 * console.log(loss.loss(tf.randomNormal([4, 8]), [0, 1, 2, 3]).shape); // []
 * ```
 */
export class ElasticFaceLoss<T, S extends T = T> extends MarginHead<T, S> {
  /** @param backend - the backend. @param options - head options; `margin`: {@link ElasticFaceOptions}. */
  constructor(backend: Backend<T, S>, options: LossOptions<ElasticFaceOptions>) {
    super(
      backend,
      withMargin('ElasticFaceLoss', options, (m) => elasticface(m)),
    );
  }
}
