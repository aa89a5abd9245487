/**
 * `@marginkit/losses/node`: what needs Node.js (worker threads). {@link shardedHeadTrainer} trains a
 * head over class shards in worker threads on onnxruntime-node.
 *
 * @example
 * ```ts
 * import { shardedHeadTrainer } from '@marginkit/losses/node';
 * console.log(typeof shardedHeadTrainer); // 'function'
 * ```
 *
 * @packageDocumentation
 */
export {
  type ShardedHeadTrainer,
  type ShardedHeadTrainerOptions,
  type ShardedSave,
  type ShardedStepOptions,
  type ShardedStepResult,
  shardedHeadTrainer,
} from './sharded-trainer.js';
