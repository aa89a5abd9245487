import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keepsLogits } from './chunked-loss.js';
import {
  InvalidArgumentError,
  InvalidBackendError,
  LabelError,
  type Margin,
  ShapeError,
  arcface,
  chunkedMarginSoftmaxStep,
  combinedMargin,
  composeMargins,
  cosface,
  defineMargin,
  marginSoftmaxStep,
  noMargin,
  sphereface,
} from './index.js';
import { matrix, rowsOf, tilted } from '../test/chunk-fixtures.js';
import { RefTensor, compareNormwise, expectTypedError, expectTypedRejection, referenceBackend, seededRandom } from './testing/index.js';

const ref = referenceBackend();
const B = 7;
const D = 5;
const C = 11;

/** The centres [C·K, D] split into chunks of `classChunk` classes. */
const split = (w: RefTensor, classChunk: number, k = 1): RefTensor[] => {
  const out: RefTensor[] = [];
  for (let c = 0; c < w.shape[0]! / k; c += classChunk) out.push(rowsOf(w, c * k, Math.min(c + classChunk, w.shape[0]! / k) * k));
  return out;
};

/** A target-only wide margin: an additive margin growing with ‖x‖ (reads the norms, not the cosines). */
const normAware = defineMargin({
  type: 'norm-cosface',
  params: { m: 0.4 },
  transform: ({ ops, cosTarget, norms }, { m }) => {
    const grow = ops.minimum(ops.div(ops.reshape(norms, [-1]), ops.scalar(3)), ops.scalar(1));
    return { target: ops.sub(cosTarget, ops.mul(grow, ops.scalar(m))) };
  },
});

const MARGINS: readonly (readonly [string, Margin])[] = [
  ['arcface', arcface()],
  ['arcface psi, straight-through', arcface({ m: 0.6, fallback: 'psi', gradient: 'straight-through' })],
  ['arcface easy', arcface({ fallback: 'easy' })],
  ['cosface', cosface()],
  ['sphereface λ 5', sphereface({ m: 1.7, lambda: 5 })],
  ['sphereface ‖x‖ scale', sphereface({ m: 2, featureScale: 'norm' })],
  ['combinedMargin', combinedMargin()],
  ['noMargin', noMargin()],
  ['arcface ∘ cosface', composeMargins(arcface({ m: 0.3 }), cosface({ m: 0.2 }))],
  ['a target-only wide margin', normAware],
  ['a class-local margin with logits and scale', tilted],
];

interface Case {
  readonly margin: Margin;
  readonly classChunk: number;
  readonly subCenters?: number;
  readonly ignore?: boolean;
  readonly reduction?: 'mean' | 'sum';
  readonly scale?: number;
  readonly spread?: number;
  readonly labels?: readonly number[];
}

/** The chunked step against the unchunked one on the float64 reference: loss, per-sample losses, auxiliary loss. */
async function expectParity(c: Case, rtol = 1e-12): Promise<void> {
  const k = c.subCenters ?? 1;
  const x = matrix(B, D, 1, c.spread ?? 1);
  const w = matrix(C * k, D, 2);
  const labels = c.labels ?? (c.ignore ? [0, -1, 10, 3, -1, 7, 5] : [0, 4, 10, 3, 9, 7, 5]);
  const options = {
    margin: c.margin,
    scale: c.scale ?? 16,
    subCenters: k,
    reduction: c.reduction ?? 'mean',
    ...(c.ignore ? { ignoreIndex: -1 as const } : {}),
  };
  const whole = marginSoftmaxStep(ref, options)(x, w, labels);
  const step = chunkedMarginSoftmaxStep(ref, { ...options, classChunk: c.classChunk });
  const out = await step(x, split(w, c.classChunk, k), labels);
  expect(compareNormwise([out.loss], whole.loss.data, rtol), 'loss').toBeUndefined();
  expect(compareNormwise(out.perSample, whole.perSample.data, rtol), 'per-sample').toBeUndefined();
}

describe('chunkedMarginSoftmaxStep on the float64 reference equals marginSoftmaxStep', () => {
  for (const [name, margin] of MARGINS) {
    for (const classChunk of [4, 3, 1, C, 64]) {
      it(`${name}, chunks of ${classChunk} classes`, () => expectParity({ margin, classChunk }));
    }
  }
  it.each([1, 2, 5])('sub-centres K = 2, chunks of %i classes', (classChunk) => expectParity({ margin: arcface(), classChunk, subCenters: 2 }));
  it.each(['mean', 'sum'] as const)('ignored rows (−1), reduction %s', (reduction) =>
    expectParity({ margin: cosface(), classChunk: 4, ignore: true, reduction }),
  );
  it('every row ignored: loss 0 as the unchunked mean', () => expectParity({ margin: arcface(), classChunk: 3, ignore: true, labels: Array(B).fill(-1) }));
  it('well-classified rows (the series range of the unchunked loss): per-sample losses ≈ 1e-24 keep their relative precision', async () => {
    // Near-orthogonal centres (D = C) and embeddings on their own centre: each row's loss ≈ 10·e^{−57.6}.
    const w = new RefTensor(
      [C, C],
      'float32',
      Float64Array.from({ length: C * C }, (_, f) => (f % (C + 1) === 0 ? 1 : 0.01 * Math.sin(f))),
    );
    const x = rowsOf(w, 0, B);
    const labels = [0, 1, 2, 3, 4, 5, 6];
    const options = { margin: cosface({ m: 0.1 }), scale: 64, reduction: 'sum' as const };
    const whole = marginSoftmaxStep(ref, options)(x, w, labels);
    const out = await chunkedMarginSoftmaxStep(ref, { ...options, classChunk: 4 })(x, split(w, 4), labels);
    expect(Math.max(...out.perSample)).toBeLessThan(1e-20);
    for (const [i, v] of out.perSample.entries()) expect(Math.abs(v / whole.perSample.data[i]! - 1)).toBeLessThan(1e-9);
  });
  it('badly classified rows at a large scale (the overflow-safe range): losses ≈ 1e3', () =>
    expectParity({ margin: arcface(), classChunk: 4, scale: 1000, labels: [1, 1, 1, 1, 1, 1, 1] }));
});

describe('chunkedMarginSoftmaxStep: properties', () => {
  it('the loss does not depend on how the classes are ordered and chunked (the merge is order-free)', async () => {
    const x = matrix(B, D, 3);
    const w = matrix(C, D, 4);
    const labels = [0, 4, 10, 3, 9, 7, 5];
    const base = await chunkedMarginSoftmaxStep(ref, { margin: tilted, scale: 8, classChunk: C })(x, [w], labels);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: C }), fc.nat(), async (classChunk, seed) => {
        const r = seededRandom(seed);
        const order = Array.from({ length: C }, (_, i) => ({ i, key: r.uniform(0, 1) }))
          .sort((a, b) => a.key - b.key)
          .map((e) => e.i); // new class j is old class order[j]
        const where = new Array<number>(C);
        for (const [j, old] of order.entries()) where[old] = j;
        const permuted = new RefTensor(
          [C, D],
          'float32',
          Float64Array.from({ length: C * D }, (_, f) => w.data[order[Math.floor(f / D)]! * D + (f % D)]!),
        );
        const out = await chunkedMarginSoftmaxStep(ref, { margin: tilted, scale: 8, classChunk })(
          x,
          split(permuted, classChunk),
          labels.map((y) => where[y]!),
        );
        expect(Math.abs(out.loss - base.loss)).toBeLessThan(1e-12 * base.loss);
        expect(compareNormwise(out.perSample, base.perSample, 1e-12)).toBeUndefined();
      }),
      { numRuns: 25 },
    );
  });
});

describe('chunkedMarginSoftmaxStep: bad input gets a typed error naming the argument', () => {
  const x = matrix(B, D, 1);
  const w = matrix(C, D, 2);
  const labels = [0, 4, 10, 3, 9, 7, 5];
  const step = chunkedMarginSoftmaxStep(ref, { margin: arcface(), classChunk: 4 });
  it.each([0, -2, 1.5, Number.NaN, undefined, '4'])('classChunk %s', (classChunk) => {
    expectTypedError(() => Reflect.apply(chunkedMarginSoftmaxStep, undefined, [ref, { margin: arcface(), classChunk }]), {
      error: InvalidArgumentError,
      argument: 'chunkedMarginSoftmaxStep.classChunk',
    });
  });
  it.each(['yes', 1, null])('keepLogits %s', (keepLogits) => {
    expectTypedError(() => Reflect.apply(chunkedMarginSoftmaxStep, undefined, [ref, { margin: arcface(), classChunk: 4, keepLogits }]), {
      error: InvalidArgumentError,
      argument: 'chunkedMarginSoftmaxStep.keepLogits',
    });
  });
  it("reduction 'none' (per-sample losses are always returned)", () => {
    expectTypedError(() => Reflect.apply(chunkedMarginSoftmaxStep, undefined, [ref, { margin: arcface(), classChunk: 4, reduction: 'none' }]), {
      error: InvalidArgumentError,
      argument: 'chunkedMarginSoftmaxStep.reduction',
    });
  });
  it('centres that are not a non-empty array of chunks', async () => {
    await expectTypedRejection(() => step(x, [], labels), { error: InvalidArgumentError, argument: 'centers', message: /non-empty array/ });
    // Untyped callers (JavaScript) may pass one tensor: Reflect.apply skips the types.
    await expectTypedRejection(() => Reflect.apply(step, undefined, [x, w, labels]), { error: InvalidArgumentError, argument: 'centers' });
  });
  it('a chunk of the wrong size, dimension or dtype, naming the chunk', async () => {
    await expectTypedRejection(() => step(x, [rowsOf(w, 0, 4), rowsOf(w, 4, 7), rowsOf(w, 7, 11)], labels), {
      error: ShapeError,
      argument: 'centers[1]',
      message: /has 3 rows, expected 4/,
    });
    await expectTypedRejection(() => step(x, [rowsOf(w, 0, 4), rowsOf(w, 4, 11)], labels), {
      error: ShapeError,
      argument: 'centers[1]',
      message: /in \[1, 4\]/,
    });
    await expectTypedRejection(() => step(x, [matrix(4, D + 1, 5)], labels), { error: ShapeError, argument: 'centers[0]', message: /dimension 6/ });
    const ints = new RefTensor([4, D], 'int32', new Float64Array(4 * D));
    await expectTypedRejection(() => step(x, [ints], labels), { error: InvalidArgumentError, argument: 'centers[0]' });
    const twice = chunkedMarginSoftmaxStep(ref, { margin: arcface(), classChunk: 2, subCenters: 2 });
    await expectTypedRejection(() => twice(x, [rowsOf(w, 0, 4), rowsOf(w, 4, 7)], labels), {
      error: ShapeError,
      argument: 'centers[1]',
      message: /multiple of K = 2/,
    });
  });
  it('labels out of range of the chunks, or −1 without ignoreIndex', async () => {
    await expectTypedRejection(() => step(x, split(w, 4), [0, 4, 11, 3, 9, 7, 5]), {
      error: LabelError,
      argument: 'labels',
      message: /labels\[2\] = 11 is not in \[0, 11\)/,
    });
    await expectTypedRejection(() => step(x, split(w, 4), [0, -1, 1, 3, 9, 7, 5]), { error: LabelError, argument: 'labels' });
    await expectTypedRejection(() => step(x, split(w, 4), [0, 1]), { error: ShapeError, argument: 'labels' });
  });
  it('a margin whose transform needs every class (an AdaCos-like scale from Σ_j exp(s·c_j)) without classLocal', async () => {
    const spanning = defineMargin({
      type: 'spanning',
      params: {},
      transform: ({ ops, cosines, cosTarget }) => ({ target: cosTarget, scale: ops.log(ops.sum(ops.exp(ops.stopGradient(cosines)), 1, true)) }),
    });
    const chunked = chunkedMarginSoftmaxStep(ref, { margin: spanning, classChunk: 4 });
    await expectTypedRejection(() => chunked(x, split(w, 4), labels), {
      error: InvalidArgumentError,
      argument: 'chunkedMarginSoftmaxStep.margin',
      message: /margin 'spanning' cannot run over class chunks: .*classLocal/,
    });
  });
  it('gradients on a backend without valueAndGradients', async () => {
    await expectTypedRejection(() => step(x, split(w, 4), labels, { onCentersGradient: () => {} }), {
      error: InvalidBackendError,
      argument: 'backend',
      message: /valueAndGradients/,
    });
  });
  it('unknown call options, state of the wrong shape, missing per-step inputs', async () => {
    await expectTypedRejection(() => Reflect.apply(step, undefined, [x, split(w, 4), labels, { trainng: true }]), {
      error: InvalidArgumentError,
      argument: 'options.trainng',
    });
    const stateful = defineMargin({
      type: 'stateful',
      params: {},
      state: { t: { shape: [2], initial: () => [0, 0] } },
      inputs: { m: { sample: (n) => new Float32Array(n) } },
      transform: ({ ops, cosTarget, inputs }) => ({ target: ops.sub(cosTarget, inputs['m']!) }),
    });
    const s = chunkedMarginSoftmaxStep(ref, { margin: stateful, classChunk: 4 });
    await expectTypedRejection(() => s(x, split(w, 4), labels, { inputs: { m: new Float32Array(B) }, state: { t: new Float32Array(3) } }), {
      error: ShapeError,
      argument: 'options.state.t',
    });
    await expectTypedRejection(() => s(x, split(w, 4), labels), { error: InvalidArgumentError, argument: 'options.inputs.m' });
    const out = await s(x, split(w, 4), labels, { inputs: { m: new Float32Array(B).fill(0.3) } });
    expect(Array.from(out.state['t']!)).toEqual([0, 0]);
  });
});

describe('Margin.classLocal: declared by defineMargin, carried by composeMargins', () => {
  it('defineMargin takes a boolean and composeMargins is class-local only when every part is class-local or one-line', () => {
    expect(tilted.classLocal).toBe(true);
    expect(normAware.classLocal).toBeUndefined();
    expect(composeMargins(arcface(), tilted).classLocal).toBe(true);
    expect(composeMargins(arcface(), cosface()).classLocal).toBeUndefined();
    expect(composeMargins(normAware, tilted).classLocal).toBeUndefined();
    const definition = { type: 'x', params: {}, classLocal: 'yes', transform: <T>({ cosTarget }: { cosTarget: T }) => ({ target: cosTarget }) };
    expectTypedError(() => Reflect.apply(defineMargin, undefined, [definition]), {
      error: InvalidArgumentError,
      argument: 'definition.classLocal',
    });
  });
  it('a composition with a target-only wide part needs no declaration: it does not touch the cosines', () =>
    expectParity({ margin: composeMargins(normAware, cosface()), classChunk: 3 }));
});

describe("keepLogits 'auto' keeps the B·C cosines when they take no more than the C·D gradient", () => {
  it('B ≤ D keeps, B > D forms them again; true and false are taken as given', () => {
    expect([keepsLogits('auto', 256, 512), keepsLogits('auto', 512, 512), keepsLogits('auto', 513, 512)]).toEqual([true, true, false]);
    expect([keepsLogits(true, 1024, 8), keepsLogits(false, 2, 512)]).toEqual([true, false]);
  });
});
