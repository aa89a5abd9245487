import { arcface, marginSoftmaxStep } from '@marginkit/core';
import { compareNormwise, seededRandom } from '@marginkit/core/testing';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ortBackend } from '../../backend-ort/src/backend.js';
import { ChunkedHeadTrainer } from './chunked-trainer.js';
import { sparseSgd } from './partial-fc.js';

// With SGD-momentum and D a multiple of 4 the trainer updates in WebAssembly (sgd-kernel.ts), and on
// ONNX Runtime (`backend.share`) its centres live in the kernel's memory, bound to the chunk tensors.

const [B, D, C] = [8, 8, 11];
const LABELS = Int32Array.from([0, 4, -1, 3, 9, 4, 5, 10]);
const SGD = sparseSgd({ learningRate: 0.5, momentum: 0.9 });
const normals = (seed: number, n: number) => {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
};
const options = (classChunk: number) =>
  ({ margin: arcface(), numClasses: C, embeddingSize: D, scale: 16, classChunk, optimizer: SGD, init: { kind: 'normal', std: 1 }, seed: 3 }) as const;

const backend = ortBackend(ort, { validate: 'shapes' });
afterAll(() => backend.dispose());

describe('ChunkedHeadTrainer with the WebAssembly update, on ONNX Runtime', () => {
  it('equals the unchunked step + SGD-momentum in float64 (PyTorch’s rule) over three steps', async () => {
    const trainer = await ChunkedHeadTrainer.create(backend, options(4));
    const step = marginSoftmaxStep(backend, { margin: arcface(), scale: 16, ignoreIndex: -1 });
    const w = Float64Array.from(trainer.centers());
    const v = new Float64Array(w.length);
    for (let t = 1; t <= 3; t++) {
      const x = backend.tensor(normals(100 + t, B * D), [B, D]);
      const ref = await backend.valueAndGradients!((a, b) => step(a!, b!, LABELS).loss, [x, backend.tensor(Float32Array.from(w), [C, D])]);
      const out = await trainer.step(x, LABELS);
      expect(compareNormwise([out.loss], [ref.value], 1e-5)).toBeUndefined();
      for (let j = 0; j < w.length; j++) {
        v[j] = 0.9 * v[j]! + ref.gradients[1]![j]!;
        w[j]! -= 0.5 * v[j]!;
      }
      expect(compareNormwise(trainer.centers(), w, 1e-5), `step ${t}`).toBeUndefined();
    }
  });

  it('the chunk tensors read the centres where the update writes them: one array per chunk, in the kernel’s memory', async () => {
    const trainer = await ChunkedHeadTrainer.create(backend, options(4));
    // The same seed draws the same centres as a trainer that keeps them in arrays of their own (plain SGD).
    const plain = await ChunkedHeadTrainer.create(backend, { ...options(4), optimizer: sparseSgd({ learningRate: 0.5 }) });
    expect(Array.from(trainer.centers())).toEqual(Array.from(plain.centers()));
    const bound = await backend.read!(trainer.chunkTensors[1]!);
    expect(bound).toBeInstanceOf(Float32Array);
    // A view on a WebAssembly memory (velocity and scratch beside it), not an array of its own.
    expect((bound as Float32Array).buffer.byteLength).toBeGreaterThan((bound as Float32Array).byteLength);
    await trainer.step(backend.tensor(normals(5, B * D), [B, D]), LABELS);
    expect(await backend.read!(trainer.chunkTensors[1]!)).toBe(bound);
    expect(Array.from(bound)).toEqual(Array.from(trainer.centers(4, 8)));
  });

  it('saved with chunks of 4, resumed with chunks of 3 (and of 4, bit for bit), continues as the uninterrupted run', async () => {
    const xs = [1, 2, 3].map((i) => backend.tensor(normals(200 + i, B * D), [B, D]));
    const a = await ChunkedHeadTrainer.create(backend, options(4));
    await a.step(xs[0]!, LABELS);
    const saved = a.save();
    const b = await ChunkedHeadTrainer.create(backend, { ...options(3), seed: 99 });
    b.load(saved);
    const c = await ChunkedHeadTrainer.create(backend, { ...options(4), seed: 99 });
    c.load(saved);
    for (const x of xs.slice(1)) {
      const [ra, rb, rc] = [await a.step(x, LABELS), await b.step(x, LABELS), await c.step(x, LABELS)];
      expect(compareNormwise([rb.loss], [ra.loss], 1e-6)).toBeUndefined();
      expect(rc.loss).toBe(ra.loss);
    }
    expect(compareNormwise(b.centers(), a.centers(), 1e-6)).toBeUndefined();
    expect(Array.from(c.centers())).toEqual(Array.from(a.centers()));
  });
});
