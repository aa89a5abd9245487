import { type Margin, chunkedMarginSoftmaxStep, marginSoftmaxStep } from '@marginkit/core';
import { compareNormwise } from '@marginkit/core/testing';
import type * as tfc from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { tfjsBackend } from '../../backend-tfjs/src/backend.js';
import { useTfBackend } from '../../backend-tfjs/test/tf-variants.js';

/** One parity case: a margin and how the classes are chunked, and the step's per-call values. @internal */
export interface ChunkedCase {
  readonly margin: Margin;
  readonly classChunk: number;
  readonly classes?: number;
  readonly subCenters?: number;
  readonly scale?: number;
  /** Standard deviation of the embeddings (MagFace wants norms in [10, 110]). */
  readonly spread?: number;
  readonly labels?: readonly number[];
  readonly reduction?: 'mean' | 'sum';
  readonly state?: Readonly<Record<string, readonly number[]>>;
  readonly inputs?: Readonly<Record<string, readonly number[]>>;
  readonly training?: boolean;
  /** Embeddings on their label's (first) centre plus noise of this size: well-classified rows. */
  readonly nearCenters?: number;
}

const B = 8;
const D = 6;

/**
 * Runs the case on tfjs cpu, chunked and unchunked (marginSoftmaxStep with tf.valueAndGrads), and
 * checks loss, per-sample losses, auxiliary loss, next state and both gradients within `rtol`
 * (normwise), and that no tensor leaks. The chunked step gets the state as float32 values and the
 * inputs as tensors. @internal
 */
export async function expectTfjsParity(c: ChunkedCase, rtol = 1e-5): Promise<void> {
  const tf = await useTfBackend('cpu');
  const backend = tfjsBackend(tf);
  const k = c.subCenters ?? 1;
  const classes = c.classes ?? 11;
  const labels = c.labels ?? [0, 4, -1, 3, 9, 7, 5, 10].map((y) => (y < classes ? y : classes - 1));
  const options = { margin: c.margin, scale: c.scale ?? 16, subCenters: k, ignoreIndex: -1 as const, reduction: c.reduction ?? 'mean' };
  const w = tf.randomNormal([classes * k, D], 0, 1, 'float32', 2);
  const x = tf.tidy(() =>
    c.nearCenters === undefined
      ? tf.randomNormal([B, D], 0, c.spread ?? 1, 'float32', 1)
      : tf.add(
          tf.gather(
            w,
            labels.map((y) => Math.max(y, 0) * k),
          ),
          tf.randomNormal([B, D], 0, c.nearCenters, 'float32', 1),
        ),
  );
  const sizes = Array.from({ length: Math.ceil(classes / c.classChunk) }, (_, i) => Math.min(c.classChunk, classes - i * c.classChunk) * k);
  const chunks = tf.split(w, sizes);
  const specs = c.margin.state ?? {};
  const tensors = () => ({
    state: Object.fromEntries(Object.entries(c.state ?? {}).map(([key, v]) => [key, tf.tensor(v as number[], [...specs[key]!.shape])])),
    inputs: Object.fromEntries(Object.entries(c.inputs ?? {}).map(([key, v]) => [key, tf.tensor1d(v as number[])])),
  });
  const step = marginSoftmaxStep(backend, options);
  const whole = tf.tidy(() => {
    const { state, inputs } = tensors();
    const call = { state, inputs, training: c.training ?? true };
    const r = step(x, w, labels, call);
    const { grads } = tf.valueAndGrads((a: tfc.Tensor, b: tfc.Tensor) => step(a, b, labels, call).loss)([x, w]);
    const read = (t: tfc.Tensor) => Array.from(t.dataSync());
    return {
      loss: read(r.loss),
      perSample: read(r.perSample),
      aux: r.auxiliaryLoss === undefined ? undefined : read(r.auxiliaryLoss),
      state: Object.fromEntries(Object.entries(r.state).map(([key, t]) => [key, read(t)])),
      gx: read(grads[0]!),
      gw: read(grads[1]!),
    };
  });
  const { inputs } = tensors();
  const before = tf.memory().numTensors;
  const parts: Float32Array[] = [];
  const hostState = Object.fromEntries(Object.entries(c.state ?? {}).map(([key, v]) => [key, Float32Array.from(v)]));
  const out = await chunkedMarginSoftmaxStep(backend, { ...options, classChunk: c.classChunk })(x, chunks, labels, {
    state: hostState,
    inputs,
    training: c.training ?? true,
    onCentersGradient: (i, g) => {
      expect(i, 'chunks in order').toBe(parts.length);
      parts.push(g);
    },
  });
  expect(tf.memory().numTensors, 'no tensor leaks').toBe(before);
  tf.dispose([x, w, ...chunks, ...Object.values(inputs)]);
  const gw = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    gw.set(p, at);
    at += p.length;
  }
  const check = (what: string, actual: ArrayLike<number>, expected: ArrayLike<number>) => expect(compareNormwise(actual, expected, rtol), what).toBeUndefined();
  check('loss', [out.loss], whole.loss);
  check('per-sample', out.perSample, whole.perSample);
  expect(out.auxiliaryLoss === undefined, 'has an auxiliary loss').toBe(whole.aux === undefined);
  if (whole.aux !== undefined) check('auxiliary loss', [out.auxiliaryLoss!], whole.aux);
  expect(Object.keys(out.state).sort()).toEqual(Object.keys(whole.state).sort());
  for (const [key, v] of Object.entries(whole.state)) check(`state ${key}`, out.state[key]!, v);
  check('d/dembeddings', out.embeddingsGradient!, whole.gx);
  check('d/dcenters', gw, whole.gw);
}
