/**
 * One class shard of {@link shardedHeadTrainer}, as a worker thread runs it: its centres and SGD
 * velocity (plain Float32Arrays), a backend of its own (one onnxruntime-node session per compiled
 * pass), and the three phases of a step, over all its classes or, with Partial FC, over the
 * classes it samples. The messages are in shard-messages.ts.
 *
 * @packageDocumentation
 */
import {
  type Backend,
  type ChunkStatistics,
  type ClassShard,
  InternalError,
  LogitsCache,
  centerNorms,
  classShard,
  emptyChunkStatistics,
  keepsLogits,
  mergeChunkStatistics,
} from '@marginkit/core';
import { createLossRegistry } from './registry.js';
import type { FromShard, ShardInit, StepInputs } from './shard-messages.js';
import { type ShardSample, sampleShard } from './shard-sampling.js';
import { type ShardRows, momentumUpdate, sampledUpdate } from './shard-update.js';

/** A step in progress: its inputs (labels as the passes take them), the embeddings, the chunks, and the sample if any. */
interface Current<T> {
  readonly step: StepInputs;
  readonly x: T;
  readonly chunks: T[];
  readonly sample: ShardSample | undefined;
  /** The norms of the chunks' rows, per chunk (views of the shard's norms, or gathered for a sample). */
  readonly norms: Float64Array[];
  /** Pass 1's cosines for pass 2 where B ≤ D (no more than the gradient's bytes; see LogitsCache). */
  readonly logits: LogitsCache | undefined;
}

/** A shard's state between messages. @internal */
export class ShardHost<T> {
  private readonly shard: ClassShard<T>;
  private readonly perRow: number;
  private readonly marks: Uint8Array;
  /** The centres, velocity and the norm of every centre row, kept up to date by each update. */
  private readonly state: ShardRows;
  private current: Current<T> | undefined;

  constructor(
    private readonly backend: Backend<T> & { tensor(values: ArrayLike<number>, shape: readonly number[]): T },
    private readonly init: ShardInit,
  ) {
    const c = init.config;
    const margin = createLossRegistry().margin(c.margin);
    this.shard = classShard(backend, {
      margin,
      scale: c.scale,
      epsilon: c.epsilon,
      normEpsilon: c.normEpsilon,
      subCenters: c.subCenters,
      reduction: c.reduction,
      ...(c.ignoreIndex === -1 ? { ignoreIndex: -1 as const } : {}),
      classes: c.numClasses,
      offset: init.range[0],
      classChunk: init.classChunk,
      validate: 'shapes',
    });
    this.perRow = c.subCenters * c.embeddingSize;
    this.marks = new Uint8Array(init.range[1] - init.range[0]);
    this.state = { centers: init.centers, velocity: init.velocity, norms: centerNorms(init.centers, c.embeddingSize), dim: c.embeddingSize };
  }

  /** Whether the margin needs the target-cosine pass. */
  get classLocal(): boolean {
    return this.shard.classLocal;
  }

  /**
   * Starts a step: pass 0 for class-local margins, else pass 1. With `random` (training steps
   * with sampling) the passes run over the classes sampled from it, with the labels relabelled
   * (see sampleShard); without it, over every class of the shard.
   */
  async begin(step: StepInputs, random: readonly number[] | undefined): Promise<FromShard> {
    this.release();
    if (random !== undefined && !step.training) throw new InternalError('shard: an evaluation step does not sample');
    const { centers, sampleRate, range } = this.init;
    const sample = random === undefined ? undefined : sampleShard(range, step.labels, sampleRate, random, { centers, perRow: this.perRow, marks: this.marks });
    const d = this.init.config.embeddingSize;
    const x = this.backend.tensor(step.x, [step.x.length / d, d]);
    const rows = sample?.centers ?? centers;
    const allNorms = sample === undefined ? this.state.norms : this.sampleNorms(sample.classes);
    const size = this.init.classChunk * this.perRow;
    const chunks: T[] = [];
    const norms: Float64Array[] = [];
    for (let from = 0; from < rows.length; from += size) {
      const part = rows.subarray(from, Math.min(from + size, rows.length));
      // Read in place where the backend can (ORT's share): no copy of the shard's centres per step.
      chunks.push(this.backend.share ? this.backend.share(part, [part.length / d, d]) : this.backend.tensor(part, [part.length / d, d]));
      norms.push(allNorms.subarray(from / d, (from + part.length) / d));
    }
    const logits = keepsLogits(this.init.keepLogits, step.x.length / d, d) ? new LogitsCache() : undefined;
    this.current = { step: sample === undefined ? step : { ...step, labels: sample.labels }, x, chunks, sample, norms, logits };
    if (this.shard.classLocal) return { kind: 'targets', values: await this.shard.targetCosines(x, chunks, this.current.step.labels, this.chunkCall()) };
    return this.statistics(undefined);
  }

  /** Pass 1 (class-local margins get the target cosines summed over shards). */
  async statistics(cosTarget: Float64Array | undefined): Promise<FromShard> {
    const { x, chunks, step, logits } = this.active();
    const kept = logits === undefined ? {} : { logits };
    const statistics = await this.shard.statistics(x, chunks, step.labels, { ...this.chunkCall(), ...(cosTarget ? { cosTarget } : {}), slopes: true, ...kept });
    return { kind: 'statistics', statistics };
  }

  /** Merges every shard's statistics (in shard order: every shard gets the same bits), the row pass, pass 2 and the update. */
  async finish(statistics: readonly ChunkStatistics[], cosTarget: Float64Array | undefined): Promise<FromShard> {
    const { x, chunks, step, sample, logits } = this.active();
    const merged = statistics.reduce(mergeChunkStatistics, emptyChunkStatistics(step.labels.length, statistics[0]?.slope !== undefined));
    const given = cosTarget ? { cosTarget } : {};
    const { coefficients, ...rows } = await this.shard.rows(x, step.labels, merged, { ...this.call(), ...given });
    const { optimizer, classChunk } = this.init;
    const { dim } = this.state;
    const subCenters = this.perRow / dim;
    const gradient = await this.shard.backward(x, chunks, step.labels, coefficients, {
      ...this.chunkCall(),
      ...(logits === undefined ? {} : { logits }),
      normTerm: 'defer',
      onCentersGradient: (k, g, normCoefficients) => {
        if (!step.training) return;
        const grad = { g, coefficients: normCoefficients };
        if (sample === undefined) momentumUpdate(optimizer, this.state, grad, { at: k * classChunk * subCenters, from: 0, rows: g.length / dim });
        else sampledUpdate(optimizer, sample.classes, { index: k, classChunk, subCenters }, grad, this.state);
      },
    });
    this.release();
    return { kind: 'finished', gradient, rows, ...(sample === undefined ? {} : { sampled: sample.global }) };
  }

  /** Copies of the centres and velocity. */
  save(): FromShard {
    return { kind: 'saved', centers: this.init.centers.slice(), velocity: this.init.velocity.slice() };
  }

  private call() {
    const { step } = this.active();
    return { state: step.state, inputs: step.inputs, training: step.training };
  }

  /** {@link ShardHost.call} and the chunks' norms, for the passes over the chunks. */
  private chunkCall() {
    return { ...this.call(), centerNorms: this.active().norms };
  }

  /** The norms of the sampled classes' rows (K per class), in sample order. */
  private sampleNorms(classes: Int32Array): Float64Array {
    const k = this.perRow / this.state.dim;
    const out = new Float64Array(classes.length * k);
    for (let j = 0; j < classes.length; j++) out.set(this.state.norms.subarray(classes[j]! * k, (classes[j]! + 1) * k), j * k);
    return out;
  }

  private active(): Current<T> {
    if (this.current === undefined) throw new InternalError('shard: no step in progress (begin first)');
    return this.current;
  }

  private release(): void {
    if (this.current === undefined) return;
    for (const t of [this.current.x, ...this.current.chunks]) this.backend.disposeTensor?.(t);
    this.current = undefined;
  }
}
