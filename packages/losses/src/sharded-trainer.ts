/**
 * {@link shardedHeadTrainer}: a head's classes split by range over worker threads, each a shard
 * with its own onnxruntime-node sessions, centres and SGD velocity.
 *
 * @packageDocumentation
 */
import { availableParallelism } from 'node:os';
import { type Transferable, Worker } from 'node:worker_threads';
import {
  BackendError,
  type ChunkStatistics,
  InvalidArgumentError,
  checkFinite,
  checkLabelValues,
  checkLabelsShape,
  checkNumber,
  checkTypedArray,
  classShardRanges,
} from '@marginkit/core';
import { type HeadCheckpoint, checkCheckpoint, mergeCheckpoints, splitCheckpoint } from './checkpoint.js';
import { createLossRegistry } from './registry.js';
import type { FromShard, RowReport, ShardInit, StepInputs, ToShard } from './shard-host.js';

/** Options of {@link shardedHeadTrainer}. */
export interface ShardedHeadTrainerOptions {
  /**
   * Where to start: a checkpoint of every class (`await head.save()` of any head, `loadHead`'s
   * input, or a previous trainer's `save().checkpoint`, whatever its number of shards). Its config
   * names the margin by its registry config, which is how the margin reaches the workers.
   */
  readonly checkpoint: HeadCheckpoint;
  /** The SGD velocity to resume with, as a checkpoint of the same classes (a trainer's `save().velocity`); default zeros. */
  readonly velocity?: HeadCheckpoint;
  /** S, the worker threads, each owning a class range as `splitCheckpoint` splits it; default `os.availableParallelism()`, at most C. */
  readonly shards?: number;
  /** Classes per chunk within a shard; default the whole shard (one chunk). */
  readonly classChunk?: number;
  /** η of SGD with momentum. */
  readonly learningRate: number;
  /** μ of SGD with momentum (PyTorch's: v ← μ·v + g, w ← w − η·v); default 0.9. */
  readonly momentum?: number;
  /** ONNX Runtime intra-op threads per shard; default 1. */
  readonly threadsPerShard?: number;
  /** The module specifier each worker imports ONNX Runtime from; default `'onnxruntime-node'`. */
  readonly ort?: string;
}

/** Per-step options of {@link ShardedHeadTrainer.step}. */
export interface ShardedStepOptions {
  /** The margin's per-step inputs ([B] each), for margins that have them (ElasticFace). */
  readonly inputs?: Readonly<Record<string, Float32Array>>;
  /** A training step (the margin's state advances, the centres are updated); default true. */
  readonly training?: boolean;
}

/** What {@link ShardedHeadTrainer.step} returns. */
export interface ShardedStepResult {
  /** The loss before the update. */
  readonly loss: number;
  /** Per-sample losses [B]. */
  readonly perSample: Float64Array;
  /** The auxiliary loss alone, when the margin has one. */
  readonly auxiliaryLoss?: number;
  /** d loss / d embeddings [B, D], the sum of the shards' shares. */
  readonly embeddingsGradient: Float32Array;
}

/** What {@link ShardedHeadTrainer.save} returns: both in the losses package's checkpoint format. */
export interface ShardedSave {
  /** The head: centres of every class, the margin's state, the config. */
  readonly checkpoint: HeadCheckpoint;
  /** The SGD velocity, as a checkpoint whose `centers` hold the velocities (same classes, config and state). */
  readonly velocity: HeadCheckpoint;
}

/** A head trained over class shards in worker threads; see {@link shardedHeadTrainer}. */
export interface ShardedHeadTrainer {
  /** S. */
  readonly shards: number;
  /** The class range of each shard. */
  readonly ranges: readonly (readonly [number, number])[];
  /** Steps taken. */
  readonly steps: number;
  /**
   * One step: the loss over every class, the embedding gradient, and each shard's SGD-momentum
   * update of its centres. Embeddings and labels are checked here, before any worker sees them.
   * @param embeddings - [B, D] row-major float32.
   * @param labels - [B] class indices (−1 ignored when the config's `ignoreIndex` is −1).
   */
  step(embeddings: Float32Array, labels: Int32Array | readonly number[], options?: ShardedStepOptions): Promise<ShardedStepResult>;
  /** The margin's current state. */
  state(): Record<string, Float32Array>;
  /** The centres and velocity of every shard, merged with `mergeCheckpoints`. */
  save(): Promise<ShardedSave>;
  /** Terminates the workers; the trainer cannot step afterwards. */
  terminate(): Promise<void>;
}

/** A worker and the replies it owes, in order. */
class ShardThread {
  private readonly waiting: { resolve: (m: FromShard) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(
    readonly worker: Worker,
    readonly index: number,
  ) {
    worker.on('message', (m: FromShard) => {
      const w = this.waiting.shift();
      if (m.kind === 'error') w?.reject(new BackendError(`shards[${index}]`, `${m.name}: ${m.message}`));
      else w?.resolve(m);
    });
    const fail = (e: Error) => {
      this.failure = new BackendError(`shards[${index}]`, `the worker failed: ${e.message}`, { cause: e });
      for (const w of this.waiting.splice(0)) w.reject(this.failure);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
  }

  request<K extends FromShard['kind']>(message: ToShard, kind: K, transfer: Transferable[] = []): Promise<Extract<FromShard, { kind: K }>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({
        resolve: (m) =>
          m.kind === kind
            ? resolve(m as Extract<FromShard, { kind: K }>)
            : reject(new BackendError(`shards[${this.index}]`, `replied ${m.kind}, expected ${kind}`)),
        reject,
      });
      this.worker.postMessage(message, transfer);
    });
  }
}

/** Starts a worker on the shard entry: the built `.js`, or the `.ts` source through tsx (tests, the repo's scripts). */
function spawn(): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL('./shard-worker.js', self));
  const entry = JSON.stringify(new URL('./shard-worker.ts', self).href);
  const code = `const { register } = await import('tsx/esm/api'); register(); await import(${entry});`;
  return new Worker(code, { eval: true, execArgv: ['--conditions=@marginkit/source'] });
}

/** The checked options. */
interface Plan {
  readonly checkpoint: HeadCheckpoint;
  readonly velocity: HeadCheckpoint | undefined;
  readonly shards: number;
  readonly classChunk: number;
  readonly learningRate: number;
  readonly momentum: number;
  readonly threads: number;
  readonly ort: string;
}

function plan(options: ShardedHeadTrainerOptions): Plan {
  const owner = 'shardedHeadTrainer';
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${owner}.options`, 'expected { checkpoint, learningRate, ... }');
  const known = ['checkpoint', 'velocity', 'shards', 'classChunk', 'learningRate', 'momentum', 'threadsPerShard', 'ort'];
  for (const key of Object.keys(options)) if (!known.includes(key)) throw new InvalidArgumentError(`${owner}.${key}`, `is not an option (${known.join(', ')})`);
  const checkpoint = checkCheckpoint(`${owner}.checkpoint`, options.checkpoint);
  const classes = checkpoint.config.numClasses;
  if (checkpoint.classRange[0] !== 0 || checkpoint.classRange[1] !== classes) {
    throw new InvalidArgumentError(
      `${owner}.checkpoint`,
      `holds classes [${checkpoint.classRange.join(', ')}), expected all ${classes}: merge the shards first (mergeCheckpoints)`,
    );
  }
  const velocity = options.velocity === undefined ? undefined : checkCheckpoint(`${owner}.velocity`, options.velocity);
  if (velocity !== undefined && (velocity.centers.length !== checkpoint.centers.length || velocity.classRange.join() !== checkpoint.classRange.join())) {
    throw new InvalidArgumentError(
      `${owner}.velocity`,
      `holds ${velocity.centers.length} values for classes [${velocity.classRange.join(', ')}), expected ${checkpoint.centers.length} for every class`,
    );
  }
  const shards = checkNumber(`${owner}.shards`, options.shards ?? Math.min(availableParallelism(), classes), { min: 1, max: classes, integer: true });
  const widest = Math.ceil(classes / shards);
  const ort = options.ort ?? 'onnxruntime-node';
  if (typeof ort !== 'string' || ort.length === 0) throw new InvalidArgumentError(`${owner}.ort`, 'expected a module specifier such as "onnxruntime-node"');
  return {
    checkpoint,
    velocity,
    shards,
    classChunk: checkNumber(`${owner}.classChunk`, options.classChunk ?? widest, { min: 1, integer: true }),
    learningRate: checkNumber(`${owner}.learningRate`, options.learningRate, { min: 0, max: 1e6 }),
    momentum: checkNumber(`${owner}.momentum`, options.momentum ?? 0.9, { min: 0, max: 1, maxOpen: true }),
    threads: checkNumber(`${owner}.threadsPerShard`, options.threadsPerShard ?? 1, { min: 1, max: 1024, integer: true }),
    ort,
  };
}

/** Spawns and initialises the shards; on any failure every worker is terminated. */
async function startShards(p: Plan): Promise<ShardThread[]> {
  const parts = splitCheckpoint(p.checkpoint, p.shards);
  const velocities = p.velocity === undefined ? undefined : splitCheckpoint(p.velocity, p.shards);
  const threads = parts.map((_, r) => new ShardThread(spawn(), r));
  try {
    await Promise.all(
      threads.map((t, r) => {
        const part = parts[r]!;
        const velocity = velocities === undefined ? new Float32Array(part.centers.length) : velocities[r]!.centers;
        const init: ShardInit = {
          config: p.checkpoint.config,
          range: part.classRange,
          centers: part.centers,
          velocity,
          classChunk: p.classChunk,
          optimizer: { learningRate: p.learningRate, momentum: p.momentum },
        };
        return t.request({ kind: 'init', init, ort: p.ort, threads: p.threads }, 'ready', [part.centers.buffer as ArrayBuffer, velocity.buffer as ArrayBuffer]);
      }),
    );
  } catch (e) {
    await Promise.all(threads.map((t) => t.worker.terminate()));
    throw e;
  }
  return threads;
}

/** Checks a step's embeddings and labels against the config. */
function checkStep(p: Plan, embeddings: unknown, labels: unknown): { x: Float32Array; y: Int32Array } {
  const { embeddingSize: d, numClasses, ignoreIndex } = p.checkpoint.config;
  const x = checkTypedArray('embeddings', embeddings, 'float32');
  if (x.length === 0 || x.length % d !== 0) throw new InvalidArgumentError('embeddings', `has ${x.length} values, expected B × ${d} with B ≥ 1`);
  const batch = x.length / d;
  checkFinite('embeddings', x, [batch, d]);
  if (!(labels instanceof Int32Array) && !Array.isArray(labels))
    throw new InvalidArgumentError('labels', 'expected an Int32Array or an array of class indices');
  checkLabelsShape('labels', [labels.length], batch);
  checkLabelValues('labels', labels, numClasses, { classesFrom: 'the checkpoint', ...(ignoreIndex === -1 ? { ignoreIndex: -1 as const } : {}) });
  return { x, y: Int32Array.from(labels) };
}

/** One step over the shards: (target cosines,) statistics, then every shard merges, runs the rows and its backward. */
async function stepShards(threads: readonly ShardThread[], classLocal: boolean, x: Float32Array, step: Omit<StepInputs, 'x'>) {
  const buffer = new SharedArrayBuffer(x.byteLength);
  new Float32Array(buffer).set(x);
  const dims = [step.labels.length, x.length / step.labels.length] as const;
  const begin: ToShard = { kind: 'begin', step: { ...step, x: new Float32Array(0) }, buffer, dims };
  let cosTarget: Float64Array | undefined;
  let statistics: ChunkStatistics[];
  if (classLocal) {
    const targets = await Promise.all(threads.map((t) => t.request(begin, 'targets')));
    cosTarget = new Float64Array(step.labels.length);
    for (const { values } of targets) for (let i = 0; i < values.length; i++) cosTarget[i]! += values[i]!;
    statistics = (await Promise.all(threads.map((t) => t.request({ kind: 'statistics', cosTarget }, 'statistics')))).map((m) => m.statistics);
  } else {
    statistics = (await Promise.all(threads.map((t) => t.request(begin, 'statistics')))).map((m) => m.statistics);
  }
  const finished = await Promise.all(threads.map((t) => t.request({ kind: 'finish', statistics, cosTarget }, 'finished')));
  const gradient = new Float64Array(x.length);
  for (const f of finished) for (let i = 0; i < gradient.length; i++) gradient[i]! += f.gradient[i]!;
  return { rows: finished[0]!.rows as RowReport, gradient: Float32Array.from(gradient) };
}

/**
 * Trains a head's centres over S class shards in worker threads (Node): shard r owns the classes
 * `splitCheckpoint` gives it, its centres and SGD velocity (transferred to it once), and a backend
 * of its own (`ortBackend` over onnxruntime-node, `threadsPerShard` threads). Per step only the
 * embeddings (one SharedArrayBuffer read by every shard), the labels, [B]-sized statistics and the
 * [B, D] embedding-gradient shares cross between threads; every shard merges all the statistics
 * (in shard order, so they agree to the bit), runs the margin's row terms and its backward pass
 * ({@link @marginkit/core!index.classShard | classShard}), and updates its centres in place. The loss and gradients are
 * {@link @marginkit/core!index.chunkedMarginSoftmaxStep | chunkedMarginSoftmaxStep}'s with the same chunks. `save()` returns the
 * head and the velocity in the checkpoint format, merged: a run saved with 4 shards resumes with 2.
 *
 * @param options - the checkpoint to start from, the optimizer, S, threads; see {@link ShardedHeadTrainerOptions}.
 * @returns the trainer; `terminate()` it when done (workers keep the process alive).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { CosFaceLoss } from '@marginkit/losses';
 * import { shardedHeadTrainer } from '@marginkit/losses/node';
 * const head = new CosFaceLoss(tfjsBackend(tf), { numClasses: 10, embeddingSize: 4, scale: 16, seed: 1 });
 * const trainer = await shardedHeadTrainer({ checkpoint: await head.save(), shards: 2, learningRate: 0.1 });
 * try {
 *   const x = Float32Array.from({ length: 8 * 4 }, (_, i) => Math.sin(i));
 *   const first = await trainer.step(x, [0, 1, 2, 3, 4, 5, 6, 9]);
 *   const second = await trainer.step(x, [0, 1, 2, 3, 4, 5, 6, 9]);
 *   const saved = await trainer.save();
 *   console.log(trainer.ranges, second.loss < first.loss, saved.checkpoint.classRange); // [[0, 5], [5, 10]] true [0, 10]
 * } finally {
 *   await trainer.terminate();
 * }
 * ```
 */
export async function shardedHeadTrainer(options: ShardedHeadTrainerOptions): Promise<ShardedHeadTrainer> {
  const p = plan(options);
  const classLocal = createLossRegistry().margin(p.checkpoint.config.margin).classLocal === true;
  const threads = await startShards(p);
  const base = p.checkpoint;
  let state: Record<string, Float32Array> = Object.fromEntries(Object.entries(base.state).map(([k, v]) => [k, Float32Array.from(v.data)]));
  let steps = 0;
  let terminated = false;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <R>(f: () => Promise<R>): Promise<R> => {
    const run = queue.then(() => {
      if (terminated) throw new BackendError('trainer', 'was terminated');
      return f();
    });
    queue = run.catch(() => undefined);
    return run;
  };
  return {
    shards: p.shards,
    ranges: classShardRanges(base.config.numClasses, p.shards),
    get steps() {
      return steps;
    },
    step: (embeddings, labels, stepOptions = {}) =>
      serial(async () => {
        const { x, y } = checkStep(p, embeddings, labels);
        const training = stepOptions.training ?? true;
        const inputs = stepOptions.inputs ?? {};
        const { rows, gradient } = await stepShards(threads, classLocal, x, { labels: y, state, inputs, training });
        if (training) {
          state = { ...rows.state };
          steps++;
        }
        return {
          loss: rows.loss,
          perSample: rows.perSample,
          ...(rows.auxiliaryLoss === undefined ? {} : { auxiliaryLoss: rows.auxiliaryLoss }),
          embeddingsGradient: gradient,
        };
      }),
    state: () => Object.fromEntries(Object.entries(state).map(([k, v]) => [k, v.slice()])),
    save: () =>
      serial(async () => {
        const saved = await Promise.all(threads.map((t) => t.request({ kind: 'save' }, 'saved')));
        const ranges = classShardRanges(base.config.numClasses, p.shards);
        const stateOut = Object.fromEntries(Object.entries(base.state).map(([k, v]) => [k, { shape: v.shape, data: Array.from(state[k]!) }]));
        const shard = (r: number, centers: Float32Array): HeadCheckpoint => ({ ...base, state: stateOut, classRange: ranges[r]!, centers });
        return {
          checkpoint: mergeCheckpoints(saved.map((s, r) => shard(r, s.centers))),
          velocity: mergeCheckpoints(saved.map((s, r) => shard(r, s.velocity))),
        };
      }),
    terminate: async () => {
      await queue;
      terminated = true;
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}
