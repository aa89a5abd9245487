// Extreme but finite inputs (issue 10, class 3) on every tfjs variant: rows with entries near
// 1e19 and 3e38 normalise without overflow (‖x‖² would overflow float32), so the loss is that of
// the same directions at unit scale and the gradients are finite; a zero row stays finite. The
// centres, whose unit rows are never written (their norms scale the columns of x̂·yᵀ), likewise.
import { arcface, cosface, marginSoftmaxLoss, sphereface } from '@marginkit/core';
import { seededRandom } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { tfjsBackend } from './backend.js';
import { TF_VARIANTS, useTfBackend } from '../test/tf-variants.js';

const [B, D, C] = [5, 4, 3];
const rng = seededRandom(3);
const base = Float32Array.from({ length: B * D }, () => rng.normal());
const centers = Float32Array.from({ length: C * D }, () => rng.normal());
const labels = Int32Array.from({ length: B }, (_, i) => i % C);
const peak = base.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe.each(TF_VARIANTS)('extreme but finite embeddings on tfjs %s', (variant) => {
  it.each([
    ['arcface', arcface()],
    ['cosface', cosface()],
    ['sphereface m = 1.7', sphereface({ m: 1.7 })],
  ] as const)('%s: entries ~1e19 and ~3e38 give the unit-scale loss and finite gradients', async (_, margin) => {
    await useTfBackend(variant);
    const loss = marginSoftmaxLoss(tfjsBackend(tf), { margin, scale: 32 });
    const run = (x: Float32Array) =>
      tf.tidy(() => {
        const [tx, tw, ty] = [tf.tensor2d(x, [B, D]), tf.tensor2d(centers, [C, D]), tf.tensor1d(labels, 'int32')];
        const { value, grads } = tf.valueAndGrads((a: tf.Tensor, w: tf.Tensor) => loss(a, w, ty) as tf.Scalar)([tx, tw]);
        return { value: value.dataSync()[0]!, dx: Array.from(grads[0]!.dataSync()), dw: Array.from(grads[1]!.dataSync()) };
      });
    const unit = run(base);
    for (const target of [1e19, 3e38]) {
      const big = run(Float32Array.from(base, (v) => (v / peak) * target));
      expect(Math.abs(big.value - unit.value), `${target}`).toBeLessThan(1e-5 * Math.max(1, unit.value));
      expect(big.dx.every(Number.isFinite) && big.dw.every(Number.isFinite)).toBe(true);
      expect(Math.max(...big.dw.map((g, i) => Math.abs(g - unit.dw[i]!)))).toBeLessThan(1e-4);
    }
    const zero = Float32Array.from(base);
    zero.fill(0, 0, D);
    const z = run(zero);
    expect(Number.isFinite(z.value) && z.dx.every(Number.isFinite) && z.dw.every(Number.isFinite)).toBe(true);
  });

  it.each([
    ['arcface', arcface()],
    ['sphereface m = 1.7', sphereface({ m: 1.7 })],
  ] as const)('%s: centres with entries ~1e19 and ~3e38 give the unit-scale loss, the same dx and finite dw; a zero centre stays finite', async (_, margin) => {
    await useTfBackend(variant);
    const loss = marginSoftmaxLoss(tfjsBackend(tf), { margin, scale: 32 });
    const x = tf.tensor2d(base, [B, D]);
    const run = (w: Float32Array) =>
      tf.tidy(() => {
        const [tw, ty] = [tf.tensor2d(w, [C, D]), tf.tensor1d(labels, 'int32')];
        const { value, grads } = tf.valueAndGrads((a: tf.Tensor, c: tf.Tensor) => loss(a, c, ty) as tf.Scalar)([x, tw]);
        return { value: value.dataSync()[0]!, dx: Array.from(grads[0]!.dataSync()), dw: Array.from(grads[1]!.dataSync()) };
      });
    const top = centers.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const unit = run(centers);
    for (const target of [1e19, 3e38]) {
      const big = run(Float32Array.from(centers, (v) => (v / top) * target));
      expect(Math.abs(big.value - unit.value), `${target}`).toBeLessThan(1e-5 * Math.max(1, unit.value));
      expect(big.dx.every(Number.isFinite) && big.dw.every(Number.isFinite)).toBe(true);
      expect(Math.max(...big.dx.map((g, i) => Math.abs(g - unit.dx[i]!)))).toBeLessThan(1e-4);
    }
    const zero = Float32Array.from(centers);
    zero.fill(0, 0, D);
    const z = run(zero);
    expect(Number.isFinite(z.value) && z.dx.every(Number.isFinite) && z.dw.every(Number.isFinite)).toBe(true);
    x.dispose();
  });
});
