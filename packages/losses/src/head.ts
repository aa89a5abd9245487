import {
  type Backend,
  InvalidArgumentError,
  type Labels,
  type Margin,
  type MarginConfig,
  type MarginStep,
  type MarginStepResult,
  checkFinite,
  type Ops,
  ShapeError,
  DTypeError,
  type RandomSource,
  cosineLogits,
  createOps,
  marginSoftmaxStep,
  readChoice,
  readOptions,
} from '@marginkit/core';
import { type HeadCheckpoint, checkCheckpoint } from './checkpoint.js';
import { type CenterInit, initialCenters, readInit } from './init.js';
import { type SeededGenerator, seededGenerator } from './random.js';
import { liveTensorDtype, positiveInteger, readIgnoreIndex, readScaleAndEpsilons, readSeed } from './read.js';

/** Options every head takes (the margin's own options come with each loss class). */
export interface HeadOptions {
  /** C, the number of classes (identities), ≥ 1. */
  readonly numClasses: number;
  /** D, the embedding dimension, ≥ 1. */
  readonly embeddingSize: number;
  /** The scale s > 0 of the logits. Default 64. */
  readonly scale?: number;
  /** `'mean'` (default, over the rows that count) or `'sum'`. */
  readonly reduction?: 'mean' | 'sum';
  /** K, sub-centres per class: the head owns C·K centres. Default 1. */
  readonly subCenters?: number;
  /** How the centres start. Default `{ kind: 'normal', std: 0.01 }`. */
  readonly init?: CenterInit;
  /** The seed of the head's generator (centre initialisation, per-step random inputs). Default 0. */
  readonly seed?: number;
  /** Rows labelled −1 are ignored (insightface's convention) unless this is `null`. Default −1. */
  readonly ignoreIndex?: -1 | null;
  /** The acos clamp ε; default 2⁻²³. */
  readonly epsilon?: number;
  /** The L2 normalisation eps; default 1e-12. */
  readonly normEpsilon?: number;
  /** `'full'` (default) or `'shapes'`: what is checked per call (see core's `Validation`). */
  readonly validate?: 'full' | 'shapes';
}

/** Options of {@link MarginHead}: the head options and any margin. */
export interface MarginHeadOptions extends HeadOptions {
  /** The margin, built-in (`arcface()`), from the catalogue (`adaface()`), or your own (`defineMargin`). */
  readonly margin: Margin;
}

/** A head's JSON config: what rebuilds it through {@link createHead}, stored in every checkpoint. */
export interface HeadConfig {
  /** The margin's config, e.g. `{ type: 'arcface', m: 0.5, fallback: 'linear', gradient: 'exact' }`. */
  readonly margin: MarginConfig;
  /** C. */
  readonly numClasses: number;
  /** D. */
  readonly embeddingSize: number;
  /** K. */
  readonly subCenters: number;
  /** s. */
  readonly scale: number;
  /** The reduction. */
  readonly reduction: 'mean' | 'sum';
  /** −1, or null when no label is ignored. */
  readonly ignoreIndex: -1 | null;
  /** The acos clamp ε. */
  readonly epsilon: number;
  /** The L2 normalisation eps. */
  readonly normEpsilon: number;
}

/** The options every head reads the same way, checked: see {@link readHeadBasics}. @internal */
export interface HeadBasics {
  readonly margin: Margin;
  /** The head's JSON config. */
  readonly config: HeadConfig;
  /** The loss options for `marginSoftmaxStep` / `chunkedMarginSoftmaxStep` (without `classChunk`). */
  readonly loss: {
    readonly margin: Margin;
    readonly reduction: 'mean' | 'sum';
    readonly subCenters: number;
    readonly scale: number;
    readonly epsilon: number;
    readonly normEpsilon: number;
    readonly validate: 'full' | 'shapes';
    readonly ignoreIndex?: -1;
  };
  readonly init: CenterInit;
  readonly seed: number;
}

/**
 * Reads the options a {@link MarginHead} and a chunked trainer share (numClasses, embeddingSize,
 * subCenters, seed, margin, scale, epsilons, ignoreIndex, reduction, init, validate), each checked
 * with a typed error naming `options.<key>`. @internal
 */
export function readHeadBasics(o: Readonly<Record<string, unknown>>): HeadBasics {
  const numClasses = positiveInteger('options.numClasses', o['numClasses']);
  const embeddingSize = positiveInteger('options.embeddingSize', o['embeddingSize']);
  const subCenters = positiveInteger('options.subCenters', o['subCenters'], 1);
  const seed = readSeed('options.seed', o['seed']);
  const margin = o['margin'] as Margin | undefined;
  if (typeof margin !== 'object' || margin === null || typeof margin.transform !== 'function') {
    throw new InvalidArgumentError('options.margin', 'expected a margin such as arcface(), adaface() or defineMargin(...)');
  }
  const { scale, epsilon, normEpsilon } = readScaleAndEpsilons(o);
  const ignoreIndex = readIgnoreIndex('options.ignoreIndex', o['ignoreIndex']);
  const reduction = readChoice('options.reduction', o['reduction'], 'mean', ['mean', 'sum']);
  const init = readInit('options.init', o['init']);
  const validate = readChoice('options.validate', o['validate'], 'full', ['full', 'shapes']);
  const config: HeadConfig = { margin: margin.config, numClasses, embeddingSize, subCenters, scale, reduction, ignoreIndex, epsilon, normEpsilon };
  const loss = { margin, reduction, subCenters, scale, epsilon, normEpsilon, validate, ...(ignoreIndex === null ? {} : { ignoreIndex }) };
  return { margin, config, loss, init, seed };
}

/** Options of one call of a head. */
export interface HeadCallOptions {
  /**
   * A training step: the margin's state advances (on eager backends) and per-step inputs are drawn
   * from the head's generator. Default true. Evaluation calls (`false`) keep both, and draw the
   * inputs noiselessly (ElasticFace uses its mean margin).
   */
  readonly training?: boolean;
}

/** What {@link MarginHead.trainerOptions} returns: the head as `headTrainer` (backend-ort) takes it. */
export interface HeadTrainerParts<T> {
  /** The stateful loss step. */
  readonly loss: MarginStep<T>;
  /** A copy of the centres, row-major [rows, D]. */
  readonly centers: Float32Array;
  /** Rows of the centres, C·K. */
  readonly classes: number;
  /** D. */
  readonly dim: number;
  /** The margin's current state. */
  readonly state: Readonly<Record<string, Float32Array>>;
  /** Draws the margin's per-step inputs for a batch, from the head's generator. */
  readonly inputs: (batch: number) => Record<string, Float32Array>;
}

const HEAD_KEYS = ['numClasses', 'embeddingSize', 'scale', 'reduction', 'subCenters', 'init', 'seed', 'ignoreIndex', 'epsilon', 'normEpsilon', 'validate'];

/**
 * A margin-softmax head that owns its class centres: the loss classes of this package
 * (`ArcFaceLoss`, `AdaFaceLoss`, …) are this with their margin; use it directly for a margin of
 * your own. Called as `head.loss(embeddings, labels)` (a scalar, typed `tf.Scalar` on tfjs), with
 * `head.logits(embeddings)` for inference. It keeps the margin's state (AdaFace's μ/σ,
 * CurricularFace's t, AdaCos's s) and its seeded generator, and saves and restores both with the
 * centres, so a restored head continues exactly where the saved one stopped.
 *
 * On eager backends (tfjs) a training call advances the state; on a symbolic backend (ORT) the
 * call traces, and training goes through backend-ort's `headTrainer` with
 * {@link MarginHead.trainerOptions}, which carries the state as graph inputs and outputs.
 *
 * @typeParam T - the backend's tensor type.
 * @typeParam S - the backend's scalar type.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { cosface } from '@marginkit/core';
 * import { MarginHead } from '@marginkit/losses';
 * const head = new MarginHead(tfjsBackend(tf), { margin: cosface({ m: 0.35 }), numClasses: 4, embeddingSize: 8, scale: 16 });
 * const optimizer = tf.train.sgd(0.1);
 * const x = tf.randomNormal([6, 8], 0, 1, 'float32', 3);
 * const loss = optimizer.minimize(() => head.loss(x, [0, 1, 2, 3, 0, 1]), true)!;
 * console.log(loss.shape, head.logits(x).shape); // [] [6, 4]
 * ```
 */
export class MarginHead<T, S extends T = T> {
  /** The backend the head runs on. */
  readonly backend: Backend<T, S>;
  /** The margin. */
  readonly margin: Margin;
  /** The head's JSON config. */
  readonly config: HeadConfig;
  readonly #ops: Ops<T>;
  readonly #step: MarginStep<T>;
  readonly #cosines: (embeddings: T, centers: T) => T;
  #centers: T;
  #state: Record<string, Float32Array>;
  #random: SeededGenerator;

  /**
   * @param backend - the backend, e.g. `tfjsBackend(tf)` or `ortBackend(ort)`.
   * @param options - the margin and the head options; see {@link MarginHeadOptions}.
   */
  constructor(backend: Backend<T, S>, options: MarginHeadOptions) {
    const o = readOptions('options', options, ['margin', ...HEAD_KEYS]);
    const { margin, config, loss, init, seed } = readHeadBasics(o);
    const { numClasses, embeddingSize, subCenters } = config;
    this.#step = marginSoftmaxStep(backend, loss);
    this.backend = backend;
    this.margin = margin;
    this.#ops = createOps(backend);
    this.#cosines = cosineLogits(backend, { subCenters, normEpsilon: loss.normEpsilon, validate: loss.validate });
    this.config = config;
    this.#random = seededGenerator(seed, 'options.seed');
    this.#centers = this.#tensor(initialCenters(init, numClasses * subCenters, embeddingSize, this.#random));
    this.#state = Object.fromEntries(Object.entries(this.#step.initialState(numClasses)).map(([k, v]) => [k, v.data]));
  }

  /** C, the number of classes. */
  get numClasses(): number {
    return this.config.numClasses;
  }

  /** D, the embedding dimension. */
  get embeddingSize(): number {
    return this.config.embeddingSize;
  }

  /** K, the sub-centres per class. */
  get subCenters(): number {
    return this.config.subCenters;
  }

  /** The rows of the centres, C·K. */
  get rows(): number {
    return this.config.numClasses * this.config.subCenters;
  }

  /** The stateful loss step this head calls (for tracing and trainers). */
  get step(): MarginStep<T> {
    return this.#step;
  }

  /**
   * The loss of a batch: `embeddings` [B, D], `labels` [B] (class indices; −1 ignored). On a
   * training call (the default) the margin's state advances on eager backends.
   *
   * @param embeddings - float32 [B, D].
   * @param labels - an int32 tensor [B], an `Int32Array` or an array of integers.
   * @param options - `training` (default true).
   * @returns the reduced loss, typed as the backend's scalar.
   */
  loss(embeddings: T, labels: Labels<T>, options: HeadCallOptions = {}): S {
    const result = this.forward(embeddings, labels, options);
    const training = options.training ?? true;
    if (training && this.backend.readSync && this.backend.supports.eagerValues) {
      for (const key of Object.keys(this.#state)) this.#state[key] = Float32Array.from(this.backend.readSync(result.state[key]!));
    }
    return this.backend.asScalar ? this.backend.asScalar(result.loss) : (result.loss as S);
  }

  /**
   * The whole step without keeping its state: loss, per-sample losses, auxiliary loss and the
   * next state as tensors. Draws the margin's per-step inputs from the head's generator.
   *
   * @param embeddings - float32 [B, D].
   * @param labels - [B].
   * @param options - `training` (default true).
   * @returns the step's result.
   */
  forward(embeddings: T, labels: Labels<T>, options: HeadCallOptions = {}): MarginStepResult<T> {
    const ops = this.#ops;
    const training = readOptions('options', options, ['training'])['training'] ?? true;
    if (typeof training !== 'boolean') throw new InvalidArgumentError('options.training', `must be a boolean, got ${typeof training}`);
    const specs = this.margin.state ?? {};
    const state = Object.fromEntries(Object.entries(this.#state).map(([k, v]) => [k, ops.constant(v, specs[k]!.shape)]));
    this.#checkEmbeddings(embeddings);
    const inputs: Record<string, T> = {};
    const wanted = Object.keys(this.margin.inputs ?? {});
    if (wanted.length > 0) {
      const batch = this.backend.shape(embeddings)[0]!;
      if (batch < 0)
        throw new ShapeError('embeddings', "needs a known batch size to draw the margin's per-step inputs (or use trainerOptions on a symbolic backend)");
      // Evaluation draws from a noiseless source (normal() = 0: ElasticFace's mean margin) and leaves the generator alone.
      const drawn = training ? this.#sample(batch) : this.#sample(batch, NOISELESS);
      for (const [k, v] of Object.entries(drawn)) inputs[k] = ops.constant(v, [batch]);
    }
    return this.#step(embeddings, this.#centers, labels, { state, inputs, training });
  }

  /**
   * Inference: the cosines [B, C] between the embeddings and the class centres (with sub-centres,
   * the max over each class's K). No margin, no state.
   *
   * @param embeddings - float32 [B, D].
   * @returns cosines [B, C].
   */
  logits(embeddings: T): T {
    this.#checkEmbeddings(embeddings);
    return this.#cosines(embeddings, this.#centers);
  }

  /** The centres [C·K, D], a backend tensor (on tfjs a `tf.Variable` that optimizers update). */
  get centers(): T {
    return this.#centers;
  }

  /**
   * Replaces the centres with a copy of a [C·K, D] row-major `Float32Array`, or of a float32
   * tensor on backends that read values synchronously (tfjs); finite values only. The head keeps
   * its own trainable copy, so the caller's tensor stays the caller's.
   */
  set centers(value: T | Float32Array) {
    if (value instanceof Float32Array) {
      this.#checkCenters(value);
      this.#replace(this.#tensor(Float32Array.from(value)));
      return;
    }
    const b = this.backend;
    const dtype = liveTensorDtype(b, 'centers', value, `[${this.rows}, ${this.embeddingSize}] or a Float32Array`);
    const shape = b.shape(value);
    if (shape.length !== 2 || shape[0] !== this.rows || shape[1] !== this.embeddingSize) {
      throw new ShapeError('centers', `expected [${this.rows}, ${this.embeddingSize}], got [${shape.join(', ')}]`);
    }
    if (dtype !== 'float32') throw new DTypeError('centers', `expected float32, got ${dtype}`);
    if (!b.readSync || !b.supports.eagerValues) throw new InvalidArgumentError('centers', `on the ${b.name} backend, set the centres from a Float32Array`);
    const values = Float32Array.from(b.readSync(value));
    this.#checkCenters(values);
    this.#replace(this.#tensor(values));
  }

  /** The margin's state: one `Float32Array` per entry (copies). */
  get state(): Readonly<Record<string, Float32Array>> {
    return Object.fromEntries(Object.entries(this.#state).map(([k, v]) => [k, Float32Array.from(v)]));
  }

  /** Replaces the margin's state; every entry, of its shape, finite. */
  set state(value: Readonly<Record<string, ArrayLike<number>>>) {
    this.#state = this.#checkState('state', value);
  }

  /** The generator's state (four integers), saved with the head. */
  get randomState(): number[] {
    return this.#random.state();
  }

  /**
   * A checkpoint of the whole head: config, centres, the margin's state and the generator's
   * state. Encode it with `encodeCheckpoint` to store it.
   *
   * @returns the checkpoint (classes [0, C)).
   */
  async save(): Promise<HeadCheckpoint> {
    const centers = await this.#readCenters();
    const specs = this.margin.state ?? {};
    return {
      format: 'marginkit-head',
      version: 1,
      config: this.config,
      classRange: [0, this.numClasses],
      centers,
      state: Object.fromEntries(Object.entries(this.#state).map(([k, v]) => [k, { shape: [...specs[k]!.shape], data: Array.from(v) }])),
      random: this.#random.state(),
    };
  }

  /**
   * Restores a checkpoint saved by a head of the same config (margin, C, D, K) and covering every
   * class. Everything is checked before anything changes: a failed load leaves the head as it was.
   *
   * @param checkpoint - a checkpoint (from `save`, `decodeCheckpoint` or `mergeCheckpoints`).
   */
  load(checkpoint: HeadCheckpoint): void {
    const c = checkCheckpoint('checkpoint', checkpoint);
    const mine = JSON.stringify(this.config);
    if (JSON.stringify(c.config) !== mine) {
      throw new InvalidArgumentError('checkpoint.config', `does not match this head: checkpoint ${JSON.stringify(c.config)}, head ${mine}`);
    }
    if (c.classRange[0] !== 0 || c.classRange[1] !== this.numClasses) {
      throw new ShapeError(
        'checkpoint.classRange',
        `is a shard [${c.classRange.join(', ')}); merge the shards (mergeCheckpoints) to load all ${this.numClasses} classes`,
      );
    }
    this.#checkCenters(c.centers);
    const specs = this.margin.state ?? {};
    for (const [k, v] of Object.entries(c.state)) {
      const spec = specs[k];
      if (spec && (v.shape.length !== spec.shape.length || v.shape.some((d, i) => d !== spec.shape[i]))) {
        throw new ShapeError(`checkpoint.state.${k}`, `has shape [${v.shape.join(', ')}], margin '${this.margin.type}' needs [${spec.shape.join(', ')}]`);
      }
    }
    const state = this.#checkState('checkpoint.state', Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, v.data])));
    const random = seededGenerator(c.random, 'checkpoint.random');
    this.#replace(this.#tensor(c.centers));
    this.#state = state;
    this.#random = random;
  }

  /**
   * The head as backend-ort's `headTrainer` takes it:
   * `headTrainer(backend, { ...(await head.trainerOptions()), optimizer })`. The trainer then owns
   * centres and state; copy them back with `head.centers = trainer.centers()` and
   * `head.state = trainer.state()`.
   *
   * @returns the step, a copy of the centres, sizes, state and the input sampler.
   */
  async trainerOptions(): Promise<HeadTrainerParts<T>> {
    return {
      loss: this.#step,
      centers: await this.#readCenters(),
      classes: this.rows,
      dim: this.embeddingSize,
      state: this.state,
      inputs: (batch) => this.#sample(batch),
    };
  }

  /** Releases the centres (tfjs: disposes the variable). */
  dispose(): void {
    this.backend.disposeTensor?.(this.#centers);
  }

  #sample(batch: number, random: RandomSource = this.#random): Record<string, Float32Array> {
    if (!Number.isInteger(batch) || batch < 1) throw new InvalidArgumentError('batch', `must be a positive integer, got ${batch}`);
    return Object.fromEntries(Object.entries(this.margin.inputs ?? {}).map(([k, spec]) => [k, spec.sample(batch, random)]));
  }

  #checkEmbeddings(embeddings: T): void {
    const b = this.backend;
    liveTensorDtype(b, 'embeddings', embeddings, `[B, ${this.embeddingSize}]`);
    const shape = b.shape(embeddings);
    if (shape.length !== 2 || (shape[1]! >= 0 && shape[1] !== this.embeddingSize)) {
      throw new ShapeError('embeddings', `expected [B, ${this.embeddingSize}] (the head's embeddingSize), got [${shape.join(', ')}]`);
    }
  }

  #tensor(values: Float32Array): T {
    const shape = [this.rows, this.embeddingSize];
    return this.backend.variable ? this.backend.variable(values, shape) : this.#ops.constant(values, shape);
  }

  #replace(next: T): void {
    if (next !== this.#centers) this.backend.disposeTensor?.(this.#centers);
    this.#centers = next;
  }

  async #readCenters(): Promise<Float32Array> {
    const b = this.backend;
    const values = b.read ? await b.read(this.#centers) : b.readSync?.(this.#centers);
    if (values === undefined) throw new InvalidArgumentError('backend', `backend '${b.name}' can read no tensor values (neither read nor readSync)`);
    return Float32Array.from(values);
  }

  #checkCenters(values: Float32Array): void {
    if (values.length !== this.rows * this.embeddingSize) {
      throw new ShapeError(
        'centers',
        `has ${values.length} values but [C·K, D] = [${this.rows}, ${this.embeddingSize}] needs ${this.rows * this.embeddingSize}`,
      );
    }
    checkFinite('centers', values, [this.rows, this.embeddingSize]);
  }

  #checkState(argument: string, value: unknown): Record<string, Float32Array> {
    const specs = this.margin.state ?? {};
    const given = readOptions(argument, value, Object.keys(specs));
    const out: Record<string, Float32Array> = {};
    for (const [key, spec] of Object.entries(specs)) {
      const v = given[key] as ArrayLike<number> | undefined;
      const size = spec.shape.reduce((p, d) => p * d, 1);
      if (v === undefined || typeof v !== 'object' || v.length !== size) {
        throw new ShapeError(
          `${argument}.${key}`,
          `margin '${this.margin.type}' needs ${size} value(s) of shape [${spec.shape.join(', ')}], got ${v === undefined ? 'none' : typeof v === 'object' ? v.length : typeof v}`,
        );
      }
      const data = Float32Array.from(v);
      checkFinite(`${argument}.${key}`, data, spec.shape);
      out[key] = data;
    }
    return out;
  }
}

/** A random source without noise: evaluation calls draw a margin's inputs from it (normal() = 0, uniform() = ½). */
const NOISELESS: RandomSource = { normal: () => 0, uniform: () => 0.5 };
