// The options of shardedHeadTrainer, checked before any worker starts (the plan), and each
// step's embeddings and labels, checked before any worker sees them.

import { availableParallelism } from 'node:os';
import {
  InvalidArgumentError,
  type Margin,
  checkFinite,
  checkLabelValues,
  checkLabelsShape,
  checkNumber,
  checkTypedArray,
  readKeepLogits,
} from '@marginkit/core';
import { type HeadCheckpoint, checkCheckpoint } from './checkpoint.js';
import { seededGenerator } from './random.js';
import { createLossRegistry } from './registry.js';
import type { ShardedHeadTrainerOptions } from './sharded-trainer.js';

/** The checked options. @internal */
export interface Plan {
  readonly checkpoint: HeadCheckpoint;
  readonly velocity: HeadCheckpoint | undefined;
  readonly shards: number;
  readonly classChunk: number;
  readonly learningRate: number;
  readonly momentum: number;
  readonly threads: number;
  readonly ort: string;
  /** The margin, from the checkpoint's config through the registry. */
  readonly margin: Margin;
  /** Partial FC's r; 1 = no sampling. */
  readonly sampleRate: number;
  /** Whether each worker keeps pass 1's cosines for pass 2 (`'auto'`: when B ≤ D, decided per step). */
  readonly keepLogits: boolean | 'auto';
}

/**
 * The `sampleRate` option: r in (0, 1], default 1. Below 1 the margin must be stateless and take
 * no per-step inputs (the reason `PartialFCLoss` gives: their batch statistics would be taken over
 * the sampled classes), and the checkpoint's `random` must be a generator state.
 */
function readSampleRate(owner: string, value: unknown, margin: Margin, random: readonly number[]): number {
  const argument = `${owner}.sampleRate`;
  const rate = checkNumber(argument, value === undefined ? 1 : value, { min: 0, minOpen: true, max: 1 });
  if (rate === 1) return rate;
  const state = Object.keys(margin.state ?? {});
  const inputs = Object.keys(margin.inputs ?? {});
  if (state.length > 0 || inputs.length > 0) {
    const carries = state.length > 0 ? `state (${state.join(', ')})` : `per-step inputs (${inputs.join(', ')})`;
    throw new InvalidArgumentError(
      argument,
      `is ${rate}, but the checkpoint's margin '${margin.type}' carries ${carries}, which Partial FC sampling does not support: ` +
        'its statistics would be taken over the sampled classes. Train it with sampleRate 1 (the full softmax), ' +
        'or start from a head with a stateless margin (arcface, cosface, combinedMargin, ...)',
    );
  }
  seededGenerator(random, `${owner}.checkpoint.random`);
  if (random.every((v) => v === 0)) throw new InvalidArgumentError(`${owner}.checkpoint.random`, 'is all zeros, which is not a generator state');
  return rate;
}

/** Checks the options (nothing starts on bad ones). @internal */
export function plan(options: ShardedHeadTrainerOptions): Plan {
  const owner = 'shardedHeadTrainer';
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${owner}.options`, 'expected { checkpoint, learningRate, ... }');
  const known = ['checkpoint', 'velocity', 'shards', 'classChunk', 'learningRate', 'momentum', 'threadsPerShard', 'ort', 'sampleRate', 'keepLogits'];
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
  const margin = createLossRegistry().margin(checkpoint.config.margin);
  return {
    checkpoint,
    velocity,
    shards,
    classChunk: checkNumber(`${owner}.classChunk`, options.classChunk ?? widest, { min: 1, integer: true }),
    learningRate: checkNumber(`${owner}.learningRate`, options.learningRate, { min: 0, max: 1e6 }),
    momentum: checkNumber(`${owner}.momentum`, options.momentum ?? 0.9, { min: 0, max: 1, maxOpen: true }),
    threads: checkNumber(`${owner}.threadsPerShard`, options.threadsPerShard ?? 1, { min: 1, max: 1024, integer: true }),
    ort,
    margin,
    sampleRate: readSampleRate(owner, options.sampleRate, margin, checkpoint.random),
    keepLogits: readKeepLogits(`${owner}.keepLogits`, options.keepLogits),
  };
}

/** Checks a step's embeddings and labels against the config. @internal */
export function checkStep(p: Plan, embeddings: unknown, labels: unknown): { x: Float32Array; y: Int32Array } {
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
