import {
  type Backend,
  type ChunkedMarginStep,
  type ChunkedStepResult,
  InvalidArgumentError,
  InvalidBackendError,
  type Labels,
  type Margin,
  type RandomSource,
  ShapeError,
  centerNorms,
  checkFinite,
  chunkedMarginSoftmaxStep,
  readKeepLogits,
  readOptions,
} from '@marginkit/core';
import type { HeadCheckpoint } from './checkpoint.js';
import { type ChunkedOptimizerCheckpoint, type ChunkedTrainerCheckpoint, gatherRows, readShards, scatterRows } from './chunked-checkpoint.js';
import { type ChunkStore, chunkRows, createChunkStore, refreshChunk } from './chunk-store.js';
import { type ChunkMoments, denseUpdate, momentNames } from './dense-update.js';
import { type SgdKernel, sgdKernels } from './sgd-kernel.js';
import { type HeadConfig, type HeadOptions, readHeadBasics } from './head.js';
import { initialCenters } from './init.js';
import { type SeededGenerator, seededGenerator } from './random.js';
import { INF, inRange, positiveInteger } from './read.js';
import { type SparseOptimizer, readOptimizer } from './sparse-optimizer.js';

/** Options of {@link ChunkedHeadTrainer.create}: a head's options, its margin, the chunk size and the optimizer. */
export interface ChunkedHeadTrainerOptions extends HeadOptions {
  /** The margin (`arcface()`, `cosface()`, a catalogue margin that runs over chunks, or your own). */
  readonly margin: Margin;
  /** Cc, classes per chunk (≥ 1; the last chunk may hold fewer). Peak memory beyond the centres and optimizer state is one chunk's work. */
  readonly classChunk: number;
  /** `sparseSgd({ learningRate, momentum, weightDecay })` or `sparseAdam({ ... })`; every row is updated on every step. */
  readonly optimizer: SparseOptimizer;
  /** As `chunkedMarginSoftmaxStep`'s `keepLogits`: keep pass 1's cosines for pass 2 (B·C float32 values); default `'auto'`, when B ≤ D. */
  readonly keepLogits?: boolean | 'auto';
}

/** What {@link ChunkedHeadTrainer.step} and {@link ChunkedHeadTrainer.evaluate} return: the chunked step's result and where the time went. */
export interface ChunkedTrainerStepResult extends ChunkedStepResult {
  /**
   * Seconds spent applying the optimizer to the centres (checking each chunk's gradient, then its
   * update, in JavaScript), within the call; 0 for `evaluate`. The rest of the call is the loss's
   * passes. At large C the update is bound by memory: per step it reads and writes the centres and
   * the optimizer state once and reads the gradient.
   */
  readonly updateSeconds: number;
}

const KEYS = [
  'margin',
  'classChunk',
  'keepLogits',
  'optimizer',
  'numClasses',
  'embeddingSize',
  'scale',
  'reduction',
  'subCenters',
  'init',
  'seed',
  'ignoreIndex',
  'epsilon',
  'normEpsilon',
  'validate',
];

/** A random source without noise, for evaluation (ElasticFace's mean margin). */
const NOISELESS: RandomSource = { normal: () => 0, uniform: () => 0.5 };

/** What the constructor receives from {@link ChunkedHeadTrainer.create}. */
interface Parts<T> {
  readonly backend: Backend<T>;
  readonly margin: Margin;
  readonly config: HeadConfig;
  readonly optimizer: SparseOptimizer;
  readonly step: ChunkedMarginStep<T>;
  readonly store: ChunkStore<T>;
  readonly random: SeededGenerator;
  /** SGD-momentum's WebAssembly update per chunk (sgd-kernel.ts), undefined where it does not run. */
  readonly kernels: readonly (SgdKernel | undefined)[];
}

/**
 * Trains a margin-softmax head of many classes (up to millions) chunk by chunk: the centres and the
 * optimizer state live in host memory as one `Float32Array` per chunk of `classChunk` classes, each
 * step runs core's {@link chunkedMarginSoftmaxStep}, and each chunk's centre gradient is applied
 * (SGD with momentum, or Adam) as soon as it arrives and then dropped: the whole gradient never
 * exists. Peak memory is the centres, the optimizer state and one chunk's work (at C = 1,000,000,
 * D = 512: 2 GB of centres, 2 GB of momentum).
 *
 * The update rules are those of {@link sparseSgd} and {@link sparseAdam} (PyTorch's `SGD`:
 * v ← μv + g, W ← W − ηv; `Adam`), in the same float32 rounding, applied to every row. Centres start
 * as a head's of the same options and seed do, so `new ArcFaceLoss(backend, { ..., seed })` and this
 * trainer begin from the same centres. Checkpoints are the package's {@link HeadCheckpoint} plus the
 * optimizer buffers ({@link ChunkedTrainerCheckpoint}), by class range, independent of the chunking.
 *
 * On ONNX Runtime each chunk's values are the bound input of its tensor, updated in place (no copy
 * per step), and each pass compiles once per chunk size. Give the backend `validate: 'shapes'` to
 * skip its per-feed finiteness scan of every chunk. Keep chunks moderate (~16k classes at B = 256):
 * ORT's CPU memory arena keeps, per compiled pass, the peak of its [B, Cc] intermediates (about
 * 4 GB at Cc = 65,536). Measured (`npm run bench -- growth`): C = 1,000,000, D = 512, B = 256,
 * chunks of 16,384 on onnxruntime-node: peak RSS 5,341 MiB with the cosines kept (`keepLogits`,
 * 977 MiB of it; 4,457–4,480 MiB without), 7.97 s per step on 2 threads (1.61× the step's three bare
 * matmuls, 4.94 s, on a machine without AVX-512; 1.61–1.91× over six runs), of which 0.90 s is the
 * update (see `updateSeconds`). SGD with momentum runs in WebAssembly SIMD, bit for bit the JavaScript
 * rule, with the centres in the kernel's memory where the backend can read them in place
 * (`backend.share`: ONNX Runtime).
 *
 * The trainer keeps the norm of every centre row, recomputed in the pass that applies each update,
 * and gives them to the loss (`centerNorms`): its graphs then make no pass over the centres for
 * their norms, and the norm's term of the gradient is folded into the update (`normTerm: 'defer'`).
 *
 * @typeParam T - the backend's tensor type.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { arcface } from '@marginkit/core';
 * import { ChunkedHeadTrainer, sparseSgd } from '@marginkit/losses';
 * const trainer = await ChunkedHeadTrainer.create(tfjsBackend(tf), {
 *   margin: arcface({ m: 0.5 }), numClasses: 10, embeddingSize: 8, scale: 16, classChunk: 4,
 *   optimizer: sparseSgd({ learningRate: 0.5, momentum: 0.9 }), init: { kind: 'normal', std: 1 },
 * });
 * const x = tf.randomNormal([6, 8], 0, 1, 'float32', 1);
 * const labels = [0, 3, 5, 9, 9, 2];
 * const first = await trainer.step(x, labels);
 * let last = first;
 * for (let i = 0; i < 10; i++) last = await trainer.step(x, labels);
 * console.log(trainer.numChunks, last.loss < first.loss, first.embeddingsGradient!.length); // 3 true 48
 * ```
 */
export class ChunkedHeadTrainer<T> {
  /** The backend. */
  readonly backend: Backend<T>;
  /** The margin. */
  readonly margin: Margin;
  /** The head's JSON config, as in every {@link HeadCheckpoint}. */
  readonly config: HeadConfig;
  /** The optimizer as given (its current rate is {@link ChunkedHeadTrainer.learningRate}). */
  readonly optimizer: SparseOptimizer;
  readonly #step: ChunkedMarginStep<T>;
  readonly #store: ChunkStore<T>;
  #moments: ChunkMoments[];
  /** SGD-momentum's WebAssembly update per chunk, whose velocity is the chunk's `momentumBuffer` (sgd-kernel.ts), where it runs. */
  readonly #kernels: readonly (SgdKernel | undefined)[];
  /** ‖w_j‖ of every row per chunk, kept up to date by each update and fed to the loss (no norm passes in its graphs). */
  readonly #norms: Float64Array[];
  #state: Record<string, Float32Array>;
  #random: SeededGenerator;
  #learningRate: number;
  #steps = 0;
  #busy = false;

  private constructor(p: Parts<T>) {
    this.backend = p.backend;
    this.margin = p.margin;
    this.config = p.config;
    this.optimizer = p.optimizer;
    this.#step = p.step;
    this.#store = p.store;
    this.#random = p.random;
    this.#learningRate = p.optimizer.learningRate;
    const dim = p.config.embeddingSize;
    this.#kernels = p.kernels;
    this.#moments = p.store.rows.map((n, k) => {
      const velocity = this.#kernels[k]?.velocity;
      return velocity === undefined ? zeroMoments(p.optimizer, n * dim) : { momentumBuffer: velocity };
    });
    this.#norms = p.store.values.map((v) => centerNorms(v, p.config.embeddingSize));
    this.#state = Object.fromEntries(Object.entries(p.step.initialState(p.config.numClasses)).map(([k, v]) => [k, v.data]));
  }

  /**
   * Builds a trainer: checks the options (errors name the option), draws the centres chunk by chunk
   * from the seeded generator and makes each chunk's tensor.
   *
   * @param backend - a backend with `valueAndGradients` (tfjs, ONNX Runtime).
   * @param options - see {@link ChunkedHeadTrainerOptions}.
   * @returns the trainer.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { tfjsBackend } from '@marginkit/backend-tfjs';
   * import { cosface } from '@marginkit/core';
   * import { ChunkedHeadTrainer, sparseAdam } from '@marginkit/losses';
   * const options = { margin: cosface(), numClasses: 7, embeddingSize: 4, classChunk: 3, optimizer: sparseAdam({ learningRate: 0.01 }) };
   * const trainer = await ChunkedHeadTrainer.create(tfjsBackend(tf), options);
   * console.log(trainer.numChunks, trainer.centers().length); // 3 28
   * ```
   */
  static async create<T>(backend: Backend<T>, options: ChunkedHeadTrainerOptions): Promise<ChunkedHeadTrainer<T>> {
    if (typeof backend !== 'object' || backend === null || typeof backend.valueAndGradients !== 'function') {
      throw new InvalidBackendError('backend', "needs valueAndGradients(f, xs) (tfjs, ONNX Runtime) to take the chunks' gradients");
    }
    if (options === undefined) throw new InvalidArgumentError('options', 'are required: { margin, numClasses, embeddingSize, classChunk, optimizer }');
    const o = readOptions('options', options, KEYS);
    const classChunk = positiveInteger('options.classChunk', o['classChunk']);
    const optimizer = readOptimizer('options.optimizer', o['optimizer']);
    const { margin, config, loss, init, seed } = readHeadBasics(o);
    const { numClasses, embeddingSize, subCenters } = config;
    const random = seededGenerator(seed, 'options.seed');
    const keepLogits = readKeepLogits('options.keepLogits', o['keepLogits']);
    const step = chunkedMarginSoftmaxStep(backend, { ...loss, classChunk, keepLogits });
    const total = numClasses * subCenters;
    const rows = chunkRows(total, Math.min(classChunk, numClasses) * subCenters);
    // SGD-momentum runs in WebAssembly; where the backend reads host memory in place (ORT), the
    // centres live in the kernel's memory too and the update writes them where the loss reads them.
    const momentum = optimizer.kind === 'sgd' && optimizer.momentum > 0;
    const kernels = momentum ? sgdKernels(rows, embeddingSize, { centres: typeof backend.share === 'function' }) : rows.map(() => undefined);
    const store = await createChunkStore(
      backend,
      rows,
      embeddingSize,
      (_, n) => initialCenters(init, n, embeddingSize, random, total),
      (k) => kernels[k]?.centres,
    );
    return new ChunkedHeadTrainer({ backend, margin, config, optimizer, step, store, random, kernels });
  }

  /** Cc, classes per chunk. */
  get classChunk(): number {
    return this.#step.classChunk;
  }

  /** The number of chunks, ⌈C / Cc⌉. */
  get numChunks(): number {
    return this.#store.rows.length;
  }

  /** The chunk tensors, in class order (what each step passes to the chunked loss). */
  get chunkTensors(): readonly T[] {
    return [...this.#store.tensors];
  }

  /** The learning rate η; set it between steps for a schedule (finite, > 0). */
  get learningRate(): number {
    return this.#learningRate;
  }

  /** Sets η for the next steps; a value that is not finite and > 0 is an InvalidArgumentError naming `learningRate`. */
  set learningRate(value: number) {
    this.#learningRate = inRange('learningRate', value, undefined, 0, INF, true, true);
  }

  /** Steps taken. */
  get steps(): number {
    return this.#steps;
  }

  /** The margin's state (copies). */
  get state(): Readonly<Record<string, Float32Array>> {
    return Object.fromEntries(Object.entries(this.#state).map(([k, v]) => [k, Float32Array.from(v)]));
  }

  /**
   * One training step: the loss of the batch, and every chunk updated by the optimizer as its
   * gradient arrives. Returns the loss, per-sample losses, the margin's next state (kept) and the
   * embedding gradient [B, D] to backpropagate through your network.
   *
   * A chunk gradient with a NaN or ±Infinity is not applied: the step throws a `NonFiniteError`
   * (argument `step.centersGradient[k]`) before chunk k changes, and `steps` and the margin's state
   * do not advance. Since the gradient is applied chunk by chunk (it never exists whole), chunks
   * before k keep their update; save a checkpoint first where that matters.
   *
   * @param embeddings - float32 [B, D].
   * @param labels - [B] global class indices (−1 ignored unless `ignoreIndex: null`).
   * @returns the chunked step's result.
   */
  async step(embeddings: T, labels: Labels<T>): Promise<ChunkedTrainerStepResult> {
    return this.#run(embeddings, labels, true);
  }

  /**
   * The loss without training: no update, the margin's state and the generator unchanged, the
   * margin's per-step inputs drawn noiselessly.
   *
   * @param embeddings - float32 [B, D].
   * @param labels - [B].
   * @returns the loss and per-sample losses (no gradients).
   */
  async evaluate(embeddings: T, labels: Labels<T>): Promise<ChunkedTrainerStepResult> {
    return this.#run(embeddings, labels, false);
  }

  async #run(embeddings: T, labels: Labels<T>, training: boolean): Promise<ChunkedTrainerStepResult> {
    if (this.#busy) throw new InvalidArgumentError('step', 'another call of this trainer is still running: await it before the next');
    this.#busy = true;
    const saved = this.#random.state();
    const t = this.#steps + 1;
    const lr = this.#learningRate;
    let applied = 0;
    let updateMs = 0;
    try {
      this.#checkEmbeddings(embeddings);
      const inputs = this.#sample(embeddings, training ? this.#random : NOISELESS);
      const dim = this.config.embeddingSize;
      const result = await this.#step(embeddings, this.#store.tensors, labels, {
        state: this.#state,
        inputs,
        training,
        centerNorms: this.#norms,
        ...(training
          ? {
              normTerm: 'defer' as const,
              onCentersGradient: (k: number, g: Float32Array, coefficients?: Float64Array) => {
                const start = performance.now();
                // A non-finite gradient is never applied: the step throws before this chunk changes.
                if (coefficients !== undefined) checkFinite(`step.centersGradient[${k}]`, coefficients, [coefficients.length]);
                const grad = { g, coefficients, dim, norms: this.#norms[k]! };
                denseUpdate(this.optimizer, lr, t, grad, this.#store.values[k]!, this.#moments[k]!, this.#kernels[k], `step.centersGradient[${k}]`);
                refreshChunk(this.backend, this.#store, k);
                applied++;
                updateMs += performance.now() - start;
              },
            }
          : {}),
      });
      if (training) {
        this.#steps = t;
        this.#state = { ...result.state };
      }
      return { ...result, updateSeconds: updateMs / 1000 };
    } catch (e) {
      // Nothing was updated: the generator rewinds. (A failure between chunk updates leaves them applied.)
      if (applied === 0) this.#random = seededGenerator(saved);
      throw e;
    } finally {
      if (!training) this.#random = seededGenerator(saved);
      this.#busy = false;
    }
  }

  /** [B, D] with the trainer's D (else core would blame the centres, which the caller never passed). */
  #checkEmbeddings(embeddings: T): void {
    if (!this.backend.isTensor(embeddings)) return; // core's checks say what it should be
    const shape = this.backend.shape(embeddings);
    if (shape.length !== 2 || (shape[1]! >= 0 && shape[1] !== this.config.embeddingSize)) {
      throw new ShapeError('embeddings', `expected [B, ${this.config.embeddingSize}] (the trainer's embeddingSize), got [${shape.join(', ')}]`);
    }
  }

  #sample(embeddings: T, random: RandomSource): Record<string, Float32Array> {
    const specs = Object.entries(this.margin.inputs ?? {});
    if (specs.length === 0) return {};
    const shape = this.backend.isTensor(embeddings) ? this.backend.shape(embeddings) : [];
    const batch = shape[0];
    if (shape.length !== 2 || batch === undefined || batch < 1) {
      throw new ShapeError(
        'embeddings',
        `expected [B, ${this.config.embeddingSize}] with a known B (the margin draws per-row inputs), got [${shape.join(', ')}]`,
      );
    }
    return Object.fromEntries(specs.map(([k, spec]) => [k, spec.sample(batch, random)]));
  }

  /**
   * A copy of the centres of classes [first, end), row-major [(end − first)·K, D].
   *
   * @param first - the first class (default 0).
   * @param end - one past the last class (default C).
   * @returns the centres.
   */
  centers(first = 0, end = this.config.numClasses): Float32Array {
    const k = this.#classRange('classRange', first, end);
    return gatherRows(this.#store, this.#store.values, k[0], k[1]);
  }

  /**
   * A checkpoint of classes [first, end) (default all): the head part in the package's
   * {@link HeadCheckpoint} format, and the optimizer's buffers for the same rows. Save a large head
   * in shards (several ranges) to keep the copy small; {@link ChunkedHeadTrainer.load} takes them all.
   *
   * @param classRange - [first, end), default [0, C).
   * @returns the checkpoint.
   */
  save(classRange: readonly [number, number] = [0, this.config.numClasses]): ChunkedTrainerCheckpoint {
    if (!Array.isArray(classRange) || classRange.length !== 2) throw new ShapeError('classRange', 'expected [first, end)');
    const [first, end] = this.#classRange('classRange', classRange[0], classRange[1]);
    const specs = this.margin.state ?? {};
    const head: HeadCheckpoint = {
      format: 'marginkit-head',
      version: 1,
      config: this.config,
      classRange: [first / this.config.subCenters, end / this.config.subCenters],
      centers: gatherRows(this.#store, this.#store.values, first, end),
      state: Object.fromEntries(Object.entries(this.#state).map(([k, v]) => [k, { shape: [...specs[k]!.shape], data: Array.from(v) }])),
      random: this.#random.state(),
    };
    const moments = Object.fromEntries(
      momentNames(this.optimizer).map((name) => [
        name,
        gatherRows(
          this.#store,
          this.#moments.map((m) => m[name]!),
          first,
          end,
        ),
      ]),
    );
    const optimizer: ChunkedOptimizerCheckpoint = { optimizer: this.optimizer, learningRate: this.#learningRate, steps: this.#steps, moments };
    return { head, optimizer };
  }

  /**
   * Restores a checkpoint saved with any chunk size: a {@link ChunkedTrainerCheckpoint}, shards of
   * one (any order, tiling [0, C)), or a plain {@link HeadCheckpoint} (from a head's `save()` or
   * `mergeCheckpoints`; the optimizer then starts afresh). Config and optimizer must match this
   * trainer's. Everything is checked before anything changes.
   *
   * @param checkpoint - the checkpoint or shards.
   */
  load(checkpoint: ChunkedTrainerCheckpoint | HeadCheckpoint | readonly ChunkedTrainerCheckpoint[] | readonly HeadCheckpoint[]): void {
    if (this.#busy) throw new InvalidArgumentError('load', 'a step of this trainer is still running: await it first');
    const shards = readShards(checkpoint, this.config, this.optimizer);
    const state = this.#readState(shards[0]!.head);
    const random = seededGenerator(shards[0]!.head.random, 'checkpoint.random');
    const k = this.config.subCenters;
    const names = momentNames(this.optimizer);
    for (const { head, optimizer } of shards) {
      const first = head.classRange[0] * k;
      scatterRows(this.#store, this.#store.values, first, head.centers);
      for (const name of names) {
        const target = this.#moments.map((m) => m[name]!);
        scatterRows(this.#store, target, first, optimizer?.moments[name] ?? new Float32Array(head.centers.length));
      }
    }
    for (let c = 0; c < this.numChunks; c++) {
      refreshChunk(this.backend, this.#store, c);
      this.#norms[c] = centerNorms(this.#store.values[c]!, this.config.embeddingSize);
    }
    const o = shards[0]!.optimizer;
    this.#state = state;
    this.#random = random;
    this.#steps = o?.steps ?? 0;
    this.#learningRate = o?.learningRate ?? this.optimizer.learningRate;
  }

  /** Releases the chunk tensors (tfjs: disposes the variables). The trainer cannot step afterwards. */
  dispose(): void {
    for (const t of this.#store.tensors) this.backend.disposeTensor?.(t);
  }

  /** Rows [first·K, end·K) of a checked class range. */
  #classRange(argument: string, first: number, end: number): [number, number] {
    const c = this.config.numClasses;
    if (!Number.isInteger(first) || !Number.isInteger(end) || first < 0 || first >= end || end > c) {
      throw new ShapeError(argument, `must be classes [first, end) with 0 ≤ first < end ≤ ${c}, got [${first}, ${end})`);
    }
    return [first * this.config.subCenters, end * this.config.subCenters];
  }

  #readState(head: HeadCheckpoint): Record<string, Float32Array> {
    const specs = this.margin.state ?? {};
    const given = readOptions('checkpoint.state', head.state, Object.keys(specs));
    const out: Record<string, Float32Array> = {};
    for (const [key, spec] of Object.entries(specs)) {
      const entry = given[key] as HeadCheckpoint['state'][string] | undefined;
      const size = spec.shape.reduce((p, d) => p * d, 1);
      if (entry === undefined || entry.data.length !== size) {
        throw new ShapeError(`checkpoint.state.${key}`, `margin '${this.margin.type}' needs ${size} value(s) of shape [${spec.shape.join(', ')}]`);
      }
      const data = Float32Array.from(entry.data);
      checkFinite(`checkpoint.state.${key}`, data, spec.shape);
      out[key] = data;
    }
    return out;
  }
}

function zeroMoments(optimizer: SparseOptimizer, size: number): ChunkMoments {
  return Object.fromEntries(momentNames(optimizer).map((name) => [name, new Float32Array(size)]));
}
