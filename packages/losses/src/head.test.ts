import { crc32 as zlibCrc32 } from 'node:zlib';
import { ortBackend } from '@marginkit/backend-ort';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import { type Margin, arcface, combinedMargin, composeMargins, cosface, noMargin, sphereface } from '@marginkit/core';
import { seededRandom } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HeadCheckpoint, decodeCheckpoint, encodeCheckpoint, mergeCheckpoints, splitCheckpoint } from './checkpoint.js';
import { MarginHead } from './head.js';
import {
  AdaCosLoss,
  AdaFaceLoss,
  ArcFaceLoss,
  CombinedMarginLoss,
  CosFaceLoss,
  CurricularFaceLoss,
  ElasticFaceLoss,
  MagFaceLoss,
  SubCenterArcFaceLoss,
} from './heads.js';
import { adacos } from './margins/adacos.js';
import { adaface } from './margins/adaface.js';
import { curricularface } from './margins/curricularface.js';
import { elasticface } from './margins/elasticface.js';
import { magface } from './margins/magface.js';
import { createHead, createLossRegistry, loadHead } from './registry.js';
import { subCenterOutliers } from './subcenter-outliers.js';

type Head = MarginHead<tf.Tensor, tf.Scalar>;
const backend = tfjsBackend(tf);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// ---- independent helpers (float64, plain JS) ------------------------------------------------

/** Row-major [rows, d] float32 values with N(0, std²) entries, from core's test generator (not the heads' one). */
function gaussian(rows: number, d: number, seed: number, std = 1): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: rows * d }, () => std * r.normal());
}

/** The rows of a row-major matrix as float64 unit vectors (a zero row stays zero). */
function unitRows(values: ArrayLike<number>, d: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let i = 0; i < values.length / d; i++) {
    const v = Float64Array.from({ length: d }, (_, k) => values[i * d + k]!);
    const n = Math.sqrt(v.reduce((s, a) => s + a * a, 0));
    out.push(n === 0 ? v : v.map((a) => a / n));
  }
  return out;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const rowNorms = (values: ArrayLike<number>, d: number) =>
  Array.from({ length: values.length / d }, (_, i) => Math.sqrt(Array.from({ length: d }, (_, k) => values[i * d + k]! ** 2).reduce((s, a) => s + a, 0)));

/** Cosines [B][C·K] between embeddings and centres in float64. */
function cosines64(x: ArrayLike<number>, w: ArrayLike<number>, d: number): number[][] {
  const xs = unitRows(x, d);
  const ws = unitRows(w, d);
  return xs.map((xi) => ws.map((wj) => dot(xi, wj)));
}

/** Cross-entropy of one row of logits (already scaled) against label y, float64. */
function crossEntropy(z: readonly number[], y: number): number {
  const m = Math.max(...z);
  return m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)) - z[y]!;
}

const scalar = (t: tf.Tensor): number => t.dataSync()[0]!;
/** The bits of float32 values, for bit-equality. */
const bits = (v: Float32Array | ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(v).buffer));
const read = (t: tf.Tensor) => Float32Array.from(t.dataSync());

/** A batch of B rows of dimension D with labels in [0, C) (and −1 where given). */
function batch(b: number, d: number, c: number, seed: number, ignored: readonly number[] = []) {
  const data = gaussian(b, d, seed);
  const r = seededRandom(seed + 1000);
  const labels = Array.from({ length: b }, (_, i) => (ignored.includes(i) ? -1 : r.int(c)));
  return { data, labels, x: () => tf.tensor2d(data, [b, d]) };
}

function sgdSteps(head: Head, optimizer: tf.Optimizer, batches: readonly ReturnType<typeof batch>[]): number[] {
  return batches.map((bt) => tf.tidy(() => scalar(optimizer.minimize(() => head.loss(bt.x(), bt.labels), true)!)));
}

// ---- 1. checkpoint round trip through bytes and shards ------------------------------------------

describe('save → encode → decode → split in 3 → merge → load restores the head exactly', () => {
  const C = 8;
  const D = 6;
  const cases: readonly [string, (seed: number) => Head][] = [
    ['ArcFaceLoss', (seed) => new ArcFaceLoss(backend, { numClasses: C, embeddingSize: D, seed, scale: 16 })],
    ['AdaFaceLoss', (seed) => new AdaFaceLoss(backend, { numClasses: C, embeddingSize: D, seed, scale: 16, margin: { tAlpha: 0.3 } })],
    ['ElasticFaceLoss', (seed) => new ElasticFaceLoss(backend, { numClasses: C, embeddingSize: D, seed, scale: 16, margin: { std: 0.2 } })],
    ['SubCenterArcFaceLoss (K = 2)', (seed) => new SubCenterArcFaceLoss(backend, { numClasses: C, embeddingSize: D, subCenters: 2, seed, scale: 16 })],
  ];

  it.each(cases)('%s', async (name, make) => {
    const head = make(1);
    const optimizer = tf.train.sgd(0.2);
    sgdSteps(head, optimizer, [batch(10, D, C, 1, [3]), batch(10, D, C, 2)]);
    const saved = await head.save();
    const shards = splitCheckpoint(decodeCheckpoint(encodeCheckpoint(saved)), 3);
    expect(shards.map((s) => s.classRange)).toEqual([
      [0, 3],
      [3, 6],
      [6, 8],
    ]);
    const k = head.subCenters;
    expect(shards.map((s) => s.centers.length)).toEqual([3 * k * D, 3 * k * D, 2 * k * D]);
    // Shard r holds rows [start·K, end·K) of the centres, and each shard survives its own bytes.
    shards.forEach((shard) => {
      expect(bits(shard.centers)).toEqual(bits(saved.centers.subarray(shard.classRange[0] * k * D, shard.classRange[1] * k * D)));
      expect(decodeCheckpoint(encodeCheckpoint(shard))).toEqual(shard);
    });
    const merged = mergeCheckpoints([shards[2]!, shards[0]!, shards[1]!]); // any order
    const fresh = make(99);
    const next = batch(10, D, C, 3, [0]);
    const freshBefore = tf.tidy(() => scalar(fresh.loss(next.x(), next.labels, { training: false })));
    fresh.load(merged);

    expect(bits(read(fresh.centers))).toEqual(bits(read(head.centers)));
    expect(bits(read(fresh.centers))).toEqual(bits(saved.centers));
    expect(fresh.state).toEqual(head.state);
    expect(fresh.randomState).toEqual(head.randomState);
    expect(fresh.config).toEqual(head.config);
    if (name === 'AdaFaceLoss') expect(head.state['batchMean']![0]).not.toBe(20); // the state restored is not the initial one

    const a = tf.tidy(() => scalar(head.loss(next.x(), next.labels)));
    const b = tf.tidy(() => scalar(fresh.loss(next.x(), next.labels)));
    expect(b).toBe(a); // bit-equal on tfjs cpu
    expect(b).not.toBe(freshBefore);
    expect(fresh.state).toEqual(head.state);
    expect(fresh.randomState).toEqual(head.randomState);
  });

  it('the bytes follow the documented MKHD layout (little-endian centres, then the zlib CRC-32 of all before it)', async () => {
    const head = cases[1]![1](7);
    const saved = await head.save();
    const bytes = encodeCheckpoint(saved);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x4d, 0x4b, 0x48, 0x44]); // 'MKHD'
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const h = view.getUint32(4, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + h)));
    const start = Math.ceil((8 + h) / 4) * 4;
    expect(Array.from(bytes.subarray(8 + h, start))).toEqual(new Array(start - 8 - h).fill(0));
    expect(bytes.length).toBe(start + 4 * C * D + 4);
    expect(header).toMatchObject({ format: 'marginkit-head', version: 1, rows: C, dim: D, classRange: [0, C], random: saved.random });
    expect(header.config).toEqual(saved.config);
    expect(header.state).toEqual(saved.state);
    const body = Float32Array.from({ length: C * D }, (_, i) => view.getFloat32(start + 4 * i, true));
    expect(bits(body)).toEqual(bits(saved.centers));
    expect(view.getUint32(bytes.length - 4, true)).toBe(zlibCrc32(bytes.subarray(0, bytes.length - 4)));
  });

  it('ElasticFace: the restored generator draws the same margins (and another generator state would not)', async () => {
    const head = cases[2]![1](5);
    const saved = await head.save();
    const restored = cases[2]![1](6);
    restored.load(mergeCheckpoints(splitCheckpoint(decodeCheckpoint(encodeCheckpoint(saved)), 3)));
    const other = cases[2]![1](6);
    other.load({ ...saved, random: [1, 2, 3, 4] });
    const next = batch(12, D, C, 4);
    const [a, b, c] = [head, restored, other].map((h) => tf.tidy(() => scalar(h.loss(next.x(), next.labels))));
    expect(b).toBe(a);
    expect(c).not.toBe(a); // the margins come from the generator: its state matters
    // The margins drawn next are equal too: trainerOptions' sampler draws from the same generator.
    expect(bits((await restored.trainerOptions()).inputs(5)['margins']!)).toEqual(bits((await head.trainerOptions()).inputs(5)['margins']!));
  });
});

// ---- 2. a restored head continues training exactly ----------------------------------------------

describe('a head restored from a save continues training exactly where the saved one stopped', () => {
  const C = 6;
  const D = 5;
  const cases: readonly [string, (seed: number) => Head, HeadCheckpoint['state']][] = [
    [
      'AdaFaceLoss',
      (seed) => new AdaFaceLoss(backend, { numClasses: C, embeddingSize: D, seed, scale: 16, margin: { tAlpha: 0.2 } }),
      { batchMean: { shape: [], data: [20] }, batchStd: { shape: [], data: [100] } },
    ],
    [
      'CurricularFaceLoss',
      (seed) => new CurricularFaceLoss(backend, { numClasses: C, embeddingSize: D, seed, scale: 16, margin: { momentum: 0.2 } }),
      { t: { shape: [], data: [0] } },
    ],
  ];

  it.each(cases)('%s', async (_, make, initialState) => {
    const batches = [0, 1, 2, 3, 4].map((i) => batch(9, D, C, 10 + i, i === 1 ? [2] : []));
    const head = make(3);
    sgdSteps(head, tf.train.sgd(0.1), batches.slice(0, 3));
    const saved = await head.save();
    const after = sgdSteps(head, tf.train.sgd(0.1), batches.slice(3));

    const restored = make(4);
    restored.load(saved);
    const again = sgdSteps(restored, tf.train.sgd(0.1), batches.slice(3));
    expect(again).toEqual(after); // bit-equal losses
    expect(bits(read(restored.centers))).toEqual(bits(read(head.centers)));
    expect(restored.state).toEqual(head.state);

    const viaLoadHead = loadHead(backend, saved);
    expect(sgdSteps(viaLoadHead, tf.train.sgd(0.1), batches.slice(3))).toEqual(after);

    // Control: the same centres with the initial state continue differently, so the state is what was restored.
    const control = make(4);
    control.load({ ...saved, state: initialState });
    expect(sgdSteps(control, tf.train.sgd(0.1), batches.slice(3))).not.toEqual(after);
  });
});

// ---- 3. state advances on training calls only, by the papers' formulas ----------------------------

describe('the margin state advances on training calls only, as recomputed in float64', () => {
  const C = 6;
  const D = 5;

  it('CurricularFace: t ← momentum·mean(c_y over counted rows) + (1 − momentum)·t', () => {
    for (const momentum of [0.01, 0.5]) {
      const head = new CurricularFaceLoss(backend, { numClasses: C, embeddingSize: D, seed: 8, scale: 16, margin: { momentum } });
      head.state = { t: [0.3] };
      for (let step = 0; step < 3; step++) {
        const bt = batch(7, D, C, 40 + step, [1, 5]);
        const before = head.state['t']![0]!;
        tf.tidy(() => {
          head.loss(bt.x(), bt.labels, { training: false });
          head.forward(bt.x(), bt.labels);
          head.logits(bt.x());
        });
        expect(head.state['t']![0]).toBe(before); // no training call yet: unchanged, bit for bit
        const cos = cosines64(bt.data, read(head.centers), D);
        const counted = bt.labels.map((y, i) => [y, i] as const).filter(([y]) => y >= 0);
        const mean = counted.reduce((s, [y, i]) => s + cos[i]![y]!, 0) / counted.length;
        const expected = momentum * mean + (1 - momentum) * before;
        tf.tidy(() => {
          head.loss(bt.x(), bt.labels);
        });
        const t = head.state['t']![0]!;
        expect(t).not.toBe(before);
        expect(Math.abs(t - expected), `momentum ${momentum}, step ${step}`).toBeLessThan(1e-6);
      }
    }
  });

  it('AdaFace: μ, σ ← EMA of the mean and unbiased std of the clipped norms of the counted rows', () => {
    for (const tAlpha of [0.01, 0.3]) {
      const head = new AdaFaceLoss(backend, { numClasses: C, embeddingSize: D, seed: 9, scale: 16, margin: { tAlpha } });
      for (let step = 0; step < 3; step++) {
        const bt = batch(7, D, C, 50 + step, [3]);
        // Spread the norms: one above the clip (100), one below (0.001), the ignored row large.
        const scaleRow = [1, 8, 150, 60, 0.0001, 3, 20];
        const data = Float32Array.from(bt.data, (v, k) => v * scaleRow[Math.floor(k / D)]!);
        const x = () => tf.tensor2d(data, [7, D]);
        const before = head.state;
        tf.tidy(() => {
          head.loss(x(), bt.labels, { training: false });
        });
        expect(head.state).toEqual(before);
        const norms = rowNorms(data, D)
          .map((n) => Math.min(100, Math.max(0.001, n)))
          .filter((_, i) => bt.labels[i]! >= 0);
        expect(norms).toContain(100);
        expect(norms).toContain(0.001);
        const mean = norms.reduce((s, v) => s + v, 0) / norms.length;
        const std = Math.sqrt(norms.reduce((s, v) => s + (v - mean) ** 2, 0) / (norms.length - 1));
        const mu = tAlpha * mean + (1 - tAlpha) * before['batchMean']![0]!;
        const sigma = tAlpha * std + (1 - tAlpha) * before['batchStd']![0]!;
        tf.tidy(() => {
          head.loss(x(), bt.labels);
        });
        const after = head.state;
        expect(after['batchMean']![0]).not.toBe(before['batchMean']![0]);
        expect(Math.abs(after['batchMean']![0]! - mu), `μ, tAlpha ${tAlpha}, step ${step}`).toBeLessThan(2e-6 * mu);
        expect(Math.abs(after['batchStd']![0]! - sigma), `σ, tAlpha ${tAlpha}, step ${step}`).toBeLessThan(2e-6 * sigma);
      }
    }
  });

  // A batch in which no row counts carries no statistics. AdaCos documents that such a step keeps
  // s; AdaFace's μ/σ and CurricularFace's t should be kept as well, not decayed towards 0 (on a
  // Partial FC shard every label of a batch can be −1).
  it.each([
    ['AdaCosLoss', () => new AdaCosLoss(backend, { numClasses: C, embeddingSize: D, seed: 1 })],
    ['AdaFaceLoss', () => new AdaFaceLoss(backend, { numClasses: C, embeddingSize: D, seed: 1, margin: { tAlpha: 0.5 } })],
    ['CurricularFaceLoss', () => new CurricularFaceLoss(backend, { numClasses: C, embeddingSize: D, seed: 1, margin: { momentum: 0.5 } })],
  ] as const)('%s: a training step in which every label is −1 keeps the state', (_, make) => {
    const head: Head = make();
    const warm = batch(6, D, C, 60);
    tf.tidy(() => {
      head.loss(warm.x(), warm.labels);
    });
    const before = head.state;
    const none = batch(4, D, C, 61, [0, 1, 2, 3]);
    tf.tidy(() => {
      expect(scalar(head.loss(none.x(), none.labels))).toBe(0);
    });
    expect(head.state).toEqual(before);
  });

  // The generator is saved with the head as its state is: an evaluation call must not move it, or a
  // validation pass would change the rest of a training run.
  it('ElasticFace: a training: false call leaves the generator state unchanged, a training call advances it', () => {
    const head = new ElasticFaceLoss(backend, { numClasses: C, embeddingSize: D, seed: 2 });
    const bt = batch(4, D, C, 62);
    const before = head.randomState;
    tf.tidy(() => {
      head.loss(bt.x(), bt.labels, { training: false });
    });
    expect(head.randomState).toEqual(before);
    tf.tidy(() => {
      head.loss(bt.x(), bt.labels);
    });
    expect(head.randomState).not.toEqual(before);
  });
});

// ---- 4. label −1 ----------------------------------------------------------------------------------

describe('rows labelled −1 are ignored: same loss as without them, zero gradient', () => {
  const C = 6;
  const D = 5;
  const o = { numClasses: C, embeddingSize: D, seed: 4, scale: 16 } as const;
  const cases: readonly [string, () => Head][] = [
    ['ArcFaceLoss', () => new ArcFaceLoss(backend, o)],
    ['CosFaceLoss (sum)', () => new CosFaceLoss(backend, { ...o, reduction: 'sum' })],
    ['SubCenterArcFaceLoss', () => new SubCenterArcFaceLoss(backend, { ...o, subCenters: 3 })],
    ['AdaFaceLoss', () => new AdaFaceLoss(backend, { ...o, margin: { tAlpha: 0.5 } })],
    ['CurricularFaceLoss', () => new CurricularFaceLoss(backend, { ...o, margin: { momentum: 0.5 } })],
    ['AdaCosLoss', () => new AdaCosLoss(backend, { numClasses: C, embeddingSize: D, seed: 4 })],
    ['MagFaceLoss', () => new MagFaceLoss(backend, o)],
    ['ElasticFaceLoss (std 0)', () => new ElasticFaceLoss(backend, { ...o, margin: { std: 0 } })],
  ];
  const ignored = [1, 4];
  const full = batch(7, D, C, 70, ignored);
  const keep = [0, 2, 3, 5, 6];
  const keptData = Float32Array.from(keep.flatMap((i) => Array.from(full.data.subarray(i * D, i * D + D))));
  const keptLabels = keep.map((i) => full.labels[i]!);

  it.each(cases)('%s', (_, make) => {
    const withIgnored = make();
    const without = make();
    const a = tf.tidy(() => scalar(withIgnored.loss(full.x(), full.labels)));
    const b = tf.tidy(() => scalar(without.loss(tf.tensor2d(keptData, [keep.length, D]), keptLabels)));
    expect(Number.isFinite(a)).toBe(true);
    expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-6 * Math.abs(b));
    // The state advanced on the counted rows alone.
    for (const [k, v] of Object.entries(without.state)) {
      expect(Math.abs(withIgnored.state[k]![0]! - v[0]!), k).toBeLessThanOrEqual(1e-6 * Math.abs(v[0]!));
    }
    const grad = tf.tidy(() => read(tf.grad((e: tf.Tensor) => withIgnored.loss(e, full.labels, { training: false }))(full.x())));
    const keptGrad = tf.tidy(() => read(tf.grad((e: tf.Tensor) => without.loss(e, keptLabels, { training: false }))(tf.tensor2d(keptData, [keep.length, D]))));
    for (let i = 0; i < full.labels.length; i++) {
      const row = Array.from(grad.subarray(i * D, i * D + D));
      if (ignored.includes(i)) expect(row, `row ${i}`).toEqual(new Array(D).fill(0));
      else {
        expect(Math.max(...row.map(Math.abs)), `row ${i}`).toBeGreaterThan(0);
        const j = keep.indexOf(i);
        const ref = Array.from(keptGrad.subarray(j * D, j * D + D));
        const err = Math.max(...row.map((v, k) => Math.abs(v - ref[k]!)));
        expect(err, `row ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(...ref.map(Math.abs)));
      }
    }
  });
});

// ---- 5. seeded initialisation -----------------------------------------------------------------------

describe('centres start from the seeded generator', () => {
  const stats = (v: Float32Array) => {
    const mean = v.reduce((s, a) => s + a, 0) / v.length;
    const variance = v.reduce((s, a) => s + (a - mean) ** 2, 0) / (v.length - 1);
    return { mean, variance, std: Math.sqrt(variance) };
  };

  it('same seed → same centres, different seed → different centres', () => {
    const o = { numClasses: 20, embeddingSize: 16 } as const;
    const a = read(new ArcFaceLoss(backend, { ...o, seed: 7 }).centers);
    const b = read(new CosFaceLoss(backend, { ...o, seed: 7 }).centers); // the margin does not matter
    const c = read(new ArcFaceLoss(backend, { ...o, seed: 8 }).centers);
    const dflt = read(new ArcFaceLoss(backend, o).centers);
    expect(bits(b)).toEqual(bits(a));
    expect(bits(read(new ArcFaceLoss(backend, o).centers))).toEqual(bits(dflt)); // default seed 0, deterministic
    const differ = a.filter((v, i) => v !== c[i]).length;
    expect(differ).toBeGreaterThan(0.99 * a.length);
  });

  // Seeds are integers; two different ones should not silently give the same head (e.g. a seed
  // from Date.now() or a 64-bit run id). Either distinct centres, or a clear error for seeds
  // outside the supported range.
  it('seeds that differ beyond 32 bits do not silently give the same centres', () => {
    const o = { numClasses: 4, embeddingSize: 4 } as const;
    let same: boolean;
    try {
      same =
        bits(read(new ArcFaceLoss(backend, { ...o, seed: 2 ** 32 }).centers)).join() === bits(read(new ArcFaceLoss(backend, { ...o, seed: 0 }).centers)).join();
    } catch {
      same = false; // rejected: fine
    }
    expect(same).toBe(false);
  });

  it("'normal': std 0.01 by default (within 5% over 10,000 values), zero mean, normal shape", () => {
    for (const [init, std] of [
      [undefined, 0.01],
      [{ kind: 'normal', std: 0.01 }, 0.01],
      [{ kind: 'normal', std: 0.5 }, 0.5],
    ] as const) {
      const head = new ArcFaceLoss(backend, { numClasses: 100, embeddingSize: 100, seed: 3, ...(init === undefined ? {} : { init }) });
      const v = read(head.centers);
      expect(v.length).toBe(10_000);
      const s = stats(v);
      expect(Math.abs(s.std / std - 1)).toBeLessThan(0.05);
      expect(Math.abs(s.mean)).toBeLessThan((4 * std) / 100);
      const within = v.filter((a) => Math.abs(a) < std).length / v.length; // P(|Z| < 1) = 0.6827
      expect(Math.abs(within - 0.6827)).toBeLessThan(0.015);
    }
  });

  it("'xavier': U(−b, b), b = √(6/(D + rows)), rows = C·K; variance b²/3", () => {
    const head = new SubCenterArcFaceLoss(backend, { numClasses: 50, embeddingSize: 100, subCenters: 2, seed: 5, init: { kind: 'xavier' } });
    const v = read(head.centers);
    expect(v.length).toBe(10_000);
    const bound = Math.sqrt(6 / (100 + 100));
    expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(0.99 * bound);
    const s = stats(v);
    expect(Math.abs(s.variance / (bound ** 2 / 3) - 1)).toBeLessThan(0.05);
    expect(Math.abs(s.mean)).toBeLessThan((4 * bound) / Math.sqrt(3) / 100);
  });
});

// ---- 6. sub-centres -----------------------------------------------------------------------------------

describe('sub-center ArcFace', () => {
  it('logits are the max over each class’s K cosines (row c·K + k) and the loss is ArcFace on them', () => {
    const C = 4;
    const K = 3;
    const D = 5;
    const s = 16;
    const m = 0.5;
    const head = new SubCenterArcFaceLoss(backend, { numClasses: C, embeddingSize: D, subCenters: K, seed: 3, scale: s, init: { kind: 'xavier' } });
    const bt = batch(7, D, C, 80);
    const w = read(head.centers);
    expect(w.length).toBe(C * K * D);
    const all = cosines64(bt.data, w, D);
    const expected = all.map((row) => Array.from({ length: C }, (_, c) => Math.max(...row.slice(c * K, c * K + K))));
    const logits = tf.tidy(() => read(head.logits(bt.x())));
    for (let i = 0; i < 7; i++) for (let c = 0; c < C; c++) expect(Math.abs(logits[i * C + c]! - expected[i]![c]!)).toBeLessThan(1e-6);
    // The loss: ArcFace target cos(θ_y + m), insightface's linear fallback c − m·sin m past θ_y > π − m.
    const losses = expected.map((row, i) => {
      const y = bt.labels[i]!;
      const c = row[y]!;
      const target = c > Math.cos(Math.PI - m) ? Math.cos(Math.acos(c) + m) : c - m * Math.sin(m);
      return crossEntropy(
        row.map((v, j) => s * (j === y ? target : v)),
        y,
      );
    });
    const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
    const got = tf.tidy(() => scalar(head.loss(bt.x(), bt.labels)));
    expect(Math.abs(got - mean)).toBeLessThan(1e-5 * mean);
  });

  it('subCenterOutliers finds the dominant sub-centre and reports the samples far from it', async () => {
    // Class 0: sub-centres e1, e2, e3. Class 1: −e1, −e2, −2·e3 (not unit: normalised).
    const head = new SubCenterArcFaceLoss(backend, { numClasses: 2, embeddingSize: 3, subCenters: 3 });
    head.centers = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, -1, 0, 0, 0, -1, 0, 0, 0, -2]);
    const samples: [number[], number][] = [
      [[1, 0.05, 0], 0], // 0: near e1
      [[1, -0.05, 0.02], 0], // 1
      [[0.98, 0, 0.1], 0], // 2
      [[2, 0.1, 0], 0], // 3
      [[0.02, 1, 0], 0], // 4: near e2, ≈ 88.9° from e1 → outlier
      [[0, 0, 3], 0], // 5: exactly 90° from e1 → outlier
      [[0.5, Math.sqrt(3) / 2, 0], 0], // 6: 60° from e1 (nearest e2) → kept
      [[0.05, 0, -1], 1], // 7: near −e3
      [[0, 0.05, -1], 1], // 8
      [[0, 0, -5], 1], // 9
      [[-1, 0, 0.1], 1], // 10: near −e1, ≈ 95.7° from −e3 → outlier
    ];
    const embeddings = Float32Array.from(samples.flatMap(([v]) => v));
    const labels = samples.map(([, y]) => y);
    const { centers } = await head.save();
    const report = subCenterOutliers({ embeddings, labels, centers, subCenters: 3, embeddingSize: 3 });
    expect(Array.from(report.dominant)).toEqual([0, 2]);
    expect(Array.from(report.counts)).toEqual([4, 2, 1, 1, 0, 3]);
    expect(report.outliers).toEqual([4, 5, 10]);
    const dominantAxis = [
      [1, 0, 0],
      [0, 0, -1],
    ];
    samples.forEach(([v, y], i) => {
      const angle = (Math.acos(dot(unitRows(Float32Array.from(v), 3)[0]!, dominantAxis[y]!)) * 180) / Math.PI;
      expect(Math.abs(report.angles[i]! - angle), `sample ${i}`).toBeLessThan(1e-6);
    });
    expect(report.angles[5]).toBeCloseTo(90, 9);
    expect(subCenterOutliers({ embeddings, labels, centers, subCenters: 3, embeddingSize: 3, thresholdDegrees: 50 }).outliers).toEqual([4, 5, 6, 10]);
  });
});

// ---- 7. the paper's combined margins train --------------------------------------------------------------

describe("the ArcFace paper's combined margins CM1 and CM2 train a separable problem", () => {
  it.each([
    ['CM1 (1, 0.3, 0.2)', { m1: 1, m2: 0.3, m3: 0.2 }],
    ['CM2 (0.9, 0.4, 0.15)', { m1: 0.9, m2: 0.4, m3: 0.15 }],
  ] as const)('%s: 100 SGD steps on the centres', (_, margin) => {
    const C = 4;
    const D = 8;
    const perClass = 8;
    const r = seededRandom(123);
    const means = unitRows(
      Float64Array.from({ length: C * D }, () => r.normal()),
      D,
    );
    const labels = Array.from({ length: C * perClass }, (_, i) => i % C);
    const data = Float32Array.from(labels.flatMap((y) => Array.from(means[y]!, (v) => v + 0.15 * r.normal())));
    const head = new CombinedMarginLoss(backend, { numClasses: C, embeddingSize: D, seed: 1, scale: 16, margin });
    const x = tf.tensor2d(data, [labels.length, D]);
    const nearest = () => tf.tidy(() => Array.from(head.logits(x).argMax(1).dataSync()));
    expect(nearest()).not.toEqual(labels); // random centres do not classify yet
    const losses = sgdSteps(
      head,
      tf.train.sgd(0.05),
      Array.from({ length: 100 }, () => ({ data, labels, x: () => x })),
    );
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[99]!).toBeLessThan(0.5 * losses[0]!);
    expect(nearest()).toEqual(labels);
    x.dispose();
  });
});

// ---- 8. types ----------------------------------------------------------------------------------------------

describe('types', () => {
  it('the tfjs head’s loss() is a tf.Scalar without a cast (checked by tsc)', () => {
    const head = new ArcFaceLoss(tfjsBackend(tf), { numClasses: 3, embeddingSize: 4, scale: 8 });
    const built = createHead(tfjsBackend(tf), { margin: { type: 'adaface' }, numClasses: 3, embeddingSize: 4 });
    tf.tidy(() => {
      const x = tf.ones([2, 4]);
      const s: tf.Scalar = head.loss(x, [0, 2]);
      const t: tf.Scalar = built.loss(x, [1, 2]);
      // @ts-expect-error a scalar is not a 2-D tensor: if loss() were typed `any`, this would compile
      const notAMatrix: tf.Tensor2D = head.loss(x, [0, 1]);
      expect(notAMatrix.rank).toBe(0);
      expect(s.rank).toBe(0);
      expect(t.shape).toEqual([]);
      const optimizer = tf.train.sgd(0.1);
      const cost = optimizer.minimize(() => head.loss(x, [0, 1]), true);
      expect(cost?.rank).toBe(0);
    });
  });
});

// ---- 9. ONNX Runtime ------------------------------------------------------------------------------------------

describe('on ONNX Runtime (onnxruntime-node) a head traces and gives the tfjs value', () => {
  const C = 6;
  const D = 5;
  const B = 8;
  const ort = ortBackend(ortNode);
  afterAll(() => ort.dispose());
  const bt = batch(B, D, C, 90, [6]);
  const o = { numClasses: C, embeddingSize: D, seed: 21, scale: 16 } as const;

  /** ArcFace (m 0.5, linear fallback) in float64. */
  function arcface64(w: ArrayLike<number>): number {
    const cos = cosines64(bt.data, w, D);
    const m = 0.5;
    const rows = bt.labels.map((y, i) => [y, i] as const).filter(([y]) => y >= 0);
    return (
      rows.reduce((sum, [y, i]) => {
        const c = cos[i]![y]!;
        const target = c > Math.cos(Math.PI - m) ? Math.cos(Math.acos(c) + m) : c - m * Math.sin(m);
        return (
          sum +
          crossEntropy(
            cos[i]!.map((v, j) => o.scale * (j === y ? target : v)),
            y,
          )
        );
      }, 0) / rows.length
    );
  }

  /** AdaFace (m 0.4, h 0.333, t_α 0.01, eps 1e-3) in float64, a training step from μ 20, σ 100. */
  function adaface64(w: ArrayLike<number>): number {
    const [m, h, alpha, eps] = [0.4, 0.333, 0.01, 1e-3];
    const cos = cosines64(bt.data, w, D);
    const rows = bt.labels.map((y, i) => [y, i] as const).filter(([y]) => y >= 0);
    const safe = rowNorms(bt.data, D).map((n) => Math.min(100, Math.max(0.001, n)));
    const counted = rows.map(([, i]) => safe[i]!);
    const mean = counted.reduce((a, b) => a + b, 0) / counted.length;
    const std = Math.sqrt(counted.reduce((a, b) => a + (b - mean) ** 2, 0) / (counted.length - 1));
    const mu = alpha * mean + (1 - alpha) * 20;
    const sigma = alpha * std + (1 - alpha) * 100;
    const clip = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
    return (
      rows.reduce((sum, [y, i]) => {
        const z = clip((h * (safe[i]! - mu)) / (sigma + eps), -1, 1);
        const theta = Math.acos(clip(cos[i]![y]!, -1 + eps, 1 - eps));
        const target = Math.cos(clip(theta - m * z, eps, Math.PI - eps)) - (m + m * z);
        return (
          sum +
          crossEntropy(
            cos[i]!.map((v, j) => o.scale * (j === y ? target : clip(v, -1 + eps, 1 - eps))),
            y,
          )
        );
      }, 0) / rows.length
    );
  }

  it.each([
    ['ArcFaceLoss', <T, S extends T>(b: import('@marginkit/core').Backend<T, S>) => new ArcFaceLoss(b, o), arcface64],
    ['AdaFaceLoss', <T, S extends T>(b: import('@marginkit/core').Backend<T, S>) => new AdaFaceLoss(b, o), adaface64],
  ] as const)('%s', async (_, make, reference) => {
    const tfHead = make(backend);
    const ortHead = make(ort);
    const w = read(tfHead.centers);
    const tfValue = tf.tidy(() => scalar(tfHead.loss(bt.x(), bt.labels)));
    const loss = ortHead.loss(ort.tensor(bt.data, [B, D]), ort.tensor(Int32Array.from(bt.labels), [B], 'int32'));
    const [value] = await ort.run([loss]);
    const ortValue = Number((value!.data as Float32Array)[0]);
    expect(bits((await ortHead.save()).centers)).toEqual(bits(w)); // same seed, same centres
    expect(Math.abs(ortValue - tfValue)).toBeLessThan(1e-4);
    const expected = reference(w);
    expect(Math.abs(tfValue - expected)).toBeLessThan(1e-4 * expected);
    expect(Math.abs(ortValue - expected)).toBeLessThan(1e-4 * expected);
  });

  // The Backend contract's dispose(tensor) releases one tensor; OrtBackend.dispose() releases the
  // whole backend. A head calls the former when it replaces its centres (load, centres setter).
  it.each([
    ['head.load(checkpoint)', async (head: ArcFaceLoss<unknown, unknown>, other: HeadCheckpoint) => head.load(other)],
    [
      'head.centers = Float32Array',
      async (head: ArcFaceLoss<unknown, unknown>, other: HeadCheckpoint) => {
        head.centers = other.centers;
      },
    ],
  ] as const)('%s keeps the ORT backend usable', async (_, replace) => {
    const own = ortBackend(ortNode);
    try {
      const head = new ArcFaceLoss(own, o);
      const other = await new ArcFaceLoss(own, { ...o, seed: 22 }).save();
      await replace(head as ArcFaceLoss<unknown, unknown>, other);
      const [value] = await own.run([head.loss(own.tensor(bt.data, [B, D]), Int32Array.from(bt.labels))]);
      expect(Math.abs(Number((value!.data as Float32Array)[0]) - arcface64(other.centers))).toBeLessThan(1e-4 * arcface64(other.centers));
    } finally {
      await own.dispose();
    }
  });

  it('disposing one head leaves another head on the same ORT backend usable', async () => {
    const own = ortBackend(ortNode);
    try {
      const first = new ArcFaceLoss(own, o);
      const second = new ArcFaceLoss(own, o);
      first.dispose();
      const [value] = await own.run([second.loss(own.tensor(bt.data, [B, D]), Int32Array.from(bt.labels))]);
      expect(Math.abs(Number((value!.data as Float32Array)[0]) - arcface64((await second.save()).centers))).toBeLessThan(1e-3);
    } finally {
      await own.dispose();
    }
  });
});

// ---- 10. createHead from a JSON config --------------------------------------------------------------------------

describe('createHead(backend, JSON of head.config) builds the same head, for every margin type', () => {
  const C = 5;
  const D = 4;
  const cases: readonly [string, Margin, Record<string, unknown>][] = [
    ['arcface', arcface({ m: 0.3, fallback: 'psi', gradient: 'straight-through' }), {}],
    ['cosface', cosface({ m: 0.2, fallback: 'easy' }), { reduction: 'sum' }],
    ['sphereface', sphereface({ m: 1.35, lambda: 5, featureScale: 'norm' }), {}],
    ['sphereface (straight-through)', sphereface({ m: 2, gradient: 'straight-through' }), {}],
    ['combined', combinedMargin({ m1: 0.9, m2: 0.4, m3: 0.15 }), { subCenters: 2 }],
    ['none', noMargin(), { ignoreIndex: null }],
    ['compose', composeMargins(arcface({ m: 0.2 }), cosface({ m: 0.1 })), { scale: 30 }],
    ['adacos', adacos(), {}],
    ['adaface', adaface({ m: 0.3, h: 0.5, tAlpha: 0.2 }), {}],
    ['curricularface', curricularface({ m: 0.4, momentum: 0.05 }), { subCenters: 3 }],
    ['elasticface', elasticface({ variant: 'cos', plus: true }), {}],
    ['magface', magface({ lambdaG: 40 }), { scale: 32 }],
  ];

  it('the cases cover every type of the loss registry', () => {
    expect([...new Set(cases.map(([, m]) => m.type))].sort()).toEqual(createLossRegistry().types());
  });

  it.each(cases)('%s', async (_, margin, extra) => {
    const head: Head = new MarginHead(backend, { margin, numClasses: C, embeddingSize: D, seed: 3, ...extra });
    const json = JSON.parse(JSON.stringify(head.config));
    const copy = createHead(backend, json);
    expect(copy.config).toEqual(head.config);
    expect(JSON.stringify(copy.config)).toBe(JSON.stringify(head.config));
    expect(copy.margin.type).toBe(margin.type);
    expect(JSON.stringify(loadHead(backend, await head.save()).config)).toBe(JSON.stringify(head.config));

    // The same head, not only the same config: after loading the original's checkpoint, the same
    // loss and the same gradient with respect to the embeddings.
    copy.load(await head.save());
    const bt = batch(6, D, C, 100, [2]);
    const labels = json.ignoreIndex === null ? bt.labels.map((y) => Math.max(y, 0)) : bt.labels;
    const run = (h: Head) =>
      tf.tidy(() => {
        const e = bt.x();
        const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => h.loss(v, labels))(e);
        return { value: scalar(value), grad: read(grad) };
      });
    const a = run(head);
    const b = run(copy);
    expect(Number.isFinite(a.value)).toBe(true);
    expect(b.value).toBe(a.value);
    expect(bits(b.grad)).toEqual(bits(a.grad));
  });
});

// ---- centres and numerics the config must carry ---------------------------------------------------------------

describe('what a head is made of survives a save and a reload', () => {
  // The checkpoint's config is what loadHead rebuilds the head from; the acos clamp ε changes the
  // loss, so a head saved with ε = 0.05 must come back with it.
  it('loadHead restores a head with a non-default epsilon to the same loss', async () => {
    const head = new ArcFaceLoss(backend, { numClasses: 3, embeddingSize: 4, seed: 1, scale: 8, epsilon: 0.05 });
    const { centers } = await head.save();
    const x = () => tf.tensor2d(centers.subarray(0, 8), [2, 4]); // c_y = 1 for both rows: where ε acts
    const copy = loadHead(backend, await head.save());
    const a = tf.tidy(() => scalar(head.loss(x(), [0, 1])));
    const b = tf.tidy(() => scalar(copy.loss(x(), [0, 1])));
    expect(b).toBe(a);
  });

  it('centres set from a tfjs tensor stay trainable and are the head’s own copy', () => {
    const head = new CosFaceLoss(backend, { numClasses: 3, embeddingSize: 4, seed: 1, scale: 8 });
    const values = gaussian(3, 4, 5);
    const given = tf.tensor2d(values, [3, 4]);
    head.centers = given;
    given.dispose(); // the caller's tensor is the caller's
    expect(head.centers).toBeInstanceOf(tf.Variable);
    expect(bits(read(head.centers))).toEqual(bits(values));
    const bt = batch(6, 4, 3, 6);
    sgdSteps(head, tf.train.sgd(0.5), [bt]);
    expect(bits(read(head.centers))).not.toEqual(bits(values));
  });
});
