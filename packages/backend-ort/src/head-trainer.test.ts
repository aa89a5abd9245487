import { arcface, cosface, marginSoftmaxLoss } from '@marginkit/core';
import { compareNormwise, seededRandom } from '@marginkit/core/testing';
import { describe, expect, it } from 'vitest';
import { type OrtBackend, ortBackend } from './backend.js';
import { headTrainer } from './head-trainer.js';
import { type HeadOptimizer, adam, sgd } from './optimizers.js';
import { ORT_VARIANTS, ortModule, values } from '../test/ort-variants.js';

const B = 12;
const D = 6;
const C = 5;

function problem(seed: number) {
  const rng = seededRandom(seed);
  const means = Array.from({ length: C * D }, () => rng.normal());
  const labels = Int32Array.from({ length: B }, (_, i) => i % C);
  const x = Float32Array.from({ length: B * D }, (_, k) => means[labels[Math.floor(k / D)]! * D + (k % D)]! + 0.5 * rng.normal());
  const centers = Float32Array.from({ length: C * D }, () => rng.normal());
  return { embeddings: { data: x, dims: [B, D] }, labels: { data: labels, dims: [B] }, centers };
}

/** The loss gradient with respect to the centres at `w`, computed by a separate graph. */
async function centerGradient(backend: OrtBackend, margin: ReturnType<typeof arcface>, p: ReturnType<typeof problem>, w: Float32Array): Promise<number[]> {
  const x = backend.tensor(p.embeddings.data, [B, D], 'float32', 'x');
  const cw = backend.tensor(w, [C, D], 'float32', 'w');
  const y = backend.tensor(p.labels.data, [B], 'int32', 'y');
  const loss = marginSoftmaxLoss(backend, { margin, scale: 8 })(x, cw, y);
  const [g] = await backend.run(backend.gradients(loss, [cw]));
  return values(g!);
}

describe.each(ORT_VARIANTS)('headTrainer on ort-%s', (variant) => {
  const margin = arcface({ m: 0.3 });

  it.each([
    ['sgd with momentum', sgd({ learningRate: 0.5, momentum: 0.9 })],
    ['sgd without momentum (no velocity state)', sgd({ learningRate: 0.5 })],
    ['adam', adam({ learningRate: 0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-6 })],
  ] as const)('%s: each step applies the optimizer rule (float64 replay of the same gradients)', async (_, optimizer: HeadOptimizer) => {
    const backend = ortBackend(ortModule(variant));
    const p = problem(1);
    const trainer = await headTrainer(backend, { loss: marginSoftmaxLoss(backend, { margin, scale: 8 }), centers: p.centers, classes: C, dim: D, optimizer });
    let w = Float64Array.from(p.centers);
    const s1 = new Float64Array(C * D);
    const s2 = new Float64Array(C * D);
    for (let t = 1; t <= 4; t++) {
      const g = await centerGradient(backend, margin, p, trainer.centers());
      await trainer.step(p.embeddings, p.labels);
      w = w.map((wi, i) => {
        if (optimizer.kind === 'sgd') {
          s1[i] = optimizer.momentum * s1[i]! + g[i]!;
          return wi - optimizer.learningRate * s1[i]!;
        }
        s1[i] = optimizer.beta1 * s1[i]! + (1 - optimizer.beta1) * g[i]!;
        s2[i] = optimizer.beta2 * s2[i]! + (1 - optimizer.beta2) * g[i]! ** 2;
        const mHat = s1[i]! / (1 - optimizer.beta1 ** t);
        const vHat = s2[i]! / (1 - optimizer.beta2 ** t);
        return wi - (optimizer.learningRate * mHat) / (Math.sqrt(vHat) + optimizer.epsilon);
      });
      expect(compareNormwise(trainer.centers(), w, 1e-5), `step ${t}`).toBeUndefined();
      w = Float64Array.from(trainer.centers()); // replay from the float32 state, so errors do not compound
    }
    expect(trainer.steps).toBe(4);
    await trainer.dispose();
    await backend.dispose();
  });

  it('training lowers the loss and returns the embeddings gradient', async () => {
    const backend = ortBackend(ortModule(variant));
    const p = problem(2);
    const trainer = await headTrainer(backend, {
      loss: marginSoftmaxLoss(backend, { margin: cosface({ m: 0.2 }), scale: 8 }),
      centers: p.centers,
      classes: C,
      dim: D,
      optimizer: adam({ learningRate: 0.05 }),
    });
    const first = await trainer.step(p.embeddings, p.labels);
    let last = first;
    for (let i = 0; i < 100; i++) last = await trainer.step(p.embeddings, p.labels);
    expect(last.loss).toBeLessThan(first.loss / 2);
    expect(last.embeddingsGradient.dims).toEqual([B, D]);
    expect(values(last.embeddingsGradient).every(Number.isFinite)).toBe(true);
    await trainer.dispose();
    await backend.dispose();
  });

  it('no memory growth over 1,000 steps (RSS, generous bound)', async () => {
    const backend = ortBackend(ortModule(variant));
    const rng = seededRandom(9);
    const [b, d, c] = [64, 64, 500];
    const trainer = await headTrainer(backend, {
      loss: marginSoftmaxLoss(backend, { margin }),
      centers: Float32Array.from({ length: c * d }, () => rng.normal()),
      classes: c,
      dim: d,
      optimizer: sgd({ learningRate: 0.01, momentum: 0.9 }),
    });
    const embeddings = { data: Float32Array.from({ length: b * d }, () => rng.normal()), dims: [b, d] };
    const labels = { data: Int32Array.from({ length: b }, () => rng.int(c)), dims: [b] };
    for (let i = 0; i < 100; i++) await trainer.step(embeddings, labels);
    // RSS every 100 steps; the medians of the first and last three samples damp GC spikes.
    const samples: number[] = [];
    for (let i = 1; i <= 1000; i++) {
      await trainer.step(embeddings, labels);
      if (i % 100 === 0 || i === 1) samples.push(process.memoryUsage().rss / 2 ** 20);
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[1]!;
    const growth = median(samples.slice(-3)) - median(samples.slice(0, 3));
    // One step's buffers are ~0.5 MB; a leak of one per step would add ~500 MB.
    expect(growth, `RSS (MB) every 100 steps: ${samples.map((v) => v.toFixed(0)).join(' ')}`).toBeLessThan(64);
    expect(backend.stats().sessionsCreated).toBe(1);
    await trainer.dispose();
    await backend.dispose();
  }, 120_000);
});

describe('headTrainer output checks', () => {
  it('a step whose new centres sum past float32 but are each finite is taken (the in-graph sum only screens)', async () => {
    const backend = ortBackend(ortModule('node'));
    const p = problem(3);
    // Every centre value near the float32 maximum, all positive: their sum overflows, the values do not.
    const centers = Float32Array.from(p.centers, (v) => 3e38 * (1 + 0.01 * Math.tanh(v)));
    const trainer = await headTrainer(backend, {
      loss: marginSoftmaxLoss(backend, { margin: arcface({ m: 0.3 }), scale: 8 }),
      centers,
      classes: C,
      dim: D,
      optimizer: sgd({ learningRate: 0.1 }),
    });
    const r = await trainer.step(p.embeddings, p.labels);
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(trainer.steps).toBe(1);
    expect(trainer.centers().every(Number.isFinite)).toBe(true);
    await trainer.dispose();
    await backend.dispose();
  });
});
