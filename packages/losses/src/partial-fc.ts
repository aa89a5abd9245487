import {
  type Backend,
  BackendError,
  DTypeError,
  InvalidArgumentError,
  InvalidBackendError,
  type Margin,
  type MarginConfig,
  type MarginStep,
  NonFiniteError,
  type Ops,
  ShapeError,
  assertBackend,
  checkFinite,
  checkLabelValues,
  checkLabelsShape,
  checkMatrixShape,
  createOps,
  marginSoftmaxStep,
  readChoice,
  readOptions,
} from '@marginkit/core';
import { remapLabels, sampleClasses, sampleCount } from './class-sampler.js';
import { type CenterInit, initialCenters, readInit } from './init.js';
import { type SeededGenerator, seededGenerator } from './random.js';
import { INF, inRange, liveTensorDtype, positiveInteger, readIgnoreIndex, readScaleAndEpsilons, readSeed } from './read.js';
import {
  type SparseAdam,
  type SparseAdamOptions,
  type SparseOptimizer,
  type SparseOptimizerState,
  type SparseSgd,
  type SparseSgdOptions,
  initialOptimizerState,
  readAdam,
  readOptimizer,
  readSgd,
  sparseUpdate,
} from './sparse-optimizer.js';

// The optimizer factories stay here with their examples (partial-fc.test.ts runs this file's examples);
// the optimizers' types, option readers and update rules are in sparse-optimizer.ts.

/**
 * SGD with momentum for {@link PartialFCLoss}, updating only the sampled rows and their momentum
 * (PyTorch's SGD rule per row; see {@link SparseSgd}).
 *
 * @param options - `learningRate` η > 0 (required), `momentum` μ in [0, 1) (default 0),
 *   `weightDecay` λ ≥ 0 (default 0).
 * @returns the optimizer description (plain JSON).
 *
 * @example
 * ```ts
 * import { sparseSgd } from '@marginkit/losses';
 * console.log(sparseSgd({ learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4 })); // { kind: 'sgd', learningRate: 0.1, momentum: 0.9, weightDecay: 0.0005 }
 * ```
 */
export function sparseSgd(options: SparseSgdOptions): SparseSgd {
  return readSgd('sparseSgd', options);
}

/**
 * Adam for {@link PartialFCLoss}, updating only the sampled rows and their moments. By default
 * each row's bias correction uses the number of times that row was updated (`stepCount: 'row'`),
 * so a row follows exactly the Adam trajectory of its own gradients; `stepCount: 'global'` is
 * `torch.optim.SparseAdam`'s rule instead (one counter for all rows).
 *
 * @param options - `learningRate` (default 1e-3), `beta1` (0.9), `beta2` (0.999), `epsilon`
 *   (1e-8), `weightDecay` (0), `stepCount` (`'row'`).
 * @returns the optimizer description (plain JSON).
 *
 * @example
 * ```ts
 * import { sparseAdam } from '@marginkit/losses';
 * console.log(sparseAdam({ learningRate: 0.01 }).stepCount); // 'row'
 * ```
 */
export function sparseAdam(options: SparseAdamOptions = {}): SparseAdam {
  return readAdam('sparseAdam', options);
}

// ---------------------------------------------------------------------------------------------
// The loss
// ---------------------------------------------------------------------------------------------

/** Options of {@link PartialFCLoss}. */
export interface PartialFCOptions {
  /** C, the number of classes, ≥ 1. */
  readonly numClasses: number;
  /** D, the embedding dimension, ≥ 1. */
  readonly embeddingSize: number;
  /**
   * The margin, e.g. `arcface()` or `combinedMargin(...)` from `@marginkit/core`, or your own
   * (`defineMargin`). Margins with state or per-step inputs (AdaFace, CurricularFace, AdaCos,
   * ElasticFace) are rejected: their statistics would be taken over the sampled classes.
   */
  readonly margin: Margin;
  /**
   * The sampling rate r in (0, 1]: each step uses int(r·C) centres (at least 2, or C when C = 1:
   * a softmax over one class is constant), always including every class of the batch. 1 is the
   * full softmax. insightface's configs use 0.1–0.3.
   */
  readonly sampleRate: number;
  /** How the sampled centres are updated: {@link sparseSgd} or {@link sparseAdam}. */
  readonly optimizer: SparseOptimizer;
  /** The scale s > 0 of the logits. Default 64. */
  readonly scale?: number;
  /** `'mean'` (default, over the rows whose label is not −1) or `'sum'`. */
  readonly reduction?: 'mean' | 'sum';
  /** The seed of the loss's generator (centre initialisation, then sampling). Default 0. */
  readonly seed?: number;
  /** How the centres start. Default `{ kind: 'normal', std: 0.01 }` (insightface's Partial FC). */
  readonly init?: CenterInit;
  /** Rows labelled −1 are ignored unless this is `null`. Default −1. */
  readonly ignoreIndex?: -1 | null;
  /** The acos clamp ε in (0, 0.1]; default 2⁻²³. */
  readonly epsilon?: number;
  /** The L2 normalisation eps in (0, 1e-3]; default 1e-12. */
  readonly normEpsilon?: number;
  /** `'full'` (default) or `'shapes'`: what core checks inside each step (see core's `Validation`). */
  readonly validate?: 'full' | 'shapes';
}

/** The JSON config of a {@link PartialFCLoss}, stored in its checkpoints. */
export interface PartialFCConfig {
  /** The margin's config. */
  readonly margin: MarginConfig;
  /** C. */
  readonly numClasses: number;
  /** D. */
  readonly embeddingSize: number;
  /** r. */
  readonly sampleRate: number;
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
  /** The optimizer as constructed (its current learning rate is {@link PartialFCLoss.learningRate}). */
  readonly optimizer: SparseOptimizer;
}

/** What one {@link PartialFCLoss.step} returns. */
export interface PartialFCStepResult {
  /** The loss of the batch over the sampled centres, before the update. */
  readonly loss: number;
  /** d loss / d embeddings, row-major [B·D]: backpropagate it into the network that made the embeddings. */
  readonly embeddingsGradient: Float32Array;
  /** The classes whose centres took part and were updated, sorted ascending, unique. */
  readonly sampled: Int32Array;
}

/** A checkpoint of a {@link PartialFCLoss}: everything needed to continue exactly. */
export interface PartialFCCheckpoint {
  /** Identifies the format. */
  readonly format: 'marginkit-partial-fc';
  /** The format version. */
  readonly version: 1;
  /** The config it was saved from. */
  readonly config: PartialFCConfig;
  /** The current learning rate. */
  readonly learningRate: number;
  /** Steps taken. */
  readonly steps: number;
  /** The centres [C, D], row-major. */
  readonly centers: Float32Array;
  /** The optimizer's state, as {@link PartialFCLoss.optimizerState}. */
  readonly optimizerState: Readonly<Record<string, Float32Array>>;
  /** The generator's state. */
  readonly random: readonly number[];
}

const KEYS = [
  'numClasses',
  'embeddingSize',
  'margin',
  'sampleRate',
  'optimizer',
  'scale',
  'reduction',
  'seed',
  'init',
  'ignoreIndex',
  'epsilon',
  'normEpsilon',
  'validate',
];

/**
 * Partial FC (An et al., "Killing Two Birds with One Stone: Efficient and Robust Training of Face
 * Recognition CNNs by Partial FC", CVPR 2022; insightface `recognition/arcface_torch/partial_fc_v2.py`):
 * a margin softmax over a sample of the class centres. Each step takes the classes of the batch
 * (positives) plus randomly drawn other classes up to int(sampleRate·C), remaps the labels to
 * their position among the sorted sample, computes the margin loss over those centres only, and
 * updates only those rows of the centres and only their optimizer state: rows that are not sampled
 * keep their centres and optimizer state bit for bit (no momentum decay, no Adam step), which is
 * what "exact sparse updates" means here. (insightface's PartialFC_V2 hands the whole weight to a
 * dense PyTorch optimizer, whose momentum and weight decay still move unsampled rows.)
 *
 * The master copy of the centres and optimizer state lives in host `Float32Array`s, so C can be
 * large; each step uploads the sampled rows, takes the loss and its gradients with the backend's
 * `valueAndGradients` (tfjs, ORT), and updates the rows on the host in float32 arithmetic. The
 * gradient with respect to the embeddings is returned for the network that produced them.
 *
 * Margins with state or per-step inputs are rejected (their batch statistics would be over the
 * sample, not the classes). Steps run one at a time, in call order, even if not awaited; a step
 * that fails (a non-finite loss or gradient, bad input) changes nothing, not even the generator.
 *
 * @typeParam T - the backend's tensor type.
 * @typeParam S - the backend's scalar type.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { arcface } from '@marginkit/core';
 * import { PartialFCLoss, sparseSgd } from '@marginkit/losses';
 * const pfc = new PartialFCLoss(tfjsBackend(tf), {
 *   numClasses: 1000, embeddingSize: 8, margin: arcface(), sampleRate: 0.1,
 *   optimizer: sparseSgd({ learningRate: 0.1, momentum: 0.9 }),
 * });
 * // A linear "network" making the embeddings, trained with the gradient the step returns.
 * const net = tf.variable(tf.randomNormal([16, 8], 0, 0.1, 'float32', 1));
 * const images = tf.randomNormal([4, 16], 0, 1, 'float32', 2);
 * const { loss, embeddingsGradient, sampled } = await pfc.step(tf.matMul(images, net), [3, 3, 500, 999]);
 * const g = tf.tensor2d(embeddingsGradient, [4, 8]);
 * tf.train.sgd(0.1).minimize(() => tf.sum(tf.mul(tf.matMul(images, net), g))); // ∂/∂θ Σ f(θ)·g = Jᵀg
 * console.log(loss > 0, sampled.length, sampled.includes(500)); // true 100 true
 * ```
 */
export class PartialFCLoss<T, S extends T = T> {
  /** The backend the loss runs on. */
  readonly backend: Backend<T, S>;
  /** The margin. */
  readonly margin: Margin;
  /** The JSON config. */
  readonly config: PartialFCConfig;
  readonly #ops: Ops<T>;
  readonly #step: MarginStep<T>;
  readonly #count: number;
  readonly #marks: Uint8Array;
  #centers: Float32Array;
  #optimizerState: SparseOptimizerState;
  #learningRate: number;
  #steps = 0;
  #random: SeededGenerator;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * @param backend - a backend with `valueAndGradients`, e.g. `tfjsBackend(tf)` or `ortBackend(ort)`.
   * @param options - see {@link PartialFCOptions}.
   */
  constructor(backend: Backend<T, S>, options: PartialFCOptions) {
    assertBackend<T>(backend);
    if (typeof backend.valueAndGradients !== 'function') {
      throw new InvalidBackendError(
        'backend',
        `backend '${backend.name}' has no valueAndGradients(f, xs); Partial FC needs it to read the gradients of the sampled centres`,
      );
    }
    if (options === undefined) throw new InvalidArgumentError('options', 'are required: { numClasses, embeddingSize, margin, sampleRate, optimizer }');
    const o = readOptions('options', options, KEYS);
    const numClasses = positiveInteger('options.numClasses', o['numClasses']);
    const embeddingSize = positiveInteger('options.embeddingSize', o['embeddingSize']);
    const sampleRate = inRange('options.sampleRate', o['sampleRate'], undefined, 0, 1, true, false);
    const optimizer = readOptimizer('options.optimizer', o['optimizer']);
    const reduction = readChoice('options.reduction', o['reduction'], 'mean', ['mean', 'sum']);
    const seed = readSeed('options.seed', o['seed']);
    const ignoreIndex = readIgnoreIndex('options.ignoreIndex', o['ignoreIndex']);
    const init = readInit('options.init', o['init']);
    const margin = readStatelessMargin(o['margin']);
    const { scale, epsilon, normEpsilon } = readScaleAndEpsilons(o);
    const validate = readChoice('options.validate', o['validate'], 'full', ['full', 'shapes']);
    this.#step = marginSoftmaxStep(backend, { margin, scale, reduction, epsilon, normEpsilon, validate, ...(ignoreIndex === null ? {} : { ignoreIndex }) });
    this.backend = backend;
    this.margin = margin;
    this.#ops = createOps(backend);
    this.config = { margin: margin.config, numClasses, embeddingSize, sampleRate, scale, reduction, ignoreIndex, epsilon, normEpsilon, optimizer };
    this.#count = sampleCount(numClasses, sampleRate);
    this.#learningRate = optimizer.learningRate;
    this.#random = seededGenerator(seed, 'options.seed');
    this.#centers = initialCenters(init, numClasses, embeddingSize, this.#random);
    this.#marks = new Uint8Array(numClasses);
    this.#optimizerState = initialOptimizerState(optimizer, numClasses, embeddingSize);
  }

  /** C, the number of classes. */
  get numClasses(): number {
    return this.config.numClasses;
  }

  /** D, the embedding dimension. */
  get embeddingSize(): number {
    return this.config.embeddingSize;
  }

  /** r, the sampling rate. */
  get sampleRate(): number {
    return this.config.sampleRate;
  }

  /** The centres sampled per step, min(C, max(2, int(r·C))) (more when a batch has more distinct classes). */
  get numSample(): number {
    return this.#count;
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.#steps;
  }

  /** The optimizer's learning rate η; set it between steps for a schedule (finite, > 0). */
  get learningRate(): number {
    return this.#learningRate;
  }

  /** Sets η for the next steps; a typed error unless finite and > 0. */
  set learningRate(value: number) {
    this.#learningRate = inRange('learningRate', value, undefined, 0, INF, true, true);
  }

  /** The generator's state (four integers). */
  get randomState(): number[] {
    return this.#random.state();
  }

  /**
   * One training step: samples the centres, computes the loss and its gradients, updates the
   * sampled rows of the centres and their optimizer state.
   *
   * @param embeddings - float32 [B, D], a tensor of the loss's backend (on ORT a bound tensor, `backend.tensor(values, [B, D])`).
   * @param labels - [B] class indices in [0, C), or −1 for rows to ignore.
   * @returns the loss, the embeddings' gradient [B·D] and the sampled classes.
   */
  step(embeddings: T, labels: Int32Array | readonly number[]): Promise<PartialFCStepResult> {
    const run = this.#queue.then(() => this.#run(embeddings, labels));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** A copy of the centres [C, D], row-major. */
  centers(): Float32Array {
    return Float32Array.from(this.#centers);
  }

  /**
   * Copies of the optimizer's state, named as PyTorch names it: SGD with momentum
   * `{ momentumBuffer }` [C·D] (none without momentum); Adam `{ expAvg, expAvgSq }` [C·D] and
   * `step`, the update count of each row [C] (`stepCount: 'row'`) or the global count [1]
   * (`'global'`), as float32 (exact below 2²⁴).
   *
   * @returns the state by name.
   */
  optimizerState(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(this.#optimizerState.moments)) out[k] = Float32Array.from(v);
    const { rowSteps } = this.#optimizerState;
    if (rowSteps) out['step'] = Float32Array.from(rowSteps);
    return out;
  }

  /**
   * A checkpoint of everything: config, learning rate, steps, centres, optimizer state and
   * generator. Loading it into a loss of the same config continues exactly.
   *
   * @returns the checkpoint (copies).
   */
  save(): PartialFCCheckpoint {
    return {
      format: 'marginkit-partial-fc',
      version: 1,
      config: this.config,
      learningRate: this.#learningRate,
      steps: this.#steps,
      centers: this.centers(),
      optimizerState: this.optimizerState(),
      random: this.#random.state(),
    };
  }

  /**
   * Restores a checkpoint from {@link PartialFCLoss.save} of a loss with the same config. Everything
   * is checked before anything changes.
   *
   * @param checkpoint - the checkpoint.
   */
  load(checkpoint: PartialFCCheckpoint): void {
    const c = readOptions('checkpoint', checkpoint, ['format', 'version', 'config', 'learningRate', 'steps', 'centers', 'optimizerState', 'random']);
    if (c['format'] !== 'marginkit-partial-fc' || c['version'] !== 1) {
      throw new InvalidArgumentError('checkpoint.format', 'expected a version 1 marginkit-partial-fc checkpoint from PartialFCLoss.save()');
    }
    const mine = JSON.stringify(this.config);
    if (JSON.stringify(c['config']) !== mine) {
      throw new InvalidArgumentError('checkpoint.config', `does not match this loss: checkpoint ${JSON.stringify(c['config'])}, loss ${mine}`);
    }
    const learningRate = inRange('checkpoint.learningRate', c['learningRate'], undefined, 0, INF, true, true);
    const steps = c['steps'];
    if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 0)
      throw new InvalidArgumentError('checkpoint.steps', 'must be a non-negative integer');
    const size = this.numClasses * this.embeddingSize;
    const centers = this.#checkArray('checkpoint.centers', c['centers'], size);
    const expected = this.optimizerState();
    const given = readOptions('checkpoint.optimizerState', c['optimizerState'], Object.keys(expected));
    const state: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(expected)) state[k] = this.#checkArray(`checkpoint.optimizerState.${k}`, given[k], v.length);
    const random = seededGenerator(c['random'] as number[], 'checkpoint.random');
    this.#centers = centers;
    const { step, ...moments } = state;
    this.#optimizerState = { moments, rowSteps: this.#optimizerState.rowSteps ? Float64Array.from(step!) : undefined };
    this.#learningRate = learningRate;
    this.#steps = steps;
    this.#random = random;
  }

  #checkArray(argument: string, value: unknown, size: number): Float32Array {
    if (!(value instanceof Float32Array) && !Array.isArray(value)) throw new InvalidArgumentError(argument, 'expected a Float32Array');
    if (value.length !== size) throw new ShapeError(argument, `has ${value.length} values, expected ${size}`);
    const out = Float32Array.from(value as ArrayLike<number>);
    checkFinite(argument, out, [size]);
    return out;
  }

  #checkEmbeddings(embeddings: T): number {
    const b = this.backend;
    const dtype = liveTensorDtype(b, 'embeddings', embeddings, `[B, ${this.embeddingSize}]`);
    const [batch, cols] = checkMatrixShape('embeddings', b.shape(embeddings), { what: `[B, ${this.embeddingSize}]`, cols: this.embeddingSize });
    if (batch < 0 || cols < 0) throw new ShapeError('embeddings', 'needs a known batch size (a tensor with values, not a placeholder)');
    if (dtype !== 'float32') throw new DTypeError('embeddings', `expected float32, got ${dtype}`);
    return batch;
  }

  #checkLabels(labels: unknown, batch: number): Int32Array {
    if (!(labels instanceof Int32Array) && !Array.isArray(labels)) {
      throw new InvalidArgumentError('labels', 'expected an Int32Array or an array of integer class indices (read a label tensor with await t.data() first)');
    }
    checkLabelsShape('labels', [labels.length], batch);
    checkLabelValues('labels', labels as ArrayLike<number>, this.numClasses, this.config.ignoreIndex === -1 ? { ignoreIndex: -1 } : {});
    return Int32Array.from(labels as ArrayLike<number>);
  }

  #tensor(values: Float32Array, shape: readonly number[]): T {
    return this.backend.variable ? this.backend.variable(values, shape) : this.#ops.constant(values, shape);
  }

  #release(t: T): void {
    this.backend.disposeTensor?.(t);
  }

  async #run(embeddings: T, labels: Int32Array | readonly number[]): Promise<PartialFCStepResult> {
    const batch = this.#checkEmbeddings(embeddings);
    const y = this.#checkLabels(labels, batch);
    const d = this.embeddingSize;
    const saved = this.#random.state();
    const sampled = sampleClasses(y, this.numClasses, this.#count, this.#random, this.#marks);
    const remapped = remapLabels(y, sampled);
    const rows = gatherRows(this.#centers, sampled, d);
    let w: T | undefined;
    let yT: T | undefined;
    try {
      w = this.#tensor(rows, [sampled.length, d]);
      // Labels go in as a tensor input (float32, cast in the graph) so that a symbolic backend traces
      // the same graph every step rather than one with the labels spelled out as a constant.
      yT = this.#tensor(Float32Array.from(remapped), [batch]);
      const labelsT = yT;
      const ops = this.#ops;
      const { value, gradients } = await this.backend.valueAndGradients!(
        (...xs: T[]) => this.#step(xs[0]!, xs[1]!, ops.cast(labelsT, 'int32')).loss,
        [embeddings, w],
      );
      const [gx, gw] = gradients;
      if (!Number.isFinite(value) || gx === undefined || gw === undefined || !allFinite(gx) || !allFinite(gw)) {
        throw new NonFiniteError('embeddings', `the step's loss (${value}) or gradients are not finite (non-finite embeddings?); nothing was updated`);
      }
      if (gx.length !== batch * d || gw.length !== sampled.length * d) {
        throw new BackendError(
          'backend',
          `valueAndGradients returned gradients of ${gx.length} and ${gw.length} values, expected ${batch * d} and ${sampled.length * d}`,
        );
      }
      sparseUpdate(this.config.optimizer, this.#learningRate, sampled, gw, this.#centers, d, this.#optimizerState);
      this.#steps++;
      return { loss: value, embeddingsGradient: gx, sampled };
    } catch (e) {
      this.#random = seededGenerator(saved);
      throw e;
    } finally {
      if (w !== undefined) this.#release(w);
      if (yT !== undefined) this.#release(yT);
    }
  }
}

/** The margin option: required, and without state or per-step inputs. */
function readStatelessMargin(value: unknown): Margin {
  const margin = value as Margin | undefined;
  if (typeof margin !== 'object' || margin === null || typeof margin.transform !== 'function') {
    throw new InvalidArgumentError('options.margin', 'is required: a margin such as arcface() or cosface() from @marginkit/core');
  }
  const state = Object.keys(margin.state ?? {});
  const inputs = Object.keys(margin.inputs ?? {});
  if (state.length > 0 || inputs.length > 0) {
    throw new InvalidArgumentError(
      'options.margin',
      `margin '${margin.type}' carries ${state.length > 0 ? `state (${state.join(', ')})` : `per-step inputs (${inputs.join(', ')})`}, which Partial FC does not support: ` +
        'its statistics would be taken over the sampled classes; use a stateless margin (arcface, cosface, combinedMargin, ...)',
    );
  }
  return margin;
}

/** The `sampled` rows of row-major `centers` [C, dim], stacked [sampled.length, dim]. */
function gatherRows(centers: Float32Array, sampled: Int32Array, dim: number): Float32Array {
  const rows = new Float32Array(sampled.length * dim);
  for (let i = 0; i < sampled.length; i++) rows.set(centers.subarray(sampled[i]! * dim, sampled[i]! * dim + dim), i * dim);
  return rows;
}

function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return false;
  return true;
}
