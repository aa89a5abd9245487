/**
 * The messages between {@link shardedHeadTrainer}'s coordinator and its shards (worker threads),
 * and what a shard is made of.
 *
 * @packageDocumentation
 */
import type { ChunkStatistics } from '@marginkit/core';
import type { HeadConfig } from './head.js';

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
  /** Partial FC's sampling rate r in (0, 1] over the shard's own classes (used by steps that bring a generator state). */
  readonly sampleRate: number;
  /** Keep pass 1's cosines for pass 2 (`'auto'`: when B ≤ D). */
  readonly keepLogits: boolean | 'auto';
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

/**
 * Coordinator → shard. `begin` carries `random`, the shard's own generator state for the step,
 * only on training steps with Partial FC sampling (sampleRate < 1): then the shard samples its
 * classes from it.
 * @internal
 */
export type ToShard =
  | { readonly kind: 'init'; readonly init: ShardInit; readonly ort: string; readonly threads: number }
  | {
      readonly kind: 'begin';
      readonly step: StepInputs;
      readonly buffer: SharedArrayBuffer;
      readonly dims: readonly [number, number];
      readonly random?: readonly number[];
    }
  | { readonly kind: 'statistics'; readonly cosTarget: Float64Array | undefined }
  | { readonly kind: 'finish'; readonly statistics: readonly ChunkStatistics[]; readonly cosTarget: Float64Array | undefined }
  | { readonly kind: 'save' };

/** Shard → coordinator. `sampled`: the global classes the shard sampled this step, sorted (sampling steps only). @internal */
export type FromShard =
  | { readonly kind: 'ready' }
  | { readonly kind: 'targets'; readonly values: Float64Array }
  | { readonly kind: 'statistics'; readonly statistics: ChunkStatistics }
  | { readonly kind: 'finished'; readonly gradient: Float32Array; readonly rows: RowReport; readonly sampled?: Int32Array }
  | { readonly kind: 'saved'; readonly centers: Float32Array; readonly velocity: Float32Array }
  | { readonly kind: 'error'; readonly name: string; readonly message: string };
