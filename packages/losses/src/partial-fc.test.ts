import * as ortApi from '@marginkit/backend-ort';
import { ortBackend } from '@marginkit/backend-ort';
import * as tfjsApi from '@marginkit/backend-tfjs';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import * as coreApi from '@marginkit/core';
import {
  type Backend,
  InvalidBackendError,
  DTypeError,
  InvalidArgumentError,
  LabelError,
  type Margin,
  MarginDomainError,
  NonFiniteError,
  ShapeError,
  arcface,
  cosface,
  marginSoftmaxLoss,
} from '@marginkit/core';
import { compareNormwise, expectTypedError, expectTypedRejection, seededRandom } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import * as ortNode from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { remapLabels, sampleClasses } from './class-sampler.js';
import { adaface } from './margins/adaface.js';
import { elasticface } from './margins/elasticface.js';
import * as pfcApi from './partial-fc.js';
import { type PartialFCOptions, PartialFCLoss, sparseAdam, sparseSgd } from './partial-fc.js';
import type { SparseOptimizer } from './sparse-optimizer.js';
import { tsdocExampleSuite } from '../test/tsdoc-examples.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const backend = (): Backend<tf.Tensor, tf.Scalar> => tfjsBackend(tf);

function normals(seed: number, n: number, scale = 1): Float32Array {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

function randomLabels(seed: number, n: number, classes: number, ignored: readonly number[] = []): Int32Array {
  const rng = seededRandom(seed);
  const out = Int32Array.from({ length: n }, () => rng.int(classes));
  for (const i of ignored) out[i] = -1;
  return out;
}

/** The rows `rows` of a row-major [*, d] matrix. */
function gatherRows(m: Float32Array, rows: ArrayLike<number>, d: number): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) for (let k = 0; k < d; k++) out[i * d + k] = m[rows[i]! * d + k]!;
  return out;
}

/**
 * The margin loss and both gradients over the given centres, on tfjs cpu, with `tf.grads` over
 * core's `marginSoftmaxLoss` (the full, unsampled loss when `centers` are all of them).
 */
function reference(margin: Margin, scale: number, x: Float32Array, centers: Float32Array, labels: Int32Array, d: number) {
  const b = labels.length;
  const c = centers.length / d;
  const loss = marginSoftmaxLoss(backend(), { margin, scale, ignoreIndex: -1 });
  return tf.tidy(() => {
    const xt = tf.tensor2d(x, [b, d]);
    const wt = tf.tensor2d(centers, [c, d]);
    const yt = tf.tensor1d(labels, 'int32');
    const f = (xx: tf.Tensor, ww: tf.Tensor) => loss(xx, ww, yt) as tf.Scalar;
    const value = f(xt, wt).dataSync()[0]!;
    const [gx, gw] = tf.grads(f)([xt, wt]);
    return { loss: value, gx: Float32Array.from(gx!.dataSync()), gw: Float32Array.from(gw!.dataSync()) };
  });
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Rows (of width d) whose bits differ between `a` and `b`, among the rows not marked in `skip`. */
function changedRows(a: Float32Array, b: Float32Array, d: number, skip: Uint8Array): number[] {
  const x = bits(a);
  const y = bits(b);
  const out: number[] = [];
  for (let r = 0; r < skip.length; r++) {
    if (skip[r]) continue;
    for (let k = 0; k < d; k++) {
      if (x[r * d + k] !== y[r * d + k]) {
        out.push(r);
        break;
      }
    }
  }
  return out;
}

function mark(classes: number, ...sets: ArrayLike<number>[]): Uint8Array {
  const m = new Uint8Array(classes);
  for (const s of sets) for (let i = 0; i < s.length; i++) m[s[i]!] = 1;
  return m;
}

function expectSortedUnique(s: Int32Array): void {
  for (let i = 1; i < s.length; i++) expect(s[i]! > s[i - 1]!, `sampled[${i}] = ${s[i]} after ${s[i - 1]}`).toBe(true);
}

function make(options: Partial<PartialFCOptions> & Pick<PartialFCOptions, 'numClasses' | 'embeddingSize'>): PartialFCLoss<tf.Tensor, tf.Scalar> {
  return new PartialFCLoss(backend(), { margin: arcface(), sampleRate: 0.1, optimizer: sparseSgd({ learningRate: 0.1 }), ...options });
}

describe('PartialFCLoss at sampleRate 1 is the full margin softmax', () => {
  it('one step: loss, embeddings gradient and the SGD update W − η·g equal the full loss over all centres', async () => {
    const [classes, dim, batch, lr] = [50, 8, 16, 0.5];
    const margin = arcface({ m: 0.5 });
    const pfc = make({
      numClasses: classes,
      embeddingSize: dim,
      margin,
      scale: 16,
      sampleRate: 1,
      optimizer: sparseSgd({ learningRate: lr, momentum: 0.9 }),
      seed: 3,
    });
    const w0 = pfc.centers();
    const x = normals(1, batch * dim);
    const labels = randomLabels(2, batch, classes, [5]);
    const ref = reference(margin, 16, x, w0, labels, dim);
    const xt = tf.tensor2d(x, [batch, dim]);
    const out = await pfc.step(xt, labels);
    xt.dispose();
    expect(Array.from(out.sampled)).toEqual(Array.from({ length: classes }, (_, i) => i));
    expect(Math.abs(out.loss - ref.loss)).toBeLessThanOrEqual(1e-6 * Math.abs(ref.loss));
    expect(compareNormwise(out.embeddingsGradient, ref.gx, 1e-6)).toBeUndefined();
    const expected = Float64Array.from(w0, (w, i) => w - lr * ref.gw[i]!);
    expect(compareNormwise(pfc.centers(), expected, 1e-6)).toBeUndefined();
    expect(compareNormwise(pfc.optimizerState()['momentumBuffer']!, ref.gw, 1e-6)).toBeUndefined();
    // The update is not trivial: every class with a gradient moved.
    expect(compareNormwise(pfc.centers(), w0, 1e-3)).toBeDefined();
  });
});

describe('PartialFCLoss at sampleRate 0.1 on 100,000 classes', () => {
  const [classes, dim, batch] = [100_000, 8, 64];
  const x1 = normals(10, batch * dim);
  const x2 = normals(11, batch * dim);
  // Duplicates (two rows per class in part of the batch) and ignored rows.
  const y1 = randomLabels(12, batch, classes, [0, 17]);
  y1.set(y1.subarray(20, 30), 30);
  const y2 = randomLabels(13, batch, classes, [9]);
  y2.set(y1.subarray(40, 50), 50); // some classes are positives in both steps

  const checkSample = (sampled: Int32Array, labels: Int32Array) => {
    expect(sampled.length).toBe(10_000);
    expectSortedUnique(sampled);
    expect(sampled[0]! >= 0 && sampled[sampled.length - 1]! < classes).toBe(true);
    const inSample = mark(classes, sampled);
    for (const l of labels) if (l >= 0) expect(inSample[l], `positive ${l} sampled`).toBe(1);
  };

  /** The step's loss and embeddings gradient against the margin loss over the sampled rows, labels remapped by indexOf. */
  const checkLoss = (out: pfcApi.PartialFCStepResult, before: Float32Array, labels: Int32Array, x: Float32Array) => {
    const sampled = Array.from(out.sampled);
    const remapped = Int32Array.from(labels, (l) => (l < 0 ? -1 : sampled.indexOf(l)));
    const ref = reference(arcface(), 64, x, gatherRows(before, out.sampled, dim), remapped, dim);
    expect(Math.abs(out.loss - ref.loss)).toBeLessThanOrEqual(1e-6 * Math.abs(ref.loss));
    expect(compareNormwise(out.embeddingsGradient, ref.gx, 1e-6)).toBeUndefined();
  };

  it('SGD with momentum, two steps: unsampled rows keep centres and momentum bit for bit', async () => {
    const pfc = make({ numClasses: classes, embeddingSize: dim, sampleRate: 0.1, optimizer: sparseSgd({ learningRate: 0.1, momentum: 0.9 }) });
    expect(pfc.numSample).toBe(10_000);
    const w0 = pfc.centers();
    const s1 = await pfc.step(tf.tensor2d(x1, [batch, dim]), y1);
    checkSample(s1.sampled, y1);
    checkLoss(s1, w0, y1, x1);
    const w1 = pfc.centers();
    const v1 = pfc.optimizerState()['momentumBuffer']!;
    expect(changedRows(w0, w1, dim, mark(classes, s1.sampled))).toEqual([]);
    expect(changedRows(new Float32Array(classes * dim), v1, dim, mark(classes, s1.sampled))).toEqual([]);
    // The positives did move.
    const pos = Array.from(y1).filter((l) => l >= 0);
    expect(changedRows(w0, w1, dim, mark(classes)).filter((r) => pos.includes(r)).length).toBe(new Set(pos).size);

    const s2 = await pfc.step(tf.tensor2d(x2, [batch, dim]), y2);
    checkSample(s2.sampled, y2);
    checkLoss(s2, w1, y2, x2);
    const w2 = pfc.centers();
    const v2 = pfc.optimizerState()['momentumBuffer']!;
    expect(changedRows(w1, w2, dim, mark(classes, s2.sampled))).toEqual([]);
    expect(changedRows(v1, v2, dim, mark(classes, s2.sampled))).toEqual([]);
    // Rows sampled in step 1 but not in step 2 carry momentum that did not decay (the check above has teeth).
    const onlyFirst = mark(classes, s1.sampled);
    for (const r of s2.sampled) onlyFirst[r] = 0;
    const carried = Array.from(onlyFirst.keys()).filter((r) => onlyFirst[r] && pos.includes(r));
    expect(carried.length).toBeGreaterThan(0);
    for (const r of carried) expect(v2.subarray(r * dim, r * dim + dim).some((v) => v !== 0)).toBe(true);
  });

  it('Adam, two steps: unsampled rows keep centres, both moments and their step count', async () => {
    const pfc = make({ numClasses: classes, embeddingSize: dim, sampleRate: 0.1, optimizer: sparseAdam({ learningRate: 0.01 }) });
    const w0 = pfc.centers();
    const s1 = await pfc.step(tf.tensor2d(x1, [batch, dim]), y1);
    checkSample(s1.sampled, y1);
    checkLoss(s1, w0, y1, x1);
    const w1 = pfc.centers();
    const st1 = pfc.optimizerState();
    const s2 = await pfc.step(tf.tensor2d(x2, [batch, dim]), y2);
    checkSample(s2.sampled, y2);
    const st2 = pfc.optimizerState();
    const w2 = pfc.centers();
    const skip2 = mark(classes, s2.sampled);
    expect(changedRows(w0, w1, dim, mark(classes, s1.sampled))).toEqual([]);
    expect(changedRows(w1, w2, dim, skip2)).toEqual([]);
    expect(changedRows(st1['expAvg']!, st2['expAvg']!, dim, skip2)).toEqual([]);
    expect(changedRows(st1['expAvgSq']!, st2['expAvgSq']!, dim, skip2)).toEqual([]);
    const in1 = mark(classes, s1.sampled);
    const in2 = mark(classes, s2.sampled);
    const steps = st2['step']!;
    expect(steps.length).toBe(classes);
    for (let r = 0; r < classes; r++) {
      if (steps[r] !== in1[r]! + in2[r]!) throw new Error(`row ${r}: step ${steps[r]}, sampled ${in1[r]} + ${in2[r]}`);
    }
    expect(steps.some((s) => s === 2)).toBe(true);
  });
});

/** Float64 replay of the sparse optimizer rules, from the gradients of the sampled rows. */
class Replay {
  readonly w: Float64Array;
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly t: Float64Array;
  steps = 0;
  constructor(
    w: Float32Array,
    readonly opt: SparseOptimizer,
    readonly d: number,
  ) {
    this.w = Float64Array.from(w);
    this.a = new Float64Array(w.length);
    this.b = new Float64Array(w.length);
    this.t = new Float64Array(w.length / d);
  }
  apply(sampled: Int32Array, g: Float32Array, lr: number): void {
    const { opt, d, w, a, b, t } = this;
    this.steps++;
    for (let i = 0; i < sampled.length; i++) {
      const r = sampled[i]!;
      t[r]!++;
      for (let k = 0; k < d; k++) {
        const j = r * d + k;
        const grad = g[i * d + k]! + opt.weightDecay * w[j]!;
        if (opt.kind === 'sgd') {
          a[j] = opt.momentum * a[j]! + grad;
          w[j] = w[j]! - lr * (opt.momentum > 0 ? a[j]! : grad);
        } else {
          a[j] = opt.beta1 * a[j]! + (1 - opt.beta1) * grad;
          b[j] = opt.beta2 * b[j]! + (1 - opt.beta2) * grad * grad;
          if (opt.stepCount === 'row') {
            const mHat = a[j]! / (1 - opt.beta1 ** t[r]!);
            const vHat = b[j]! / (1 - opt.beta2 ** t[r]!);
            w[j] = w[j]! - (lr * mHat) / (Math.sqrt(vHat) + opt.epsilon);
          } else {
            const n = this.steps;
            w[j] = w[j]! - ((lr * Math.sqrt(1 - opt.beta2 ** n)) / (1 - opt.beta1 ** n)) * (a[j]! / (Math.sqrt(b[j]!) + opt.epsilon));
          }
        }
      }
    }
  }
}

describe('sparse optimizer rules against a float64 replay', () => {
  const [classes, dim, batch] = [12, 4, 6];
  const cases: [string, SparseOptimizer][] = [
    ['SGD, momentum 0.9, weight decay 0.01, learning rate schedule', sparseSgd({ learningRate: 0.2, momentum: 0.9, weightDecay: 0.01 })],
    ['plain SGD', sparseSgd({ learningRate: 0.3 })],
    ['Adam, per-row step counts', sparseAdam({ learningRate: 0.01, beta1: 0.8, beta2: 0.95 })],
    ['Adam, SparseAdam global step count', sparseAdam({ learningRate: 0.01, beta1: 0.8, beta2: 0.95, stepCount: 'global' })],
    ['Adam with weight decay', sparseAdam({ learningRate: 0.02, weightDecay: 0.1 })],
  ];
  it.each(cases)('%s: five steps', async (_, optimizer) => {
    const margin = cosface({ m: 0.35 });
    const pfc = new PartialFCLoss(backend(), {
      numClasses: classes,
      embeddingSize: dim,
      margin,
      scale: 8,
      sampleRate: 0.5,
      optimizer,
      seed: 9,
      init: { kind: 'normal', std: 1 },
    });
    const replay = new Replay(pfc.centers(), optimizer, dim);
    const firstSeen = new Map<number, number>();
    for (let step = 0; step < 5; step++) {
      if (step === 3) pfc.learningRate = optimizer.learningRate / 2;
      const x = normals(100 + step, batch * dim);
      const labels = randomLabels(200 + step, batch, 5); // classes 0–4 only: the others are sampled now and then
      const before = pfc.centers();
      const out = await pfc.step(tf.tensor2d(x, [batch, dim]), labels);
      for (const r of out.sampled) if (!firstSeen.has(r)) firstSeen.set(r, step);
      const ref = reference(margin, 8, x, gatherRows(before, out.sampled, dim), remapLabels(labels, out.sampled), dim);
      replay.apply(out.sampled, ref.gw, pfc.learningRate);
      expect(compareNormwise(pfc.centers(), replay.w, 1e-5), `centres after step ${step}`).toBeUndefined();
      const state = pfc.optimizerState();
      if (optimizer.kind === 'sgd' && optimizer.momentum > 0) expect(compareNormwise(state['momentumBuffer']!, replay.a, 1e-5)).toBeUndefined();
      if (optimizer.kind === 'adam') {
        expect(compareNormwise(state['expAvg']!, replay.a, 1e-5)).toBeUndefined();
        expect(compareNormwise(state['expAvgSq']!, replay.b, 1e-5)).toBeUndefined();
        expect(Array.from(state['step']!)).toEqual(optimizer.stepCount === 'row' ? Array.from(replay.t) : [step + 1]);
      }
    }
    // The replay distinguishes the two Adam rules only if some row was first sampled after step 0.
    expect([...firstSeen.values()].some((s) => s > 0)).toBe(true);
    expect(Object.keys(pfc.optimizerState()).sort()).toEqual(
      optimizer.kind === 'adam' ? ['expAvg', 'expAvgSq', 'step'] : optimizer.momentum > 0 ? ['momentumBuffer'] : [],
    );
  });

  it("the two Adam step counts differ for a row first sampled late ('row' is Adam on that row alone)", async () => {
    const run = async (stepCount: 'row' | 'global') => {
      const pfc = new PartialFCLoss(backend(), {
        numClasses: 4,
        embeddingSize: 2,
        margin: cosface(),
        scale: 4,
        sampleRate: 0.5,
        optimizer: sparseAdam({ learningRate: 0.1, stepCount }),
        seed: 1,
      });
      const x = tf.tensor2d([1, 0, 0, 1], [2, 2]);
      // Two centres per step, the batch's two classes: rows 0 and 1 twice, then rows 2 and 3.
      expect(Array.from((await pfc.step(x, [0, 1])).sampled)).toEqual([0, 1]);
      await pfc.step(x, [1, 0]);
      const w = pfc.centers();
      expect(Array.from((await pfc.step(x, [3, 2])).sampled)).toEqual([2, 3]); // row 3's first update, at global step 3
      return { before: w, after: pfc.centers() };
    };
    const row = await run('row');
    const global = await run('global');
    expect(Array.from(row.before.subarray(6))).toEqual(Array.from(global.before.subarray(6))); // row 3 untouched so far, same seed
    // Adam's first step on a row moves it by ≈ η per coordinate (m̂/√v̂ = ±1); SparseAdam's global
    // correction at t = 3 gives √(1−β₂³)/(1−β₁³) · (1−β₁)g/(√(1−β₂)|g|) ≈ 0.1·0.0548/0.0316/0.271 ≈ 0.64 of it.
    const moved = (r: { before: Float32Array; after: Float32Array }) => Math.abs(r.after[6]! - r.before[6]!);
    expect(moved(row)).toBeCloseTo(0.1, 5);
    expect(moved(global) / moved(row)).toBeCloseTo((Math.sqrt(1 - 0.999 ** 3) / (1 - 0.9 ** 3)) * (0.1 / Math.sqrt(0.001)), 3);
  });
});

describe('sampling', () => {
  it('same seed, same samples and centres; another seed, others', async () => {
    const [classes, dim, batch] = [1000, 4, 8];
    const run = async (seed: number) => {
      const pfc = make({ numClasses: classes, embeddingSize: dim, seed });
      const out: number[][] = [];
      for (let s = 0; s < 3; s++)
        out.push(Array.from((await pfc.step(tf.tensor2d(normals(s, batch * dim), [batch, dim]), randomLabels(s, batch, classes))).sampled));
      return { out, centers: pfc.centers() };
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b.out).toEqual(a.out);
    expect(bits(b.centers)).toEqual(bits(a.centers));
    for (let s = 0; s < 3; s++) expect(c.out[s]).not.toEqual(a.out[s]);
    expect(a.out[1]).not.toEqual(a.out[0]); // a new draw every step
  });

  it('draws the negatives uniformly without replacement (insightface: topk of rand with positives at 2)', () => {
    const random = seededRandom(5);
    const source = { uniform: () => random.next() };
    const [classes, count, draws] = [20, 6, 4000];
    const marks = new Uint8Array(classes);
    const counts = new Array<number>(classes).fill(0);
    for (let i = 0; i < draws; i++) {
      const s = sampleClasses(Int32Array.from([7, 3, -1, 7]), classes, count, source, marks);
      expect(s.length).toBe(count);
      for (const c of s) counts[c]!++;
      if (i === 0) expectSortedUnique(s);
    }
    expect(marks.every((m) => m === 0)).toBe(true);
    expect([counts[3], counts[7]]).toEqual([draws, draws]);
    const p = 4 / 18;
    const sd = Math.sqrt(draws * p * (1 - p));
    for (let c = 0; c < classes; c++) if (c !== 3 && c !== 7) expect(Math.abs(counts[c]! - draws * p), `class ${c}`).toBeLessThan(5 * sd);
  });

  it('uses only the positives when there are more of them than int(r·C), and int(r·C) as Python truncates it', async () => {
    const pfc = make({ numClasses: 100, embeddingSize: 4, sampleRate: 0.05 });
    expect(pfc.numSample).toBe(5);
    const labels = [90, 4, 4, 17, 63, 2, 8, 33, 71, -1];
    const out = await pfc.step(tf.tensor2d(normals(1, 40), [10, 4]), labels);
    expect(Array.from(out.sampled)).toEqual([2, 4, 8, 17, 33, 63, 71, 90]);
    expect(make({ numClasses: 100, embeddingSize: 4, sampleRate: 0.57 }).numSample).toBe(56); // 0.57·100 = 56.99999999999999
    expect(make({ numClasses: 5, embeddingSize: 4, sampleRate: 0.1 }).numSample).toBe(2); // at least two centres
    expect(make({ numClasses: 1, embeddingSize: 4, sampleRate: 0.1 }).numSample).toBe(1);
  });

  it('remaps labels to their position in the sorted sample (searchsorted)', () => {
    expect(Array.from(remapLabels(Int32Array.from([9, -1, 2, 40, 9]), Int32Array.from([2, 5, 9, 11, 40])))).toEqual([2, -1, 0, 4, 2]);
  });

  it('a batch of only ignored rows: loss 0, zero gradient, nothing moves', async () => {
    const pfc = make({ numClasses: 50, embeddingSize: 4, optimizer: sparseSgd({ learningRate: 1, momentum: 0.5 }) });
    const w0 = pfc.centers();
    const out = await pfc.step(tf.tensor2d(normals(2, 12), [3, 4]), [-1, -1, -1]);
    expect(out.loss).toBe(0);
    expect(out.embeddingsGradient.every((g) => g === 0)).toBe(true);
    expect(out.sampled.length).toBe(5);
    expect(bits(pfc.centers())).toEqual(bits(w0));
  });
});

describe('PartialFCLoss on ONNX Runtime', () => {
  it('steps on ortBackend(onnxruntime-node) equal the tfjs steps within 1e-4', async () => {
    const [classes, dim, batch] = [200, 8, 8];
    const options = { numClasses: classes, embeddingSize: dim, margin: arcface(), scale: 32, sampleRate: 0.25, seed: 4 } as const;
    for (const optimizer of [sparseSgd({ learningRate: 0.1, momentum: 0.9 }), sparseAdam({ learningRate: 0.01 })]) {
      const ort = ortBackend(ortNode);
      const onOrt = new PartialFCLoss(ort, { ...options, optimizer });
      const onTf = new PartialFCLoss(backend(), { ...options, optimizer });
      for (let s = 0; s < 2; s++) {
        const x = normals(30 + s, batch * dim, 2);
        const labels = randomLabels(40 + s, batch, classes, [s + 1]);
        const a = await onOrt.step(ort.tensor(x, [batch, dim]), labels);
        const b = await onTf.step(tf.tensor2d(x, [batch, dim]), labels);
        expect(Array.from(a.sampled)).toEqual(Array.from(b.sampled));
        expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(1e-4 * Math.abs(b.loss));
        expect(compareNormwise(a.embeddingsGradient, b.embeddingsGradient, 1e-4)).toBeUndefined();
        expect(compareNormwise(onOrt.centers(), onTf.centers(), 1e-4)).toBeUndefined();
      }
      const [sa, sb] = [onOrt.optimizerState(), onTf.optimizerState()];
      for (const k of Object.keys(sb)) expect(compareNormwise(sa[k]!, sb[k]!, 1e-4), k).toBeUndefined();
      await ort.dispose();
    }
  });
});

describe('PartialFCLoss: the class', () => {
  it('leaks no tfjs tensors in a step', async () => {
    const pfc = make({ numClasses: 300, embeddingSize: 4 });
    const x = tf.tensor2d(normals(3, 24), [6, 4]);
    await pfc.step(x, [1, 2, 3, 4, 5, 6]); // warm-up
    const before = tf.memory().numTensors;
    await pfc.step(x, [1, 2, 3, 4, 5, -1]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('steps called without awaiting run one after the other, in call order', async () => {
    const opts = { numClasses: 500, embeddingSize: 4, optimizer: sparseAdam() } as const;
    const a = make(opts);
    const b = make(opts);
    const x = [0, 1, 2].map((s) => tf.tensor2d(normals(s, 16), [4, 4]));
    const ys = [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [1, 5, 9, 13],
    ];
    const together = await Promise.all(x.map((xi, i) => a.step(xi, ys[i]!)));
    const oneByOne = [];
    for (let i = 0; i < 3; i++) oneByOne.push(await b.step(x[i]!, ys[i]!));
    expect(together.map((r) => r.loss)).toEqual(oneByOne.map((r) => r.loss));
    expect(together.map((r) => Array.from(r.sampled))).toEqual(oneByOne.map((r) => Array.from(r.sampled)));
    expect(bits(a.centers())).toEqual(bits(b.centers()));
    expect(a.steps).toBe(3);
  });

  it('save and load continue exactly (centres, optimizer state, generator, learning rate)', async () => {
    const opts = { numClasses: 400, embeddingSize: 4, optimizer: sparseAdam({ learningRate: 0.05 }), seed: 2 } as const;
    const a = make(opts);
    const x = tf.tensor2d(normals(4, 16), [4, 4]);
    await a.step(x, [1, 2, 3, 4]);
    a.learningRate = 0.01;
    const b = make({ ...opts, seed: 99 });
    b.load(a.save());
    expect(b.learningRate).toBe(0.01);
    expect(b.steps).toBe(1);
    const ra = await a.step(x, [5, 6, 7, 8]);
    const rb = await b.step(x, [5, 6, 7, 8]);
    expect(Array.from(rb.sampled)).toEqual(Array.from(ra.sampled));
    expect(bits(b.centers())).toEqual(bits(a.centers()));
    expect(bits(b.optimizerState()['step']!)).toEqual(bits(a.optimizerState()['step']!));
    expect(() => make({ ...opts, sampleRate: 0.2 }).load(a.save())).toThrow(expect.objectContaining({ argument: 'checkpoint.config' }));
  });

  it("reduction 'sum' is the batch's valid rows times 'mean', in loss and gradient", async () => {
    const opts = { numClasses: 60, embeddingSize: 4, seed: 6 } as const;
    const x = normals(8, 20);
    const labels = [4, 9, -1, 31, 4];
    const mean = await make(opts).step(tf.tensor2d(x, [5, 4]), labels);
    const sum = await make({ ...opts, reduction: 'sum' }).step(tf.tensor2d(x, [5, 4]), labels);
    expect(Array.from(sum.sampled)).toEqual(Array.from(mean.sampled));
    expect(sum.loss).toBeCloseTo(4 * mean.loss, 4);
    expect(
      compareNormwise(
        sum.embeddingsGradient,
        Float64Array.from(mean.embeddingsGradient, (g) => 4 * g),
        1e-6,
      ),
    ).toBeUndefined();
  });

  it('exposes its config as JSON', () => {
    const pfc = make({ numClasses: 10, embeddingSize: 4, sampleRate: 0.3, margin: cosface({ m: 0.4 }) });
    expect(JSON.parse(JSON.stringify(pfc.config))).toEqual({
      margin: { type: 'cosface', m: 0.4, fallback: 'none', gradient: 'exact' },
      numClasses: 10,
      embeddingSize: 4,
      sampleRate: 0.3,
      scale: 64,
      reduction: 'mean',
      ignoreIndex: -1,
      epsilon: 2 ** -23,
      normEpsilon: 1e-12,
      optimizer: { kind: 'sgd', learningRate: 0.1, momentum: 0, weightDecay: 0 },
    });
    expect([pfc.numClasses, pfc.embeddingSize, pfc.sampleRate, pfc.numSample]).toEqual([10, 4, 0.3, 3]);
  });
});

describe('bad input', () => {
  const base = { numClasses: 10, embeddingSize: 4, margin: arcface(), sampleRate: 0.5, optimizer: sparseSgd({ learningRate: 0.1 }) };
  const construct =
    (patch: Record<string, unknown>, b: unknown = backend()) =>
    () =>
      new PartialFCLoss(b as Backend<tf.Tensor>, { ...base, ...patch } as unknown as PartialFCOptions);
  const noGrad = { ...tfjsBackend(tf), valueAndGradients: undefined };
  const table: [string, () => unknown, typeof InvalidArgumentError, string][] = [
    ['sampleRate 0', construct({ sampleRate: 0 }), InvalidArgumentError, 'options.sampleRate'],
    ['sampleRate −0.1', construct({ sampleRate: -0.1 }), InvalidArgumentError, 'options.sampleRate'],
    ['sampleRate 1.5', construct({ sampleRate: 1.5 }), InvalidArgumentError, 'options.sampleRate'],
    ['sampleRate NaN', construct({ sampleRate: Number.NaN }), NonFiniteError, 'options.sampleRate'],
    ['sampleRate missing', construct({ sampleRate: undefined }), InvalidArgumentError, 'options.sampleRate'],
    ['sampleRate a string', construct({ sampleRate: '0.1' }), InvalidArgumentError, 'options.sampleRate'],
    ['numClasses 10.5', construct({ numClasses: 10.5 }), InvalidArgumentError, 'options.numClasses'],
    ['numClasses 0', construct({ numClasses: 0 }), InvalidArgumentError, 'options.numClasses'],
    ['embeddingSize "4"', construct({ embeddingSize: '4' }), InvalidArgumentError, 'options.embeddingSize'],
    ['no optimizer', construct({ optimizer: undefined }), InvalidArgumentError, 'options.optimizer'],
    ['unknown optimizer', construct({ optimizer: { kind: 'rmsprop', learningRate: 1 } }), InvalidArgumentError, 'options.optimizer.kind'],
    ['optimizer as JSON, bad', construct({ optimizer: { kind: 'sgd', learningRate: -1 } }), InvalidArgumentError, 'options.optimizer.learningRate'],
    ['no margin', construct({ margin: undefined }), InvalidArgumentError, 'options.margin'],
    ['a margin with state', construct({ margin: adaface() }), InvalidArgumentError, 'options.margin'],
    ['a margin with per-step inputs', construct({ margin: elasticface() }), InvalidArgumentError, 'options.margin'],
    ['scale −1', construct({ scale: -1 }), MarginDomainError, 'options.scale'],
    ['an unknown option', construct({ subCenters: 3 }), InvalidArgumentError, 'options.subCenters'],
    ['ignoreIndex 0', construct({ ignoreIndex: 0 }), InvalidArgumentError, 'options.ignoreIndex'],
    ['seed 1.5', construct({ seed: 1.5 }), InvalidArgumentError, 'options.seed'],
    ['seed 2⁴⁰', construct({ seed: 2 ** 40 }), InvalidArgumentError, 'options.seed'],
    ['epsilon 0.5', construct({ epsilon: 0.5 }), MarginDomainError, 'options.epsilon'],
    ['normEpsilon NaN', construct({ normEpsilon: Number.NaN }), NonFiniteError, 'options.normEpsilon'],
    ['validate', construct({ validate: 'none' }), InvalidArgumentError, 'options.validate'],
    ['init kind', construct({ init: { kind: 'uniform' } }), InvalidArgumentError, 'options.init.kind'],
    ['a backend without valueAndGradients', construct({}, noGrad), InvalidBackendError, 'backend'],
    ['not a backend', construct({}, tf), InvalidBackendError, 'backend'],
    ['sparseSgd learningRate 0', () => sparseSgd({ learningRate: 0 }), InvalidArgumentError, 'sparseSgd.learningRate'],
    ['sparseSgd learningRate 1e39 (+∞ in float32)', () => sparseSgd({ learningRate: 1e39 }), NonFiniteError, 'sparseSgd.learningRate'],
    ['sparseAdam epsilon 1e-50 (0 in float32)', () => sparseAdam({ epsilon: 1e-50 }), InvalidArgumentError, 'sparseAdam.epsilon'],
    ['sparseSgd learningRate NaN', () => sparseSgd({ learningRate: Number.NaN }), NonFiniteError, 'sparseSgd.learningRate'],
    ['sparseSgd without learningRate', () => sparseSgd({} as never), InvalidArgumentError, 'sparseSgd.learningRate'],
    ['sparseSgd momentum 1', () => sparseSgd({ learningRate: 0.1, momentum: 1 }), InvalidArgumentError, 'sparseSgd.momentum'],
    ['sparseSgd momentum −0.1', () => sparseSgd({ learningRate: 0.1, momentum: -0.1 }), InvalidArgumentError, 'sparseSgd.momentum'],
    ['sparseSgd weightDecay −1', () => sparseSgd({ learningRate: 0.1, weightDecay: -1 }), InvalidArgumentError, 'sparseSgd.weightDecay'],
    ['sparseSgd unknown option', () => sparseSgd({ learningRate: 0.1, nesterov: true } as never), InvalidArgumentError, 'sparseSgd.nesterov'],
    ['sparseAdam learningRate −1', () => sparseAdam({ learningRate: -1 }), InvalidArgumentError, 'sparseAdam.learningRate'],
    ['sparseAdam beta1 1', () => sparseAdam({ beta1: 1 }), InvalidArgumentError, 'sparseAdam.beta1'],
    ['sparseAdam beta2 −0.5', () => sparseAdam({ beta2: -0.5 }), InvalidArgumentError, 'sparseAdam.beta2'],
    ['sparseAdam epsilon 0', () => sparseAdam({ epsilon: 0 }), InvalidArgumentError, 'sparseAdam.epsilon'],
    ['sparseAdam epsilon Infinity', () => sparseAdam({ epsilon: Number.POSITIVE_INFINITY }), NonFiniteError, 'sparseAdam.epsilon'],
    ['sparseAdam stepCount', () => sparseAdam({ stepCount: 'local' as never }), InvalidArgumentError, 'sparseAdam.stepCount'],
    [
      'learningRate setter 0',
      () => {
        make({ numClasses: 3, embeddingSize: 2 }).learningRate = 0;
      },
      InvalidArgumentError,
      'learningRate',
    ],
  ];
  it.each(table)('%s', (_, f, type, argument) => {
    expectTypedError(f, { error: type, argument });
  });

  it('steps with bad input reject with typed errors and change nothing', async () => {
    const pfc = new PartialFCLoss(backend(), { ...base, optimizer: sparseAdam() });
    const ok = tf.tensor2d(normals(1, 8), [2, 4]);
    await pfc.step(ok, [1, 2]);
    const snapshot = JSON.stringify({
      ...pfc.save(),
      centers: Array.from(pfc.centers()),
      optimizerState: Object.values(pfc.optimizerState()).map((a) => Array.from(a)),
    });
    const strict = new PartialFCLoss(backend(), { ...base, ignoreIndex: null });
    const cases: [string, () => Promise<unknown>, typeof InvalidArgumentError, string][] = [
      ['label = C', () => pfc.step(ok, [1, 10]), LabelError, 'labels'],
      ['label −2', () => pfc.step(ok, [-2, 1]), LabelError, 'labels'],
      ['label 1.5', () => pfc.step(ok, [1.5, 1]), LabelError, 'labels'],
      ['label −1 with ignoreIndex null', () => strict.step(ok, [-1, 1]), LabelError, 'labels'],
      ['too few labels', () => pfc.step(ok, [1]), ShapeError, 'labels'],
      ['labels as a tensor', () => pfc.step(ok, tf.tensor1d([1, 2], 'int32') as never), InvalidArgumentError, 'labels'],
      ['embeddings of dimension 3', () => pfc.step(tf.zeros([2, 3]), [1, 2]), ShapeError, 'embeddings'],
      ['embeddings of rank 1', () => pfc.step(tf.zeros([8]), [1, 2]), ShapeError, 'embeddings'],
      ['int32 embeddings', () => pfc.step(tf.zeros([2, 4], 'int32'), [1, 2]), DTypeError, 'embeddings'],
      ['embeddings not a tensor', () => pfc.step([[1, 2, 3, 4]] as never, [1]), InvalidArgumentError, 'embeddings'],
      ['NaN embeddings', () => pfc.step(tf.tensor2d([Number.NaN, 0, 0, 1, 1, 0, 0, 0], [2, 4]), [1, 2]), NonFiniteError, 'embeddings'],
      ['load: another config', async () => pfc.load({ ...pfc.save(), config: { ...pfc.config, numClasses: 11 } }), InvalidArgumentError, 'checkpoint.config'],
      ['load: short centres', async () => pfc.load({ ...pfc.save(), centers: new Float32Array(3) }), ShapeError, 'checkpoint.centers'],
    ];
    for (const [name, f, type, argument] of cases) await expectTypedRejection(f, { error: type, argument, what: name });
    expect(
      JSON.stringify({ ...pfc.save(), centers: Array.from(pfc.centers()), optimizerState: Object.values(pfc.optimizerState()).map((a) => Array.from(a)) }),
    ).toBe(snapshot);
    // And it still steps afterwards.
    expect((await pfc.step(ok, [3, 4])).sampled.length).toBe(5);
  });
});

tsdocExampleSuite(
  new URL('./partial-fc.ts', import.meta.url),
  { '@tensorflow/tfjs': tf, '@marginkit/backend-tfjs': tfjsApi, '@marginkit/backend-ort': ortApi, '@marginkit/core': coreApi, '@marginkit/losses': pfcApi },
  3,
);
