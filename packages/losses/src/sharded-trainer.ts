/**
 * {@link shardedHeadTrainer}: a head's classes split by range over worker threads, each a shard
 * with its own onnxruntime-node sessions, centres and SGD velocity.
 *
 * @packageDocumentation
 */
import { type Transferable, Worker } from 'node:worker_threads';
import { BackendError, type ChunkStatistics, classShardRanges } from '@marginkit/core';
import { type HeadCheckpoint, mergeCheckpoints, splitCheckpoint } from './checkpoint.js';
import { jumpedStreams } from './random.js';
import type { FromShard, RowReport, ShardInit, StepInputs, ToShard } from './shard-messages.js';
import { type Plan, checkStep, plan } from './sharded-plan.js';

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
  /**
   * Partial FC's sampling rate r in (0, 1]; default 1, no sampling (the full softmax). Below 1,
   * each training step every shard samples its own class range [start, end) as insightface's
   * model-parallel `PartialFC_V2` does on each rank: the classes of the batch's labels in its
   * range plus classes drawn uniformly from the rest of it, min(n, max(2, ⌊r·n⌋)) in all for
   * n = end − start (all of the positives when there are more); the softmax is over the union
   * of the shards' samples, and only the sampled rows' centres and velocity are updated (the
   * rest keep their bits: no momentum decay). The margin must carry no state and no per-step
   * inputs (as for `PartialFCLoss`). Evaluation steps (`training: false`) do not sample.
   */
  readonly sampleRate?: number;
  /**
   * Whether each worker keeps its statistics pass's cosines for its backward pass (a
   * `LogitsCache`), which then runs two matmuls instead of three: B·(C/S) float32 values per
   * worker held within the step. Default `'auto'`: when B ≤ D (no more than the centres'
   * gradient would take).
   */
  readonly keepLogits?: boolean | 'auto';
}

/** Per-step options of {@link ShardedHeadTrainer.step}. */
export interface ShardedStepOptions {
  /** The margin's per-step inputs ([B] each), for margins that have them (ElasticFace). */
  readonly inputs?: Readonly<Record<string, Float32Array>>;
  /**
   * A training step (the margin's state advances, the centres are updated); default true. An
   * evaluation step (`false`) takes the loss over every class even with `sampleRate` < 1, updates
   * nothing and does not advance the sampling generator.
   */
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
  /**
   * Training steps with `sampleRate` < 1: the classes whose centres took part (and were updated),
   * every shard's sample, in global numbering, sorted ascending. Absent otherwise (every class took part).
   */
  readonly sampled?: Int32Array;
}

/** What {@link ShardedHeadTrainer.save} returns: both in the losses package's checkpoint format. */
export interface ShardedSave {
  /**
   * The head: centres of every class, the margin's state, the config, and in `random` the state
   * of the trainer's generator (with `sampleRate` < 1, where the next step's sampling continues).
   */
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
   * One step: the loss over every class (on training steps with `sampleRate` < 1, over the
   * classes the shards sampled, reported as `sampled`), the embedding gradient, and each shard's
   * SGD-momentum update of its centres (of its sampled rows only, when sampling). Embeddings and
   * labels are checked here, before any worker sees them.
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
          sampleRate: p.sampleRate,
          keepLogits: p.keepLogits,
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

/**
 * One step over the shards: (target cosines,) statistics, then every shard merges, runs the rows
 * and its backward. With `streams` (Partial FC), shard r samples its classes from `streams[r]`
 * and reports them; their concatenation in shard order is sorted, as the ranges are.
 */
async function stepShards(
  threads: readonly ShardThread[],
  classLocal: boolean,
  x: Float32Array,
  step: Omit<StepInputs, 'x'>,
  streams: readonly (readonly number[])[] | undefined,
) {
  const buffer = new SharedArrayBuffer(x.byteLength);
  new Float32Array(buffer).set(x);
  const dims = [step.labels.length, x.length / step.labels.length] as const;
  const shared = { kind: 'begin', step: { ...step, x: new Float32Array(0) }, buffer, dims } as const;
  const begin = (r: number): ToShard => (streams === undefined ? shared : { ...shared, random: streams[r]! });
  let cosTarget: Float64Array | undefined;
  let statistics: ChunkStatistics[];
  if (classLocal) {
    const targets = await Promise.all(threads.map((t, r) => t.request(begin(r), 'targets')));
    cosTarget = new Float64Array(step.labels.length);
    for (const { values } of targets) for (let i = 0; i < values.length; i++) cosTarget[i]! += values[i]!;
    statistics = (await Promise.all(threads.map((t) => t.request({ kind: 'statistics', cosTarget }, 'statistics')))).map((m) => m.statistics);
  } else {
    statistics = (await Promise.all(threads.map((t, r) => t.request(begin(r), 'statistics')))).map((m) => m.statistics);
  }
  const finished = await Promise.all(threads.map((t) => t.request({ kind: 'finish', statistics, cosTarget }, 'finished')));
  const gradient = new Float64Array(x.length);
  for (const f of finished) for (let i = 0; i < gradient.length; i++) gradient[i]! += f.gradient[i]!;
  return { rows: finished[0]!.rows as RowReport, gradient: Float32Array.from(gradient), sampled: streams && concatSamples(finished) };
}

/** The shards' samples, in shard order (so sorted): the step's `sampled`. */
function concatSamples(finished: readonly Extract<FromShard, { kind: 'finished' }>[]): Int32Array {
  const parts = finished.map((f, r) => {
    if (f.sampled === undefined) throw new BackendError(`shards[${r}]`, 'finished a sampling step without reporting its sample');
    return f.sampled;
  });
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
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
 * Partial FC (`sampleRate` r < 1) is sampled per shard, as insightface's model-parallel
 * `PartialFC_V2.sample` does per rank (deepinsight/insightface `recognition/arcface_torch/partial_fc_v2.py`,
 * read at 7fadd420c2351d0ffa8cac403421c1a3ed733365, last changed in 4f227ba5b4157df0a995a33bbd25c2e4036a82d5):
 * each training step, each shard draws from its own range its positives plus uniformly drawn
 * other classes, gathers their centre rows and runs the same passes over them with the labels of
 * its range relabelled to their position in its sample (the others' labels stay: they fall
 * outside its sample's range anyway, so no extra message is needed). The loss is the margin
 * softmax over the union of the samples; only the sampled rows' centres and velocity are
 * updated, by the same SGD-momentum rule. Randomness: the trainer holds one xoroshiro128+ state
 * (the checkpoint's `random`); at each sampling step shard r draws from that state jumped r
 * times (2⁶⁴·r draws ahead) and the state moves S jumps on; `save()` stores it, so a run resumed
 * with the same S samples exactly as an uninterrupted one. Resumed with another S the ranges,
 * and so the samples, differ (the training is as valid, not the same draws). Evaluation steps do
 * not sample.
 *
 * @param options - the checkpoint to start from, the optimizer, S, threads, the sampling rate; see {@link ShardedHeadTrainerOptions}.
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
 *
 * @example
 * ```ts
 * // Partial FC per shard: each of 2 shards of 50 classes samples 10 per step (its positives first).
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { ArcFaceLoss } from '@marginkit/losses';
 * import { shardedHeadTrainer } from '@marginkit/losses/node';
 * const head = new ArcFaceLoss(tfjsBackend(tf), { numClasses: 100, embeddingSize: 4, scale: 16, seed: 1 });
 * const trainer = await shardedHeadTrainer({ checkpoint: await head.save(), shards: 2, learningRate: 0.1, sampleRate: 0.2 });
 * try {
 *   const x = Float32Array.from({ length: 4 * 4 }, (_, i) => Math.cos(i));
 *   const { sampled } = await trainer.step(x, [3, 42, 57, 99]);
 *   console.log(sampled!.length, [3, 42, 57, 99].every((c) => sampled!.includes(c))); // 20 true
 *   const evaluation = await trainer.step(x, [3, 42, 57, 99], { training: false });
 *   console.log(evaluation.sampled); // undefined
 * } finally {
 *   await trainer.terminate();
 * }
 * ```
 */
export async function shardedHeadTrainer(options: ShardedHeadTrainerOptions): Promise<ShardedHeadTrainer> {
  const p = plan(options);
  const classLocal = p.margin.classLocal === true;
  const threads = await startShards(p);
  const base = p.checkpoint;
  let state: Record<string, Float32Array> = Object.fromEntries(Object.entries(base.state).map(([k, v]) => [k, Float32Array.from(v.data)]));
  // The coordinator's generator (xoroshiro128+ state), advanced only by training steps that sample.
  let random: readonly number[] = [...base.random];
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
        // Shard r samples from the coordinator's state jumped r times; the next step starts S jumps on.
        const draw = training && p.sampleRate < 1 ? jumpedStreams(random, p.shards) : undefined;
        const { rows, gradient, sampled } = await stepShards(threads, classLocal, x, { labels: y, state, inputs, training }, draw?.streams);
        if (training) {
          state = { ...rows.state };
          steps++;
        }
        if (draw !== undefined) random = draw.next;
        return {
          loss: rows.loss,
          perSample: rows.perSample,
          ...(rows.auxiliaryLoss === undefined ? {} : { auxiliaryLoss: rows.auxiliaryLoss }),
          embeddingsGradient: gradient,
          ...(sampled === undefined ? {} : { sampled }),
        };
      }),
    state: () => Object.fromEntries(Object.entries(state).map(([k, v]) => [k, v.slice()])),
    save: () =>
      serial(async () => {
        const saved = await Promise.all(threads.map((t) => t.request({ kind: 'save' }, 'saved')));
        const ranges = classShardRanges(base.config.numClasses, p.shards);
        const stateOut = Object.fromEntries(Object.entries(base.state).map(([k, v]) => [k, { shape: v.shape, data: Array.from(state[k]!) }]));
        const shard = (r: number, centers: Float32Array): HeadCheckpoint => ({
          ...base,
          state: stateOut,
          random: [...random],
          classRange: ranges[r]!,
          centers,
        });
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
