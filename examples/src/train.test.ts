import { arcface, noMargin } from '@marginkit/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { clusteredData } from './data.js';
import { allPairs } from './pairs.js';
import { trainEmbedding } from './train.js';

describe('the demo training run', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('lowers the loss, classifies held-out data, and ArcFace pulls samples closer to their centres than no margin', async () => {
    const data = clusteredData(tf, { classes: 6, trainPerClass: 30, testPerClass: 15, inputDim: 16, noise: 0.8, seed: 3 });
    const common = { scale: 16, embeddingDim: 8, hidden: 32, epochs: 6, batchSize: 32, learningRate: 0.01, seed: 5 };
    const before = tf.memory().numTensors;
    const plain = await trainEmbedding(tf, data, { ...common, margin: noMargin() });
    const arc = await trainEmbedding(tf, data, { ...common, margin: arcface({ m: 0.5 }) });
    expect(tf.memory().numTensors).toBe(before); // the run frees what it made
    for (const run of [plain, arc]) {
      expect(run.epochs.at(-1)!.loss).toBeLessThan(run.epochs[0]!.loss);
      expect(run.epochs.at(-1)!.accuracy).toBeGreaterThan(0.6); // chance is 1/6
    }
    expect(arc.angles.ownDeg).toBeLessThan(plain.angles.ownDeg);
  });
});

describe('allPairs', () => {
  it('scores every pair i < j once with its same/different label', () => {
    const e = Float32Array.from([1, 0, 0, 1, 1, 0]);
    const { scores, same } = allPairs(e, [5, 6, 5], 2);
    expect(Array.from(scores)).toEqual([0, 1, 0]);
    expect(Array.from(same)).toEqual([0, 1, 0]);
  });
});
