import { ortBackend } from '@marginkit/backend-ort';
import * as ortNode from 'onnxruntime-node';
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
    const plain = await trainEmbedding(tf, data, { ...common, margin: { type: 'none' } });
    const arc = await trainEmbedding(tf, data, { ...common, margin: { type: 'arcface', m: 0.5 } });
    expect(tf.memory().numTensors).toBe(before); // the run frees what it made
    for (const run of [plain, arc]) {
      expect(run.epochs.at(-1)!.loss).toBeLessThan(run.epochs[0]!.loss);
      expect(run.epochs.at(-1)!.accuracy).toBeGreaterThan(0.6); // chance is 1/6
    }
    expect(arc.angles.ownDeg).toBeLessThan(plain.angles.ownDeg);
  });
});

describe('the demo with the head on ONNX Runtime', () => {
  it('trains as well as the tfjs head: the same loss curve within 1e-3 (same seed, same data)', async () => {
    await tf.setBackend('cpu');
    const data = clusteredData(tf, { classes: 5, trainPerClass: 20, testPerClass: 10, inputDim: 12, noise: 0.8, seed: 4 });
    const common = { margin: { type: 'arcface', m: 0.3 }, scale: 16, embeddingDim: 8, hidden: 16, epochs: 3, batchSize: 25, learningRate: 0.01, seed: 2 };
    const onTfjs = await trainEmbedding(tf, data, common);
    const ort = ortBackend(ortNode);
    const onOrt = await trainEmbedding(tf, data, { ...common, ortHead: ort });
    await ort.dispose();
    expect(onOrt.epochs.at(-1)!.loss).toBeLessThan(onOrt.epochs[0]!.loss);
    onOrt.epochs.forEach((e, i) => {
      expect(Math.abs(e.loss - onTfjs.epochs[i]!.loss), `epoch ${i + 1}`).toBeLessThan(1e-3);
    });
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
