import { readFileSync } from 'node:fs';
import { type OrtModule, adam, headTrainer, ortBackend, sgd } from '@marginkit/backend-ort';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import { type LossConfig, createRegistry } from '@marginkit/core';
import { type LossFixtures, compareNormwise, seededRandom } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';

ortWeb.env.wasm.numThreads = 1;
const fixtures = JSON.parse(readFileSync(new URL('../../../fixtures/margin-losses.json', import.meta.url), 'utf8')) as LossFixtures;
const MODULES: [string, OrtModule][] = [
  ['onnxruntime-node', ortNode],
  ['onnxruntime-web', ortWeb],
];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const registry = createRegistry();
const CONFIGS: LossConfig[] = [
  { margin: { type: 'none' }, scale: 16 },
  { margin: { type: 'cosface', m: 0.35 }, scale: 32 },
  { margin: { type: 'arcface', m: 0.5 }, scale: 64 },
  { margin: { type: 'arcface', m: 0.5, fallback: 'easy' }, scale: 64 },
  { margin: { type: 'arcface', m: 0.5, fallback: 'psi', gradient: 'straight-through' }, scale: 64 },
  { margin: { type: 'sphereface', m: 4 }, scale: 16 },
  { margin: { type: 'sphereface', m: 1.7, lambda: 5 }, scale: 16 },
  { margin: { type: 'sphereface', m: 4, featureScale: 'norm' }, scale: 16 },
  { margin: { type: 'combined', m1: 1.2, m2: 0.3, m3: 0.2 }, scale: 64, reduction: 'sum' },
  {
    margin: {
      type: 'compose',
      margins: [
        { type: 'arcface', m: 0.3 },
        { type: 'cosface', m: 0.1 },
      ],
    },
    scale: 30,
  },
];

function inputs(seed: number, b: number, d: number, c: number) {
  const rng = seededRandom(seed);
  return {
    x: Float32Array.from({ length: b * d }, () => rng.normal()),
    w: Float32Array.from({ length: c * d }, () => rng.normal()),
    y: Int32Array.from({ length: b }, () => rng.int(c)),
  };
}

describe.each(MODULES)('backend-ort (%s) equals backend-tfjs (cpu)', (_, ort) => {
  it.each(CONFIGS.map((c) => [JSON.stringify(c.margin), c] as const))('%s: loss and both gradients within 1e-4, on random inputs', async (__, config) => {
    const [B, D, C] = [16, 12, 9];
    const { x, w, y } = inputs(JSON.stringify(config).length, B, D, C);
    // tfjs
    const tb = tfjsBackend(tf);
    const tfLoss = registry.loss(tb, config);
    const [tx, tw, ty] = [tf.tensor2d(x, [B, D]), tf.tensor2d(w, [C, D]), tf.tensor1d(y, 'int32')];
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => tfLoss(a, b, ty))([tx, tw]);
    const expected = { loss: Array.from(value.dataSync()), dx: Array.from(grads[0]!.dataSync()), dw: Array.from(grads[1]!.dataSync()) };
    tf.dispose([tx, tw, ty, value, ...grads]);
    // ORT
    const ob = ortBackend(ort);
    const ox = ob.placeholder('embeddings', [-1, D]);
    const ow = ob.placeholder('centers', [C, D]);
    const loss = registry.loss(ob, config)(ox, ow, ob.placeholder('labels', [-1], 'int32'));
    const [dx, dw] = ob.gradients(loss, [ox, ow]);
    const graph = await ob.compile({ loss, dx: dx!, dw: dw! });
    const out = await graph.run({ embeddings: { data: x, dims: [B, D] }, centers: { data: w, dims: [C, D] }, labels: { data: y, dims: [B] } });
    await ob.dispose();
    for (const k of ['loss', 'dx', 'dw'] as const) {
      expect(compareNormwise(out[k]!.data as Float32Array, expected[k], 1e-4), k).toBeUndefined();
    }
  });

  it('on every fixture case (each margin × fallback × gradient policy, edge cases included): loss and both gradients within 1e-4 of tfjs', async () => {
    const tb = tfjsBackend(tf);
    const ob = ortBackend(ort);
    const failures: string[] = [];
    for (const c of fixtures.cases) {
      const [B, D] = c.embeddings.shape as [number, number];
      const C = c.centers.shape[0]!;
      const tfLoss = registry.loss(tb, c.config);
      const [tx, tw, ty] = [tf.tensor2d([...c.embeddings.data], [B, D]), tf.tensor2d([...c.centers.data], [C, D]), tf.tensor1d([...c.labels], 'int32')];
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => tfLoss(a, b, ty))([tx, tw]);
      const expected = [Array.from(value.dataSync()), Array.from(grads[0]!.dataSync()), Array.from(grads[1]!.dataSync())];
      tf.dispose([tx, tw, ty, value, ...grads]);
      const ox = ob.tensor(c.embeddings.data, [B, D], 'float32', 'embeddings');
      const ow = ob.tensor(c.centers.data, [C, D], 'float32', 'centers');
      const loss = registry.loss(ob, c.config)(ox, ow, ob.tensor(c.labels, [B], 'int32', 'labels'));
      const got = await ob.run([loss, ...ob.gradients(loss, [ox, ow])]);
      ['loss', 'd/dembeddings', 'd/dcenters'].forEach((what, k) => {
        const msg = compareNormwise(got[k]!.data as Float32Array, expected[k]!, 1e-4);
        if (msg) failures.push(`${c.name} ${what}: ${msg}`);
      });
    }
    await ob.dispose();
    expect(failures).toEqual([]);
  });

  it.each([
    ['SGD with momentum', 'sgd'],
    ['Adam', 'adam'],
  ] as const)('a head trained 200 steps on ORT (%s) reaches the loss tfjs reaches, within 1e-3', async (__, kind) => {
    const [B, D, C, steps] = [32, 16, 10, 200];
    const rng = seededRandom(11);
    const means = Array.from({ length: C * D }, () => rng.normal());
    const batches = Array.from({ length: 4 }, () => {
      const y = Int32Array.from({ length: B }, () => rng.int(C));
      const x = Float32Array.from({ length: B * D }, (_, k) => means[y[Math.floor(k / D)]! * D + (k % D)]! + 0.7 * rng.normal());
      return { x, y };
    });
    const w0 = Float32Array.from({ length: C * D }, () => 0.1 * rng.normal());
    const config: LossConfig = { margin: { type: 'arcface', m: 0.3 }, scale: 16 };
    const [lr, momentum, beta1, beta2, epsilon] = [kind === 'sgd' ? 0.05 : 0.01, 0.9, 0.9, 0.999, 1e-7];

    // tfjs: the same loss, tf.train.momentum / tf.train.adam on a variable.
    const tb = tfjsBackend(tf);
    const tfLoss = registry.loss(tb, config);
    const centers = tf.variable(tf.tensor2d(w0, [C, D]));
    const optimizer = kind === 'sgd' ? tf.train.momentum(lr, momentum) : tf.train.adam(lr, beta1, beta2, epsilon);
    const tfLosses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const { x, y } = batches[s % batches.length]!;
      const [xt, yt] = [tf.tensor2d(x, [B, D]), tf.tensor1d(y, 'int32')];
      const cost = optimizer.minimize(() => tfLoss(xt, centers, yt) as tf.Scalar, true);
      if (!cost) throw new Error('minimize returned no cost');
      tfLosses.push(cost.dataSync()[0]!);
      tf.dispose([cost, xt, yt]);
    }
    optimizer.dispose();
    centers.dispose();

    // ORT: headTrainer, everything in one session per step.
    const ob = ortBackend(ort);
    const trainer = await headTrainer(ob, {
      loss: registry.loss(ob, config),
      centers: w0,
      classes: C,
      dim: D,
      optimizer: kind === 'sgd' ? sgd({ learningRate: lr, momentum }) : adam({ learningRate: lr, beta1, beta2, epsilon }),
    });
    const ortLosses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const { x, y } = batches[s % batches.length]!;
      ortLosses.push((await trainer.step({ data: x, dims: [B, D] }, { data: y, dims: [B] })).loss);
    }
    await trainer.dispose();
    await ob.dispose();

    expect(ortLosses[steps - 1]!).toBeLessThan(ortLosses[0]! / 2); // it learned
    expect(Math.abs(ortLosses[steps - 1]! - tfLosses[steps - 1]!), `final loss ${ortLosses[steps - 1]} vs tfjs ${tfLosses[steps - 1]}`).toBeLessThan(1e-3);
    expect(compareNormwise(ortLosses, tfLosses, 1e-3), 'the whole loss curve').toBeUndefined();
  });
});
