// The centres' norms taken on the host (core's chunk-norms.ts): on ONNX Runtime by default, and
// from the caller's `centerNorms` on any backend; the norm's gradient term applied in core or
// handed to the caller (`normTerm: 'defer'`). Every case is checked against the unchunked step,
// whose graphs take the norms themselves (overflow-safe), on the same backend.
import {
  InvalidArgumentError,
  type Margin,
  NonFiniteError,
  ShapeError,
  arcface,
  centerNorms,
  chunkedMarginSoftmaxStep,
  classShard,
  cosface,
  marginSoftmaxStep,
  mergeChunkStatistics,
} from '@marginkit/core';
import { compareNormwise, expectTypedError, expectTypedRejection } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ortBackend } from '../../backend-ort/src/backend.js';
import { tfjsBackend } from '../../backend-tfjs/src/backend.js';
import { useTfBackend } from '../../backend-tfjs/test/tf-variants.js';
import { tilted } from '../../core/test/chunk-fixtures.js';

const [B, D] = [8, 6];
const wave = (n: number, seed: number, amplitude = 1.3) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 1.7) * amplitude);
const LABELS = Int32Array.from([0, 4, -1, 3, 9, 7, 5, 10]);

/** Centres [C·K, D] with special rows: row 1 zero, row 2 below the norm eps, row 5 tiny (below 1e-30) or huge (above 1e30) when asked. */
function centres(rows: number, extreme?: 'tiny' | 'huge'): Float32Array {
  const w = wave(rows * D, 2);
  w.fill(0, D, 2 * D);
  for (let i = 2 * D; i < 3 * D; i++) w[i] = 1e-14 * (i % 3);
  if (extreme !== undefined) for (let i = 5 * D; i < 6 * D; i++) w[i] = extreme === 'tiny' ? 1e-33 : 3e30;
  return w;
}

/** Splits [rows, D] values into chunks of `chunkRows` rows. */
function split(values: Float32Array, chunkRows: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let at = 0; at < values.length; at += chunkRows * D) out.push(values.slice(at, Math.min(values.length, at + chunkRows * D)));
  return out;
}

interface Case {
  readonly margin: Margin;
  readonly classChunk: number;
  readonly subCenters?: number;
  readonly extreme?: 'tiny' | 'huge';
}

const ortB = ortBackend(ort);
afterAll(() => ortB.dispose());

/** The unchunked step's loss and gradients on ORT. */
async function ortWhole(c: Case, xv: Float32Array, wv: Float32Array) {
  const k = c.subCenters ?? 1;
  const step = marginSoftmaxStep(ortB, { margin: c.margin, scale: 16, subCenters: k, ignoreIndex: -1 });
  return ortB.valueAndGradients!((x, w) => step(x!, w!, LABELS).loss, [ortB.tensor(xv, [B, D]), ortB.tensor(wv, [wv.length / D, D])]);
}

describe('on ONNX Runtime the chunks are host memory: the norms are taken there, with the same loss and gradients', () => {
  const cases: readonly (readonly [string, Case])[] = [
    ['arcface, a zero centre and one below eps', { margin: arcface(), classChunk: 4 }],
    ['cosface, sub-centres K = 2', { margin: cosface(), classChunk: 3, subCenters: 2 }],
    ['a class-local margin (the slope term)', { margin: tilted, classChunk: 4 }],
    ['a row of norm below 1e-30: the graphs take the norms (overflow-safe)', { margin: arcface(), classChunk: 4, extreme: 'tiny' }],
    ['a row of norm above 1e30: the graphs take the norms (overflow-safe)', { margin: cosface(), classChunk: 4, extreme: 'huge' }],
  ];
  it.each(cases)('%s', async (_, c) => {
    const k = c.subCenters ?? 1;
    const xv = wave(B * D, 1);
    const wv = centres(11 * k, c.extreme);
    const chunks = split(wv, c.classChunk * k).map((v) => ortB.tensor(v, [v.length / D, D]));
    const parts: Float32Array[] = [];
    const step = chunkedMarginSoftmaxStep(ortB, { margin: c.margin, scale: 16, subCenters: k, ignoreIndex: -1, classChunk: c.classChunk });
    const out = await step(ortB.tensor(xv, [B, D]), chunks, LABELS, { onCentersGradient: (_, g) => void parts.push(g) });
    const whole = await ortWhole(c, xv, wv);
    expect(compareNormwise([out.loss], [whole.value], 1e-5)).toBeUndefined();
    expect(compareNormwise(out.embeddingsGradient!, whole.gradients[0]!, 1e-5)).toBeUndefined();
    expectRowwise(concat(parts), whole.gradients[1]!);
  });
});

describe('centerNorms from the caller, normTerm apply or defer', () => {
  const run = async (backendName: 'tfjs' | 'ort', normTerm: 'apply' | 'defer', given: boolean) => {
    const c: Case = { margin: tilted, classChunk: 4, subCenters: 2 };
    const xv = wave(B * D, 1);
    const wv = centres(22);
    const values = split(wv, 8);
    const norms = values.map((v) => centerNorms(v, D));
    const parts: Float32Array[] = [];
    const options = { margin: c.margin, scale: 16, subCenters: 2, ignoreIndex: -1 as const, classChunk: 4 };
    const onCentersGradient = (k: number, g: Float32Array, coefficients?: Float64Array) => {
      if (normTerm === 'defer') {
        expect(coefficients, 'the term is handed out when the norms are known').toBeDefined();
        for (let j = 0; j < coefficients!.length; j++) for (let i = 0; i < D; i++) g[j * D + i]! -= coefficients![j]! * values[k]![j * D + i]!;
      } else expect(coefficients).toBeUndefined();
      parts.push(g);
    };
    const callOptions = { onCentersGradient, normTerm, ...(given ? { centerNorms: norms } : {}) };
    let out: Awaited<ReturnType<ReturnType<typeof chunkedMarginSoftmaxStep>>>;
    if (backendName === 'ort') {
      const chunks = values.map((v) => ortB.tensor(v, [v.length / D, D]));
      out = await chunkedMarginSoftmaxStep(ortB, options)(ortB.tensor(xv, [B, D]), chunks, LABELS, callOptions);
    } else {
      await useTfBackend('cpu');
      const chunks = values.map((v) => tf.tensor2d(v, [v.length / D, D]));
      const x = tf.tensor2d(xv, [B, D]);
      out = await chunkedMarginSoftmaxStep(tfjsBackend(tf), options)(x, chunks, LABELS, callOptions);
      tf.dispose([x, ...chunks]);
    }
    const whole = await ortWhole(c, xv, wv);
    expect(compareNormwise([out.loss], [whole.value], 1e-5)).toBeUndefined();
    expect(compareNormwise(out.embeddingsGradient!, whole.gradients[0]!, 1e-5)).toBeUndefined();
    expectRowwise(concat(parts), whole.gradients[1]!);
  };
  it.each([
    ['tfjs', 'apply', true],
    ['tfjs', 'defer', true],
    ['ort', 'apply', true],
    ['ort', 'defer', true],
    ['ort', 'defer', false],
  ] as const)('%s, %s, norms given: %s', (b, term, given) => run(b, term, given));

  it('on tfjs without norms, the graphs take them: defer hands out the full gradient and no coefficients', async () => {
    await useTfBackend('cpu');
    const backend = tfjsBackend(tf);
    const x = tf.tensor2d(wave(B * D, 1), [B, D]);
    const chunks = split(centres(11), 4).map((v) => tf.tensor2d(v, [v.length / D, D]));
    const seen: (Float64Array | undefined)[] = [];
    await chunkedMarginSoftmaxStep(backend, { margin: arcface(), scale: 16, classChunk: 4, ignoreIndex: -1 })(x, chunks, LABELS, {
      normTerm: 'defer',
      onCentersGradient: (_, __, c) => void seen.push(c),
    });
    expect(seen).toEqual([undefined, undefined, undefined]);
    tf.dispose([x, ...chunks]);
  });
});

describe('classShard takes centerNorms and normTerm as the chunked step does', () => {
  it('two shards on tfjs, norms given, the term deferred: the shares assemble to the unchunked gradients', async () => {
    await useTfBackend('cpu');
    const backend = tfjsBackend(tf);
    const xv = wave(B * D, 1);
    const wv = centres(11);
    const x = tf.tensor2d(xv, [B, D]);
    const options = { margin: tilted, scale: 16, classChunk: 4, ignoreIndex: -1 as const, classes: 11 };
    const ranges = [
      [0, 6],
      [6, 11],
    ] as const;
    const shards = ranges.map(([start]) => classShard(backend, { ...options, offset: start }));
    const values = ranges.map(([start, end]) => split(wv.slice(start * D, end * D), 4));
    const chunks = values.map((list) => list.map((v) => tf.tensor2d(v, [v.length / D, D])));
    const norms = values.map((list) => list.map((v) => centerNorms(v, D)));
    const cosTarget = (await Promise.all(shards.map((sh, r) => sh.targetCosines(x, chunks[r]!, LABELS, { centerNorms: norms[r]! })))).reduce((a, t) =>
      a.map((v, i) => v + t[i]!),
    );
    const stats = await Promise.all(shards.map((sh, r) => sh.statistics(x, chunks[r]!, LABELS, { centerNorms: norms[r]!, cosTarget, slopes: true })));
    const merged = mergeChunkStatistics(stats[0]!, stats[1]!);
    const rows = await shards[0]!.rows(x, LABELS, merged, { cosTarget });
    const parts: Float32Array[] = [];
    const shares: Float32Array[] = [];
    for (const [r, sh] of shards.entries()) {
      shares.push(
        await sh.backward(x, chunks[r]!, LABELS, rows.coefficients, {
          centerNorms: norms[r]!,
          normTerm: 'defer',
          onCentersGradient: (k, g, c) => {
            for (let j = 0; j < c!.length; j++) for (let i = 0; i < D; i++) g[j * D + i]! -= c![j]! * values[r]![k]![j * D + i]!;
            parts.push(g);
          },
        }),
      );
    }
    const whole = await ortWhole({ margin: tilted, classChunk: 4 }, xv, wv);
    expect(compareNormwise([rows.loss], [whole.value], 1e-5)).toBeUndefined();
    expect(
      compareNormwise(
        shares[0]!.map((v, i) => v + shares[1]![i]!),
        whole.gradients[0]!,
        1e-5,
      ),
    ).toBeUndefined();
    expectRowwise(concat(parts), whole.gradients[1]!);
    await expectTypedRejection(() => shards[0]!.statistics(x, chunks[0]!, LABELS, { centerNorms: norms[1]!, cosTarget }), {
      error: ShapeError,
      argument: 'options.centerNorms[1]',
    });
    tf.dispose([x, ...chunks.flat()]);
  });
});

describe('a non-finite centre is named where the norms are taken', () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY])('%s in chunk 1, on a backend that does not check its feeds', async (bad) => {
    const backend = ortBackend(ort, { validate: 'shapes' });
    try {
      const w = centres(8);
      w[5 * D + 2] = bad;
      const chunks = split(w, 4).map((v) => backend.tensor(v, [v.length / D, D]));
      const x = backend.tensor(wave(B * D, 1), [B, D]);
      const labels = [0, 1, 2, 3, 4, 5, 6, 7];
      const step = chunkedMarginSoftmaxStep(backend, { margin: arcface(), scale: 16, classChunk: 4 });
      await expectTypedRejection(() => step(x, chunks, labels), { error: NonFiniteError, argument: 'centers[1]', message: /\[1, 2\]/ });
      const shard = classShard(backend, { margin: arcface(), scale: 16, classChunk: 4, classes: 8, offset: 0 });
      await expectTypedRejection(() => shard.statistics(x, chunks, labels), { error: NonFiniteError, argument: 'centers[1]' });
    } finally {
      await backend.dispose();
    }
  });
});

describe('bad centerNorms and normTerm get typed errors', () => {
  const step = chunkedMarginSoftmaxStep(ortB, { margin: arcface(), scale: 16, classChunk: 4 });
  const values = split(centres(6), 4);
  const chunks = values.map((v) => ortB.tensor(v, [v.length / D, D]));
  const good = values.map((v) => centerNorms(v, D));
  const call = (options: Record<string, unknown>) => () => step(ortB.tensor(wave(B * D, 1), [B, D]), chunks, [0, 1, 2, 3, 4, 5, 0, 1], options);
  it.each([
    ['not an array', 5, InvalidArgumentError, 'options.centerNorms'],
    ['one array for two chunks', [good[0]], InvalidArgumentError, 'options.centerNorms'],
    ['a Float32Array', [Float32Array.from(good[0]!), good[1]], InvalidArgumentError, 'options.centerNorms[0]'],
    ['the wrong length', [good[0], good[0]], ShapeError, 'options.centerNorms[1]'],
    ['a negative norm', [good[0], Float64Array.from([1, -1])], InvalidArgumentError, 'options.centerNorms[1]'],
    ['NaN', [Float64Array.from([1, Number.NaN, 1, 1]), good[1]], InvalidArgumentError, 'options.centerNorms[0]'],
    ['Infinity', [good[0], Float64Array.from([1, Number.POSITIVE_INFINITY])], InvalidArgumentError, 'options.centerNorms[1]'],
  ] as const)('%s', (_, centerNormsValue, error, argument) => expectTypedRejection(call({ centerNorms: centerNormsValue }), { error, argument }));
  it('normTerm other than apply or defer', () =>
    expectTypedRejection(call({ normTerm: 'later' }), { error: InvalidArgumentError, argument: 'options.normTerm' }));
  it('centerNorms(values, dim): dim and length checked', () => {
    expectTypedError(() => centerNorms(new Float32Array(6), 0), { error: InvalidArgumentError, argument: 'dim' });
    expectTypedError(() => centerNorms(new Float32Array(7), 2), { error: ShapeError, argument: 'values' });
  });
  it('centerNorms is exact where float32 squares would overflow or vanish', () => {
    const n = centerNorms(new Float32Array([3e30, 4e30, 3e-30, 4e-30]), 2);
    expect(n[0]! / Math.hypot(Math.fround(3e30), Math.fround(4e30))).toBeCloseTo(1, 15);
    expect(n[1]! / Math.hypot(Math.fround(3e-30), Math.fround(4e-30))).toBeCloseTo(1, 15);
  });
});

/**
 * Row by row within 1e-4 of each row's largest entry: the centre below eps has a gradient of order
 * 1/eps = 10¹², which would make one tolerance for the whole matrix meaningless, and rows whose
 * gradient is 100× below the others' differ in float32 rounding by ~2e-5 of their own size.
 */
function expectRowwise(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  for (let at = 0; at < expected.length; at += D) {
    expect(compareNormwise(actual.subarray(at, at + D), expected.subarray(at, at + D), 1e-4), `row ${at / D}`).toBeUndefined();
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
