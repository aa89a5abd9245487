import { InvalidArgumentError, ShapeError, checkFinite, readOptions } from '@marginkit/core';
import { type HeadCheckpoint, checkCheckpoint } from './checkpoint.js';
import type { ChunkStore } from './chunk-store.js';
import { forEachOverlap } from './chunk-store.js';
import { momentNames } from './dense-update.js';
import type { HeadConfig } from './head.js';
import { INF, inRange } from './read.js';
import type { SparseOptimizer } from './sparse-optimizer.js';

/** The optimizer part of a {@link ChunkedTrainerCheckpoint}: its state for the checkpoint's classes. */
export interface ChunkedOptimizerCheckpoint {
  /** The optimizer's description (as given to the trainer). */
  readonly optimizer: SparseOptimizer;
  /** The current learning rate η (a schedule may have changed it). */
  readonly learningRate: number;
  /** Steps taken (Adam's bias correction counts them). */
  readonly steps: number;
  /**
   * The buffers by PyTorch's names, row-major over the classes of the head checkpoint
   * ([(end − start)·K, D] each): `momentumBuffer` (SGD with μ > 0), `expAvg` and `expAvgSq` (Adam).
   */
  readonly moments: Readonly<Record<string, Float32Array>>;
}

/**
 * A checkpoint of a {@link ChunkedHeadTrainer}, or a shard of one (a class range): the head part is
 * the package's {@link HeadCheckpoint} (what `encodeCheckpoint`, `splitCheckpoint`,
 * `mergeCheckpoints` and every head's `load` take), the optimizer part its buffers for the same
 * classes. Nothing in it depends on the chunk size, so a run resumes with any other.
 */
export interface ChunkedTrainerCheckpoint {
  /** Config, centres of the class range, margin state and generator state. */
  readonly head: HeadCheckpoint;
  /** The optimizer's state for the same class range. */
  readonly optimizer: ChunkedOptimizerCheckpoint;
}

/** A copy of rows [first, end) of the chunked matrix `chunks` (laid out as `store`). @internal */
export function gatherRows(
  store: Pick<ChunkStore<unknown>, 'rows' | 'starts' | 'dim'>,
  chunks: readonly Float32Array[],
  first: number,
  end: number,
): Float32Array {
  const d = store.dim;
  const out = new Float32Array((end - first) * d);
  forEachOverlap(store, first, end, (k, from, to, at) => out.set(chunks[k]!.subarray(from * d, to * d), at * d));
  return out;
}

/** Writes `rows` (row-major, starting at global row `first`) into the chunked matrix `chunks`. @internal */
export function scatterRows(
  store: Pick<ChunkStore<unknown>, 'rows' | 'starts' | 'dim'>,
  chunks: readonly Float32Array[],
  first: number,
  rows: Float32Array,
): void {
  const d = store.dim;
  forEachOverlap(store, first, first + rows.length / d, (k, from, to, at) => chunks[k]!.set(rows.subarray(at * d, (at + to - from) * d), from * d));
}

/** One shard as loaded: its head checkpoint and, if given, its optimizer part. @internal */
export interface LoadShard {
  readonly head: HeadCheckpoint;
  readonly optimizer: ChunkedOptimizerCheckpoint | undefined;
}

/**
 * Reads what `load` takes — a {@link HeadCheckpoint} (centres only, the optimizer starts afresh),
 * a {@link ChunkedTrainerCheckpoint}, or shards of either that tile [0, C) — checked against the
 * trainer's config and optimizer, sorted by class range.
 * @internal
 */
export function readShards(value: unknown, config: HeadConfig, optimizer: SparseOptimizer): LoadShard[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new InvalidArgumentError('checkpoint', 'expected a checkpoint or a non-empty array of shards');
  const shards = list.map((v: unknown, i) => readShard(Array.isArray(value) ? `checkpoint[${i}]` : 'checkpoint', v, config, optimizer));
  shards.sort((a, b) => a.head.classRange[0] - b.head.classRange[0]);
  const same = JSON.stringify([shards[0]!.head.state, shards[0]!.head.random, optimizerHeader(shards[0]!.optimizer)]);
  let next = 0;
  for (const s of shards) {
    if (s.head.classRange[0] !== next) {
      throw new ShapeError(
        'checkpoint',
        `shards must tile classes [0, ${config.numClasses}): class ${next} is ${s.head.classRange[0] > next ? 'missing' : 'in two shards'}`,
      );
    }
    next = s.head.classRange[1];
    if (JSON.stringify([s.head.state, s.head.random, optimizerHeader(s.optimizer)]) !== same) {
      throw new InvalidArgumentError(
        'checkpoint',
        'shards differ in margin state, generator state or optimizer (steps, learning rate, or some without optimizer state)',
      );
    }
  }
  if (next !== config.numClasses) throw new ShapeError('checkpoint', `shards must tile classes [0, ${config.numClasses}): they end at ${next}`);
  return shards;
}

function optimizerHeader(o: ChunkedOptimizerCheckpoint | undefined): unknown {
  return o === undefined ? null : [o.optimizer, o.learningRate, o.steps];
}

function readShard(argument: string, value: unknown, config: HeadConfig, optimizer: SparseOptimizer): LoadShard {
  const isHead = typeof value === 'object' && value !== null && 'format' in value;
  const o = isHead ? { head: value, optimizer: undefined } : readOptions(argument, value, ['head', 'optimizer']);
  const headArgument = isHead ? argument : `${argument}.head`;
  const head = checkCheckpoint(headArgument, o['head']);
  if (JSON.stringify(head.config) !== JSON.stringify(config)) {
    throw new InvalidArgumentError(
      `${headArgument}.config`,
      `does not match this trainer: checkpoint ${JSON.stringify(head.config)}, trainer ${JSON.stringify(config)}`,
    );
  }
  if (isHead) return { head, optimizer: undefined };
  const rows = (head.classRange[1] - head.classRange[0]) * config.subCenters * config.embeddingSize;
  return { head, optimizer: readOptimizerPart(`${argument}.optimizer`, o['optimizer'], optimizer, rows) };
}

function readOptimizerPart(argument: string, value: unknown, optimizer: SparseOptimizer, size: number): ChunkedOptimizerCheckpoint {
  const o = readOptions(argument, value, ['optimizer', 'learningRate', 'steps', 'moments']);
  if (JSON.stringify(o['optimizer']) !== JSON.stringify(optimizer)) {
    throw new InvalidArgumentError(
      `${argument}.optimizer`,
      `does not match this trainer's: checkpoint ${JSON.stringify(o['optimizer'])}, trainer ${JSON.stringify(optimizer)}`,
    );
  }
  const learningRate = inRange(`${argument}.learningRate`, o['learningRate'], undefined, 0, INF, true, true);
  const steps = o['steps'];
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 0)
    throw new InvalidArgumentError(`${argument}.steps`, `must be an integer ≥ 0, got ${String(steps)}`);
  const names = momentNames(optimizer);
  const given = readOptions(`${argument}.moments`, o['moments'], names);
  const moments: Record<string, Float32Array> = {};
  for (const name of names) {
    const m = given[name];
    if (!(m instanceof Float32Array) || m.length !== size) {
      throw new ShapeError(`${argument}.moments.${name}`, `expected a Float32Array of ${size} values, got ${m instanceof Float32Array ? m.length : typeof m}`);
    }
    checkFinite(`${argument}.moments.${name}`, m, [size]);
    moments[name] = m;
  }
  return { optimizer, learningRate, steps, moments };
}
