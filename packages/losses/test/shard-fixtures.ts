// What the sharded trainer's tests share: a seeded head checkpoint to start from, and a trainer
// that is always terminated.
import * as tf from '@tensorflow/tfjs';
import { tfjsBackend } from '../../backend-tfjs/src/backend.js';
import { type HeadCheckpoint, createHead } from '../src/index.js';
import { type ShardedHeadTrainer, shardedHeadTrainer } from '../src/node.js';

/** The checkpoint of a head of `classes` classes (seed 3, scale 16, centres N(0, 1)) with this margin config. @internal */
export async function headCheckpoint(
  margin: Record<string, unknown>,
  sizes: { readonly classes: number; readonly dim: number; readonly subCenters?: number },
): Promise<HeadCheckpoint> {
  const head = createHead(tfjsBackend(tf), {
    margin: margin as { type: string },
    numClasses: sizes.classes,
    subCenters: sizes.subCenters ?? 1,
    embeddingSize: sizes.dim,
    scale: 16,
    seed: 3,
    init: { kind: 'normal', std: 1 },
  });
  const checkpoint = await head.save();
  head.dispose();
  return checkpoint;
}

/** Runs `f` on a new trainer and terminates its workers whatever happens. @internal */
export async function withTrainer<R>(options: Parameters<typeof shardedHeadTrainer>[0], f: (t: ShardedHeadTrainer) => Promise<R>): Promise<R> {
  const trainer = await shardedHeadTrainer(options);
  try {
    return await f(trainer);
  } finally {
    await trainer.terminate();
  }
}
