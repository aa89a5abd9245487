import { type Margin, arcface, chunkedMarginSoftmaxStep, combinedMargin, cosface, marginSoftmaxStep, noMargin, sphereface } from '@marginkit/core';
import { compareNormwise } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ortBackend } from '../../backend-ort/src/backend.js';
import { tfjsBackend } from '../../backend-tfjs/src/backend.js';
import { useTfBackend } from '../../backend-tfjs/test/tf-variants.js';
import { tilted } from '../../core/test/chunk-fixtures.js';
import { expectTfjsParity } from '../test/chunked-parity.js';

const MARGINS: readonly (readonly [string, Margin])[] = [
  ['arcface', arcface()],
  ['arcface psi, straight-through', arcface({ m: 0.6, fallback: 'psi', gradient: 'straight-through' })],
  ['cosface', cosface()],
  ['sphereface ‖x‖ scale', sphereface({ m: 2, featureScale: 'norm' })],
  ['combinedMargin', combinedMargin()],
  ['noMargin', noMargin()],
  ['class-local logits depending on c_y (the slope term)', tilted],
];

// Loss, per-sample losses and both gradients of the chunked step against tf.valueAndGrads of the
// unchunked marginSoftmaxStep on tfjs cpu (float32): normwise within 1e-5.
describe('chunkedMarginSoftmaxStep on tfjs cpu: values and gradients equal the unchunked step', () => {
  for (const [name, margin] of MARGINS) {
    it.each([4, 3, 1, 11])(`${name}, chunks of %i classes`, (classChunk) => expectTfjsParity({ margin, classChunk }));
  }
  it.each([1, 4])('sub-centres K = 3, chunks of %i classes', (classChunk) => expectTfjsParity({ margin: arcface(), classChunk, subCenters: 3 }));
  it("reduction 'sum'", () => expectTfjsParity({ margin: cosface(), classChunk: 4, reduction: 'sum' }));
  it('badly classified rows at scale 512 (losses in the hundreds)', () =>
    expectTfjsParity({ margin: arcface(), classChunk: 4, scale: 512, labels: [1, 1, 1, 1, 1, 1, 1, 1] }));
  it('well-classified rows (the series range of the unchunked loss): embeddings on their centres at scale 64', () =>
    expectTfjsParity({ margin: cosface({ m: 0.05 }), classChunk: 2, scale: 64, nearCenters: 0.01, classes: 5, labels: [0, 1, 2, 3, 4, 0, 1, 2] }));
});

describe('chunkedMarginSoftmaxStep hands out centre gradients chunk by chunk', () => {
  it('awaits each callback before the next chunk: an async optimizer may update chunk k in place', async () => {
    await useTfBackend('cpu');
    const backend = tfjsBackend(tf);
    const x = tf.randomNormal([6, 5], 0, 1, 'float32', 1);
    const w = tf.randomNormal([10, 5], 0, 1, 'float32', 2);
    const labels = [0, 3, 9, 5, 7, 1];
    const chunks = tf.split(w, [4, 4, 2]).map((t) => tf.variable(t));
    const start = chunks.map((v) => Array.from(v.dataSync()));
    const seen: string[] = [];
    const parts: Float32Array[] = [];
    const step = chunkedMarginSoftmaxStep(backend, { margin: tilted, scale: 16, classChunk: 4 });
    const out = await step(x, chunks, labels, {
      onCentersGradient: async (k, g) => {
        seen.push(`start ${k}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        chunks[k]!.assign(tf.tidy(() => chunks[k]!.sub(tf.tensor(g, chunks[k]!.shape).mul(0.5))));
        parts.push(g);
        seen.push(`end ${k}`);
      },
    });
    expect(seen).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    expect(chunks.every((v, k) => Array.from(v.dataSync()).some((value, i) => value !== start[k]![i]))).toBe(true);
    // The gradients are those at the centres before any update.
    const whole = marginSoftmaxStep(backend, { margin: tilted, scale: 16 });
    const grads = tf.tidy(() =>
      tf
        .grads((a: tf.Tensor, b: tf.Tensor) => whole(a, b, labels).loss)([x, w])
        .map((t) => t.dataSync()),
    );
    expect(compareNormwise(out.embeddingsGradient!, grads[0]!, 1e-5)).toBeUndefined();
    const gw = new Float32Array(50);
    let at = 0;
    for (const p of parts) {
      gw.set(p, at);
      at += p.length;
    }
    expect(compareNormwise(gw, grads[1]!, 1e-5)).toBeUndefined();
    tf.dispose([x, w, ...chunks]);
  });
});

describe('chunkedMarginSoftmaxStep on ONNX Runtime (onnxruntime-node)', () => {
  it('equals the unchunked step, and each pass compiles once per chunk size however many chunks', async () => {
    const backend = ortBackend(ort);
    try {
      const r = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 1.7) * 1.3);
      const [b, d] = [8, 6];
      const options = { margin: tilted, scale: 16, ignoreIndex: -1 as const };
      const run = async (classes: number, classChunk: number) => {
        const xv = r(b * d, 1);
        const wv = r(classes * d, 2);
        const labels = Int32Array.from({ length: b }, (_, i) => (i === 2 ? -1 : (i * 5) % classes));
        const x = backend.tensor(xv, [b, d]);
        const chunks = Array.from({ length: Math.ceil(classes / classChunk) }, (_, k) => {
          const rows = Math.min(classChunk, classes - k * classChunk);
          return backend.tensor(wv.subarray(k * classChunk * d, (k * classChunk + rows) * d), [rows, d]);
        });
        const parts: Float32Array[] = [];
        const before = backend.stats().sessionsCreated;
        const out = await chunkedMarginSoftmaxStep(backend, { ...options, classChunk })(x, chunks, labels, { onCentersGradient: (_, g) => void parts.push(g) });
        const compiled = backend.stats().sessionsCreated - before;
        const step = marginSoftmaxStep(backend, options);
        const whole = await backend.valueAndGradients!((xx, ww) => step(xx!, ww!, labels).loss, [backend.tensor(xv, [b, d]), backend.tensor(wv, [classes, d])]);
        expect(compareNormwise([out.loss], [whole.value], 1e-5)).toBeUndefined();
        expect(compareNormwise(out.embeddingsGradient!, whole.gradients[0]!, 1e-5)).toBeUndefined();
        const gw = new Float32Array(classes * d);
        let at = 0;
        for (const p of parts) {
          gw.set(p, at);
          at += p.length;
        }
        expect(compareNormwise(gw, whole.gradients[1]!, 1e-5)).toBeUndefined();
        return compiled;
      };
      // Pass 0, pass 1, the row pass and pass 2: four graphs for one chunk size, five with a smaller last chunk.
      const first = await run(8, 2);
      expect(first).toBe(4);
      expect(await run(16, 2), 'twice the chunks, same size: nothing new to compile').toBe(0);
      expect(await run(15, 2), 'a smaller last chunk: its passes compile once more').toBe(3);
    } finally {
      await backend.dispose();
    }
  });
});
