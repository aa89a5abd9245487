// Extreme but finite inputs (issue 10, class 3): embeddings and centres near the float32 limits
// normalise without overflow on tfjs (cpu) and ORT, so the loss equals the loss of the same
// directions at unit scale, gradients stay finite, and the norms margins see are right.
import { type OrtModule, ortBackend } from '@marginkit/backend-ort';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import { type Backend, FLOAT32_MAX, type LossConfig, createOps, createRegistry, defineMargin, marginSoftmaxLoss } from '@marginkit/core';
import { seededRandom } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';

ortWeb.env.wasm.numThreads = 1;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const registry = createRegistry();
const [B, D, C] = [6, 5, 4];
const rng = seededRandom(10);
const base = Float32Array.from({ length: B * D }, () => rng.normal());
const centers = Float32Array.from({ length: C * D }, () => rng.normal());
const labels = Int32Array.from({ length: B }, (_, i) => i % C);
const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
/** The same directions, with the largest entry at `target` (3e38 is below FLOAT32_MAX ≈ 3.4e38). */
const scaled = (x: Float32Array, target: number) => Float32Array.from(x, (v) => (v / maxAbs(x)) * target);

interface Result {
  readonly loss: Float32Array;
  readonly dx: Float32Array;
  readonly dw: Float32Array;
}

type Run = (
  config: LossConfig | ((b: Backend<unknown>) => (x: unknown, w: unknown, y: unknown) => unknown),
  x: Float32Array,
  w: Float32Array,
) => Promise<Result>;

const runTfjs: Run = async (config, x, w) => {
  const b = tfjsBackend(tf);
  const loss = typeof config === 'function' ? config(b as Backend<unknown>) : registry.loss(b, config);
  const [tx, tw, ty] = [tf.tensor2d(x, [B, D]), tf.tensor2d(w, [C, D]), tf.tensor1d(labels, 'int32')];
  const { value, grads } = tf.valueAndGrads((a: tf.Tensor, c: tf.Tensor) => tf.sum(loss(a, c, ty) as tf.Tensor))([tx, tw]); // sum: 'none' gives [B]
  const out = { loss: Float32Array.from(value.dataSync()), dx: Float32Array.from(grads[0]!.dataSync()), dw: Float32Array.from(grads[1]!.dataSync()) };
  tf.dispose([tx, tw, ty, value, ...grads]);
  return out;
};

const runOrt =
  (ort: OrtModule): Run =>
  async (config, x, w) => {
    const b = ortBackend(ort);
    const loss = typeof config === 'function' ? config(b as Backend<unknown>) : registry.loss(b, config);
    const ox = b.tensor(x, [B, D], 'float32', 'embeddings');
    const ow = b.tensor(w, [C, D], 'float32', 'centers');
    const ops = createOps(b);
    const v = loss(ox, ow, b.tensor(labels, [B], 'int32', 'labels')) as typeof ox;
    const scalar = ops.shape(v).length === 1 ? ops.sum(v, 0) : v;
    const got = await b.run([scalar, ...b.gradients(scalar, [ox, ow])]);
    await b.dispose();
    return { loss: got[0]!.data as Float32Array, dx: got[1]!.data as Float32Array, dw: got[2]!.data as Float32Array };
  };

const CONFIGS: LossConfig[] = [
  { margin: { type: 'arcface', m: 0.5 }, scale: 64 },
  { margin: { type: 'cosface', m: 0.35 }, scale: 32 },
  { margin: { type: 'sphereface', m: 1.7 }, scale: 16 },
  { margin: { type: 'combined', m1: 1, m2: 0.3, m3: 0.2 }, scale: 64, reduction: 'sum' },
];

const RUNS: [string, Run][] = [
  ['tfjs (cpu)', runTfjs],
  ['onnxruntime-node', runOrt(ortNode)],
  ['onnxruntime-web', runOrt(ortWeb)],
];

const allFinite = (x: Float32Array) => x.every((v) => Number.isFinite(v));
const close = (a: Float32Array, b: Float32Array, tol: number) => {
  const scale = Math.max(1, ...Array.from(b, Math.abs));
  return Array.from(a).every((v, i) => Math.abs(v - b[i]!) <= tol * scale);
};

describe.each(RUNS)('extreme but finite inputs on %s', (_, run) => {
  it.each(CONFIGS.flatMap((c) => [1e19, 3e38].map((t) => [`${c.margin.type} with entries ~${t}`, c, t] as const)))(
    '%s: the loss of the unit-scale directions, finite gradients, the same centre gradient',
    async (__, config, target) => {
      const unit = await run(config, base, centers);
      const big = await run(config, scaled(base, target), centers);
      expect(allFinite(big.loss) && allFinite(big.dx) && allFinite(big.dw)).toBe(true);
      expect(close(big.loss, unit.loss, 1e-5), `${big.loss} vs ${unit.loss}`).toBe(true);
      expect(close(big.dw, unit.dw, 1e-4)).toBe(true);
      // Centres near the limit too: the loss depends only on their directions.
      const both = await run(config, scaled(base, target), scaled(centers, target));
      expect(allFinite(both.loss) && allFinite(both.dx) && allFinite(both.dw)).toBe(true);
      expect(close(both.loss, unit.loss, 1e-5)).toBe(true);
    },
  );

  it('a zero embedding row keeps a finite loss and finite gradients', async () => {
    const x = Float32Array.from(base);
    x.fill(0, 0, D);
    for (const config of CONFIGS) {
      const out = await run(config, x, centers);
      expect(allFinite(out.loss) && allFinite(out.dx) && allFinite(out.dw), JSON.stringify(config.margin)).toBe(true);
    }
  });

  it('the norms margins see are ‖x‖, exact to float32 rounding, for entries near 1e19 and 3e38 (per row)', async () => {
    // A margin whose auxiliary loss is the norm: with reduction 'none', the loss is CE + ‖x‖ ≈ ‖x‖.
    const normMargin = defineMargin({
      type: 'norm-probe',
      params: {},
      transform: ({ ops, cosTarget, norms }) => ({ target: cosTarget, auxiliaryLoss: ops.reshape(norms, [-1]) }),
    });
    const make = (b: Backend<unknown>) => marginSoftmaxLoss(b, { margin: normMargin, scale: 1, reduction: 'none' });
    for (const target of [1e19, 1e30]) {
      const x = scaled(base, target);
      const out = await run(make, x, centers);
      let total = 0;
      for (let i = 0; i < B; i++) {
        let sq = 0;
        for (let j = 0; j < D; j++) sq += x[i * D + j]! ** 2;
        total += Math.sqrt(sq);
      }
      expect(Math.abs(out.loss[0]! - total) / total).toBeLessThan(1e-5);
    }
    // Rows whose norm exceeds the float32 maximum: +Infinity is the correct float32 norm, documented.
    const over = await run(make, scaled(base, 0.9999 * FLOAT32_MAX), centers);
    expect(over.loss[0]).toBe(Number.POSITIVE_INFINITY);
  });
});
