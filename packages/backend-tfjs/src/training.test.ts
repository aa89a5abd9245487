import { type Margin, arcface, combinedMargin, cosface, cosineLogits, marginSoftmaxLoss, noMargin, sphereface } from '@marginkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tfjsBackend } from './backend.js';
import { logitsCrossEntropy, marginHeadLayer } from './layer.js';
import { TF_VARIANTS, useTfBackend } from '../test/tf-variants.js';

/** Gaussian clusters: class k at a random unit centre, samples with noise. */
function clusters(tf: Awaited<ReturnType<typeof useTfBackend>>, classes: number, perClass: number, dim: number, seed: number) {
  return tf.tidy(() => {
    const centres = tf.randomNormal([classes, dim], 0, 1, 'float32', seed);
    const labels = tf.tensor1d(
      Array.from({ length: classes * perClass }, (_, i) => i % classes),
      'int32',
    );
    const x = tf.add(tf.gather(centres, labels), tf.randomNormal([classes * perClass, dim], 0, 0.7, 'float32', seed + 1));
    return { x, labels };
  });
}

describe.each(TF_VARIANTS)('training on tfjs %s', (variant) => {
  it('leaks no tensors over 100 optimizer steps', async () => {
    const tf = await useTfBackend(variant);
    const loss = marginSoftmaxLoss(tfjsBackend(tf), { margin: arcface(), scale: 16 });
    const { x, labels } = clusters(tf, 5, 8, 6, 1);
    const projection = tf.variable(tf.randomNormal([6, 4], 0, 0.5, 'float32', 2));
    const centers = tf.variable(tf.randomNormal([5, 4], 0, 1, 'float32', 3));
    const optimizer = tf.train.adam(0.05);
    const step = () => optimizer.minimize(() => loss(tf.matMul(x, projection), centers, labels) as import('@tensorflow/tfjs').Scalar, true)?.dispose();
    step(); // the first step creates the optimizer's slot variables
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, labels, projection, centers]);
    optimizer.dispose();
  });

  it('trains: ArcFace loss falls and accuracy rises on clustered data', async () => {
    const tf = await useTfBackend(variant);
    const backend = tfjsBackend(tf);
    const loss = marginSoftmaxLoss(backend, { margin: arcface({ m: 0.3 }), scale: 16 });
    const cos = cosineLogits(backend);
    const { x, labels } = clusters(tf, 6, 20, 8, 10);
    const projection = tf.variable(tf.randomNormal([8, 8], 0, 0.3, 'float32', 11));
    const centers = tf.variable(tf.randomNormal([6, 8], 0, 1, 'float32', 12));
    const optimizer = tf.train.adam(0.05);
    const lossAt = () => tf.tidy(() => (loss(tf.matMul(x, projection), centers, labels) as import('@tensorflow/tfjs').Tensor).dataSync()[0]!);
    const accuracy = () =>
      tf.tidy(() => {
        const predicted = tf.argMax(cos(tf.matMul(x, projection), centers), 1);
        return tf.mean(tf.cast(tf.equal(predicted, labels), 'float32')).dataSync()[0]!;
      });
    const first = lossAt();
    const acc0 = accuracy();
    for (let i = 0; i < 60; i++)
      optimizer.minimize(() => loss(tf.matMul(x, projection), centers, labels) as import('@tensorflow/tfjs').Scalar, true)?.dispose();
    expect(lossAt()).toBeLessThan(first * 0.5);
    expect(accuracy()).toBeGreaterThan(Math.max(acc0, 0.9));
    tf.dispose([x, labels, projection, centers]);
    optimizer.dispose();
  });
});

describe('finite loss and gradients for any finite input (property, tfjs cpu)', () => {
  const margins: Margin[] = [
    arcface(),
    arcface({ fallback: 'psi' }),
    arcface({ fallback: 'easy' }),
    arcface({ fallback: 'none' }),
    arcface({ gradient: 'straight-through' }),
    cosface(),
    sphereface(),
    sphereface({ m: 1.35, lambda: 5, featureScale: 'norm' }),
    combinedMargin({ m1: 1.2 }),
    noMargin(),
  ];
  it.each(margins.map((m) => [JSON.stringify(m.config), m] as const))('%s', async (_, margin) => {
    const tf = await useTfBackend('cpu');
    const loss = marginSoftmaxLoss(tfjsBackend(tf), { margin, scale: 128 });
    const value = fc.oneof(
      fc.constant(0),
      fc.constant(1),
      fc.constant(-1),
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.double({ min: -1e-20, max: 1e-20, noNaN: true }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(value, { minLength: 12, maxLength: 12 }),
        fc.array(value, { minLength: 9, maxLength: 9 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
        async (xs, ws, ys) => {
          const [l, gx, gw] = tf.tidy(() => {
            const x = tf.tensor2d(xs, [4, 3]);
            const w = tf.tensor2d(ws, [3, 3]);
            const y = tf.tensor1d(ys, 'int32');
            const { value: v, grads } = tf.valueAndGrads((a: import('@tensorflow/tfjs').Tensor, b: import('@tensorflow/tfjs').Tensor) => loss(a, b, y))([x, w]);
            return [v.dataSync(), grads[0]!.dataSync(), grads[1]!.dataSync()];
          });
          for (const arr of [l, gx, gw]) for (const v of arr) expect(Number.isFinite(v)).toBe(true);
        },
      ),
      { numRuns: 40, seed: 42 },
    );
  });
});

describe('the head as a tf.layers.Layer', () => {
  it('trains with model.fit, predicts scaled cosines, and survives save/load', async () => {
    const tf = await useTfBackend('cpu');
    const Head = marginHeadLayer(tf);
    const input = tf.input({ shape: [8] });
    const labelInput = tf.input({ shape: [1], dtype: 'int32' });
    const embedding = tf.layers
      .dense({ units: 6, kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) })
      .apply(input) as import('@tensorflow/tfjs').SymbolicTensor;
    const head = new Head({ numClasses: 4, margin: { type: 'cosface', m: 0.3 }, scale: 16, seed: 2 });
    const logits = head.apply([embedding, labelInput]) as import('@tensorflow/tfjs').SymbolicTensor;
    const model = tf.model({ inputs: [input, labelInput], outputs: logits });
    model.compile({ optimizer: tf.train.adam(0.03), loss: logitsCrossEntropy(tf) });
    const { x, labels } = clusters(tf, 4, 16, 8, 5);
    const history = await model.fit([x, labels], tf.oneHot(labels, 4), { epochs: 25, batchSize: 16, verbose: 0, shuffle: false });
    const losses = history.history['loss'] as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.5);

    // Inference output is s·cos(x̂, Ŵ) without margin.
    const predicted = model.predict([x, labels]) as import('@tensorflow/tfjs').Tensor;
    const embedModel = tf.model({ inputs: input, outputs: embedding });
    const expected = tf.mul(cosineLogits(tfjsBackend(tf))(embedModel.predict(x) as import('@tensorflow/tfjs').Tensor, head.centers()), 16);
    expect(tf.max(tf.abs(tf.sub(predicted, expected))).dataSync()[0]).toBeLessThan(1e-4);

    // Save to memory and load back: same config, same outputs.
    let artifacts: import('@tensorflow/tfjs').io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    tf.serialization.registerClass(Head);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const reloaded = loaded.predict([x, labels]) as import('@tensorflow/tfjs').Tensor;
    expect(tf.max(tf.abs(tf.sub(reloaded, predicted))).dataSync()[0]).toBeLessThan(1e-5);
    const config = loaded.layers.find((l) => l.getClassName() === 'MarginSoftmaxHead')!.getConfig();
    expect(config['margin']).toEqual({ type: 'cosface', m: 0.3, fallback: 'none', gradient: 'exact' });
    expect(config['numClasses']).toBe(4);
  });
});
