import { type Margin, arcface, classShard, classShardRanges, cosface, defineMargin, marginSoftmaxStep, mergeChunkStatistics } from '@marginkit/core';
import { compareNormwise } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { tfjsBackend } from '../../backend-tfjs/src/backend.js';
import { useTfBackend } from '../../backend-tfjs/test/tf-variants.js';
import { adaface, curricularface } from './index.js';

/** Class-local whole-row logits that depend on c_y differentiably (the slope term). */
const tilted = defineMargin({
  type: 'tilted',
  params: { a: 0.3 },
  classLocal: true,
  transform: ({ ops, cosines, cosTarget }, { a }) => ({
    target: ops.sub(cosTarget, ops.scalar(0.2)),
    logits: ops.mul(cosines, ops.add(ops.scalar(1), ops.mul(ops.reshape(cosTarget, [-1, 1]), ops.scalar(a)))),
  }),
});

const B = 8;
const D = 6;
const C = 29;

/**
 * The shard protocol over N shards (classes split as classShardRanges, chunks of 4 within a shard) on
 * tfjs cpu, against tf.grads of the unchunked marginSoftmaxStep: loss, both gradients within 1e-5 normwise.
 */
async function expectShardParity(margin: Margin, shards: number): Promise<void> {
  await useTfBackend('cpu');
  const backend = tfjsBackend(tf);
  const x = tf.randomNormal([B, D], 0, 1, 'float32', 1);
  const w = tf.randomNormal([C, D], 0, 1, 'float32', 2);
  const labels = [0, 5, 28, 3, -1, 14, 21, 9];
  const options = { margin, scale: 16, classes: C, classChunk: 4, ignoreIndex: -1 as const };
  const parts = classShardRanges(C, shards).map(([start, end]) => {
    const sizes = Array.from({ length: Math.ceil((end - start) / 4) }, (_, k) => Math.min(4, end - start - 4 * k));
    return { shard: classShard(backend, { ...options, offset: start }), chunks: tf.split(w.slice([start, 0], [end - start, D]), sizes) };
  });
  let cosTarget: Float64Array | undefined;
  if (margin.classLocal) {
    cosTarget = new Float64Array(B);
    for (const { shard, chunks } of parts) for (const [i, v] of (await shard.targetCosines(x, chunks, labels)).entries()) cosTarget[i]! += v;
  }
  const given = cosTarget ? { cosTarget } : {};
  const stats = await Promise.all(parts.map(({ shard, chunks }) => shard.statistics(x, chunks, labels, { ...given, slopes: true })));
  const rows = await parts[0]!.shard.rows(x, labels, stats.reduce(mergeChunkStatistics), given);
  const gw: number[] = [];
  const gx = new Float32Array(B * D);
  for (const { shard, chunks } of parts) {
    const share = await shard.backward(x, chunks, labels, rows.coefficients, { onCentersGradient: (_, g) => void gw.push(...g) });
    for (const [i, v] of share.entries()) gx[i]! += v;
  }
  const whole = marginSoftmaxStep(backend, { margin, scale: 16, ignoreIndex: -1 });
  const [loss, gxWhole, gwWhole] = tf.tidy(() => {
    const f = (a: tf.Tensor, b: tf.Tensor) => whole(a, b, labels).loss;
    return [
      whole(x, w, labels).loss.dataSync(),
      ...tf
        .grads(f)([x, w])
        .map((t) => t.dataSync()),
    ];
  });
  expect(compareNormwise([rows.loss], loss!, 1e-5), 'loss').toBeUndefined();
  expect(compareNormwise(gx, gxWhole!, 1e-5), 'embeddings gradient').toBeUndefined();
  expect(compareNormwise(gw, gwWhole!, 1e-5), 'centres gradient').toBeUndefined();
  tf.dispose([x, w, ...parts.flatMap((p) => p.chunks)]);
}

describe('the shard protocol (classShard) on tfjs cpu: loss and gradients equal the unchunked step', () => {
  for (const [name, margin] of [
    ['arcface', arcface()],
    ['cosface', cosface()],
    ['class-local logits depending on c_y', tilted],
  ] as const) {
    it.each([1, 2, 3, 7])(`${name}, %i shards`, (shards) => expectShardParity(margin, shards));
  }
  it.each([
    ['CurricularFace', curricularface()],
    ['AdaFace', adaface()],
  ] as const)('the catalogue: %s (class-local, stateful), 3 shards', (_, margin) => expectShardParity(margin, 3));
});
