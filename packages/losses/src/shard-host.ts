/**
 * One class shard of {@link shardedHeadTrainer}, as a worker thread runs it: its centres and SGD
 * velocity (plain Float32Arrays), a backend of its own (one onnxruntime-node session per compiled
 * pass), and the three phases of a step. The messages between the coordinator and a shard.
 *
 * @packageDocumentation
 */
import { type Backend, type ChunkStatistics, type ClassShard, InternalError, classShard, emptyChunkStatistics, mergeChunkStatistics } from '@marginkit/core';
import type { HeadConfig } from './head.js';
import { createLossRegistry } from './registry.js';

/** SGD with momentum as PyTorch has it (no dampening): v ← μ·v + g, w ← w − η·v. @internal */
export interface ShardOptimizer {
  readonly learningRate: number;
  readonly momentum: number;
}

/** What a shard is made of. @internal */
export interface ShardInit {
  readonly config: HeadConfig;
  /** The classes [start, end) it owns. */
  readonly range: readonly [number, number];
  /** Its centres [(end − start)·K, D], owned (transferred) from now on. */
  readonly centers: Float32Array;
  /** Its velocity, same shape. */
  readonly velocity: Float32Array;
  /** Classes per chunk within the shard. */
  readonly classChunk: number;
  readonly optimizer: ShardOptimizer;
}

/** The inputs of one step, the same for every shard. @internal */
export interface StepInputs {
  /** Embeddings [B, D] row-major (a view of a SharedArrayBuffer across threads). */
  readonly x: Float32Array;
  readonly labels: Int32Array;
  readonly state: Readonly<Record<string, Float32Array>>;
  readonly inputs: Readonly<Record<string, Float32Array>>;
  readonly training: boolean;
}

/** What the row pass reports (shard 0's copy is used). @internal */
export interface RowReport {
  readonly loss: number;
  readonly perSample: Float64Array;
  readonly auxiliaryLoss?: number;
  readonly state: Readonly<Record<string, Float32Array>>;
}

/** Coordinator → shard. @internal */
export type ToShard =
  | { readonly kind: 'init'; readonly init: ShardInit; readonly ort: string; readonly threads: number }
  | { readonly kind: 'begin'; readonly step: StepInputs; readonly buffer: SharedArrayBuffer; readonly dims: readonly [number, number] }
  | { readonly kind: 'statistics'; readonly cosTarget: Float64Array | undefined }
  | { readonly kind: 'finish'; readonly statistics: readonly ChunkStatistics[]; readonly cosTarget: Float64Array | undefined }
  | { readonly kind: 'save' };

/** Shard → coordinator. @internal */
export type FromShard =
  | { readonly kind: 'ready' }
  | { readonly kind: 'targets'; readonly values: Float64Array }
  | { readonly kind: 'statistics'; readonly statistics: ChunkStatistics }
  | { readonly kind: 'finished'; readonly gradient: Float32Array; readonly rows: RowReport }
  | { readonly kind: 'saved'; readonly centers: Float32Array; readonly velocity: Float32Array }
  | { readonly kind: 'error'; readonly name: string; readonly message: string };

/** A shard's state between messages. @internal */
export class ShardHost<T> {
  private readonly shard: ClassShard<T>;
  private readonly perRow: number;
  private current: { readonly step: StepInputs; readonly x: T; readonly chunks: T[] } | undefined;

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
  }

  /** Whether the margin needs the target-cosine pass. */
  get classLocal(): boolean {
    return this.shard.classLocal;
  }

  /** Starts a step: pass 0 for class-local margins, else pass 1. */
  async begin(step: StepInputs): Promise<FromShard> {
    this.release();
    const d = this.init.config.embeddingSize;
    const x = this.backend.tensor(step.x, [step.x.length / d, d]);
    const rows = this.init.classChunk * this.perRow;
    const chunks: T[] = [];
    for (let from = 0; from < this.init.centers.length; from += rows) {
      const part = this.init.centers.subarray(from, Math.min(from + rows, this.init.centers.length));
      chunks.push(this.backend.tensor(part, [part.length / d, d]));
    }
    this.current = { step, x, chunks };
    if (this.shard.classLocal) return { kind: 'targets', values: await this.shard.targetCosines(x, chunks, step.labels, this.call()) };
    return this.statistics(undefined);
  }

  /** Pass 1 (class-local margins get the target cosines summed over shards). */
  async statistics(cosTarget: Float64Array | undefined): Promise<FromShard> {
    const { x, chunks, step } = this.active();
    const statistics = await this.shard.statistics(x, chunks, step.labels, { ...this.call(), ...(cosTarget ? { cosTarget } : {}), slopes: true });
    return { kind: 'statistics', statistics };
  }

  /** Merges every shard's statistics (in shard order: every shard gets the same bits), the row pass, pass 2 and the update. */
  async finish(statistics: readonly ChunkStatistics[], cosTarget: Float64Array | undefined): Promise<FromShard> {
    const { x, chunks, step } = this.active();
    const merged = statistics.reduce(mergeChunkStatistics, emptyChunkStatistics(step.labels.length, statistics[0]?.slope !== undefined));
    const given = cosTarget ? { cosTarget } : {};
    const { coefficients, ...rows } = await this.shard.rows(x, step.labels, merged, { ...this.call(), ...given });
    const { centers, velocity, optimizer, classChunk } = this.init;
    const gradient = await this.shard.backward(x, chunks, step.labels, coefficients, {
      ...this.call(),
      onCentersGradient: (k, g) => {
        if (!step.training) return;
        const from = k * classChunk * this.perRow;
        for (let i = 0; i < g.length; i++) {
          const v = optimizer.momentum * velocity[from + i]! + g[i]!;
          velocity[from + i] = v;
          centers[from + i]! -= optimizer.learningRate * v;
        }
      },
    });
    this.release();
    return { kind: 'finished', gradient, rows };
  }

  /** Copies of the centres and velocity. */
  save(): FromShard {
    return { kind: 'saved', centers: this.init.centers.slice(), velocity: this.init.velocity.slice() };
  }

  private call() {
    const { step } = this.active();
    return { state: step.state, inputs: step.inputs, training: step.training };
  }

  private active(): { readonly step: StepInputs; readonly x: T; readonly chunks: T[] } {
    if (this.current === undefined) throw new InternalError('shard: no step in progress (begin first)');
    return this.current;
  }

  private release(): void {
    if (this.current === undefined) return;
    for (const t of [this.current.x, ...this.current.chunks]) this.backend.disposeTensor?.(t);
    this.current = undefined;
  }
}
