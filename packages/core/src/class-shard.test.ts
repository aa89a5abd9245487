import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChunkStatistics,
  InvalidArgumentError,
  LabelError,
  type Margin,
  ShapeError,
  arcface,
  classShard,
  classShardRanges,
  composeMargins,
  cosface,
  defineMargin,
  emptyChunkStatistics,
  marginSoftmaxStep,
  mergeChunkStatistics,
  sphereface,
} from './index.js';
import { matrix, rowsOf, tilted } from '../test/chunk-fixtures.js';
import { RefTensor, compareNormwise, expectTypedError, expectTypedRejection, referenceBackend } from './testing/index.js';

// The simulation of N shards in one process: the classes split at random cut points, each shard
// chunked at random, merging through the exported functions only, against the unchunked
// marginSoftmaxStep on the float64 reference backend. (The reference has no valueAndGradients:
// the gradients of the shard protocol are tested on tfjs and ONNX Runtime in @marginkit/losses.)

const ref = referenceBackend();
const B = 7;
const D = 5;
const C = 23;

/** A stateful margin with a per-step input: its state follows the batch's mean target cosine. */
const drifting = defineMargin({
  type: 'drifting',
  params: { m: 0.2 },
  state: { t: { shape: [1], initial: () => [0.1] } },
  inputs: { jitter: { sample: (n) => new Float32Array(n) } },
  transform: ({ ops, cosTarget, state, inputs }, { m }) => ({
    target: ops.sub(cosTarget, ops.add(ops.add(ops.scalar(m), ops.mul(state['t']!, ops.scalar(0.1))), inputs['jitter']!)),
    state: { t: ops.add(ops.mul(state['t']!, ops.scalar(0.9)), ops.mul(ops.reshape(ops.mean(cosTarget, 0), [1]), ops.scalar(0.1))) },
  }),
});

const MARGINS: readonly (readonly [string, Margin])[] = [
  ['arcface', arcface()],
  ['cosface', cosface()],
  ['sphereface ‖x‖ scale', sphereface({ m: 2, featureScale: 'norm' })],
  ['arcface ∘ cosface', composeMargins(arcface({ m: 0.3 }), cosface({ m: 0.2 }))],
  ['class-local logits depending on c_y', tilted],
  ['stateful, with a per-step input', drifting],
];

interface Run {
  readonly margin: Margin;
  /** Cut points: shard r owns [cuts[r], cuts[r + 1]). */
  readonly cuts: readonly number[];
  readonly classChunks: readonly number[];
  readonly labels: readonly number[];
  readonly order: readonly number[];
}

/** One step of the shard protocol over the exported functions, merging in `order`. */
async function shardedStep(run: Run, x: RefTensor, w: RefTensor) {
  const options = { margin: run.margin, scale: 16, classes: C, ignoreIndex: -1 as const };
  // State and inputs float32-exact, as the shards feed them as float32.
  const call = run.margin.inputs ? { inputs: { jitter: Float32Array.from({ length: B }, (_, i) => i / 128) }, state: { t: Float32Array.of(0.125) } } : {};
  const shards = run.cuts.slice(0, -1).map((start, r) => {
    const end = run.cuts[r + 1]!;
    const cc = run.classChunks[r]!;
    const chunks: RefTensor[] = [];
    for (let c = start; c < end; c += cc) chunks.push(rowsOf(w, c, Math.min(c + cc, end)));
    return { shard: classShard(ref, { ...options, offset: start, classChunk: cc }), chunks };
  });
  let cosTarget: Float64Array | undefined;
  if (shards[0]!.shard.classLocal) {
    cosTarget = new Float64Array(B);
    for (const { shard, chunks } of shards) for (const [i, v] of (await shard.targetCosines(x, chunks, run.labels, call)).entries()) cosTarget[i]! += v;
  }
  const stats = await Promise.all(shards.map(({ shard, chunks }) => shard.statistics(x, chunks, run.labels, { ...call, ...(cosTarget ? { cosTarget } : {}) })));
  const merged = run.order.reduce<ChunkStatistics>((m, r) => mergeChunkStatistics(m, stats[r]!), emptyChunkStatistics(B));
  return shards[run.order[0]!]!.shard.rows(x, run.labels, merged, { ...call, ...(cosTarget ? { cosTarget } : {}) });
}

const runs = (margin: Margin) =>
  fc.integer({ min: 1, max: 7 }).chain((n) =>
    fc.record({
      margin: fc.constant(margin),
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: C - 1 }), { minLength: n - 1, maxLength: n - 1 }).map((inner) => [0, ...inner.sort((a, b) => a - b), C]),
      classChunks: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: n, maxLength: n }),
      labels: fc.array(fc.integer({ min: -1, max: C - 1 }), { minLength: B, maxLength: B }),
      order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    }),
  );

describe('N shards in one process (N = 1..7, random class splits, chunks and merge orders) equal the unchunked step', () => {
  const x = matrix(B, D, 1);
  const w = matrix(C, D, 2);
  for (const [name, margin] of MARGINS) {
    it(`${name}: loss, per-sample losses and next state within 1e-12 (float64 reference)`, async () => {
      await fc.assert(
        fc.asyncProperty(runs(margin), async (run) => {
          const out = await shardedStep(run, x, w);
          const jitter = margin.inputs
            ? {
                inputs: {
                  jitter: new RefTensor(
                    [B],
                    'float32',
                    Float64Array.from({ length: B }, (_, i) => i / 128),
                  ),
                },
                state: { t: new RefTensor([1], 'float32', Float64Array.of(0.125)) },
              }
            : {};
          const whole = marginSoftmaxStep(ref, { margin, scale: 16, ignoreIndex: -1 })(x, w, run.labels, jitter);
          expect(compareNormwise([out.loss], whole.loss.data, 1e-12), 'loss').toBeUndefined();
          expect(compareNormwise(out.perSample, whole.perSample.data, 1e-12), 'per-sample').toBeUndefined();
          for (const [key, t] of Object.entries(whole.state)) expect(compareNormwise(out.state[key]!, t.data, 1e-6), `state ${key}`).toBeUndefined();
        }),
        { numRuns: 20 },
      );
    });
  }
});

describe('classShardRanges', () => {
  it('splits as splitCheckpoint does: ⌊C/S⌋ each, one more for the first C mod S', () => {
    expect(classShardRanges(10, 3)).toEqual([
      [0, 4],
      [4, 7],
      [7, 10],
    ]);
    expect(classShardRanges(5, 5).every(([a, b]) => b - a === 1)).toBe(true);
  });
  it.each([
    [0, 1, 'classes'],
    [4, 5, 'shards'],
    [4, 0, 'shards'],
    [4, 1.5, 'shards'],
  ])('classes %s, shards %s: a typed error naming %s', (classes, shards, argument) =>
    expectTypedError(() => classShardRanges(classes, shards), { error: InvalidArgumentError, argument }),
  );
});

describe('classShard: bad input gets a typed error naming the argument', () => {
  const x = matrix(B, D, 1);
  const w = matrix(C, D, 2);
  const labels = [0, 4, 10, 3, 22, 7, 5];
  const options = { margin: arcface(), classChunk: 4, classes: C };
  it.each([
    [{ offset: -1 }, 'classShard.offset'],
    [{ offset: C }, 'classShard.offset'],
    [{ offset: 0, classes: 0 }, 'classShard.classes'],
    [{ offset: 0, classChunk: 0 }, 'classShard.classChunk'],
    [{ offset: 0, shards: 2 }, 'classShard.shards'],
  ])('options %o', (extra, argument) =>
    expectTypedError(() => Reflect.apply(classShard, undefined, [ref, { ...options, ...extra }]), { error: InvalidArgumentError, argument }),
  );
  it('centres past C, labels out of [0, C), merged statistics and coefficients of the wrong size', async () => {
    const shard = classShard(ref, { ...options, offset: 20 });
    await expectTypedRejection(() => shard.statistics(x, [rowsOf(w, 0, 4)], labels), { error: ShapeError, argument: 'centers', message: /past the 23/ });
    await expectTypedRejection(() => shard.statistics(x, [rowsOf(w, 0, 3)], [0, 4, 23, 3, 22, 7, 5]), { error: LabelError, argument: 'labels' });
    await expectTypedRejection(() => shard.rows(x, labels, emptyChunkStatistics(B - 1)), { error: ShapeError, argument: 'merged.max' });
    await expectTypedRejection(() => Reflect.apply(shard.rows, undefined, [x, labels, { max: [1] }]), { error: InvalidArgumentError, argument: 'merged.max' });
    const bad = { cosTarget: new Float64Array(B), logSumExp: new Float64Array(B), weight: new Float64Array(B), target: new Float64Array(2) };
    await expectTypedRejection(() => shard.backward(x, [rowsOf(w, 0, 3)], labels, bad), { error: ShapeError, argument: 'coefficients.target' });
  });
  it('a class-local margin without the summed target cosines', async () => {
    const shard = classShard(ref, { ...options, margin: tilted, offset: 0 });
    await expectTypedRejection(() => shard.statistics(x, [rowsOf(w, 0, 4)], labels), { error: InvalidArgumentError, argument: 'options.cosTarget' });
    await expectTypedRejection(() => shard.statistics(x, [rowsOf(w, 0, 4)], labels, { cosTarget: new Float64Array(2) }), {
      error: ShapeError,
      argument: 'options.cosTarget',
    });
  });
  it('unknown call options', async () => {
    const shard = classShard(ref, { ...options, offset: 0 });
    await expectTypedRejection(() => Reflect.apply(shard.statistics, undefined, [x, [rowsOf(w, 0, 4)], labels, { trainng: true }]), {
      error: InvalidArgumentError,
      argument: 'options.trainng',
    });
  });
});

describe('what crosses between shards per step does not depend on C (the sizes the shards guide tabulates)', () => {
  it('B = 256, D = 512: statistics 3 × 8·B bytes, coefficients 4 × 8·B, at C = 8 and C = 24', async () => {
    const [b, d] = [256, 512];
    const x = matrix(b, d, 5);
    const sizes = [];
    for (const classes of [8, 24]) {
      const w = matrix(classes, d, 6);
      const y = Array.from({ length: b }, (_, i) => i % classes);
      const half = classes / 2;
      const shards = [0, half].map((offset) => classShard(ref, { margin: cosface(), classChunk: half, classes, offset }));
      const stats = await Promise.all(shards.map((s, r) => s.statistics(x, [rowsOf(w, r * half, (r + 1) * half)], y)));
      const rows = await shards[0]!.rows(x, y, mergeChunkStatistics(stats[0]!, stats[1]!));
      const bytes = (o: object) => Object.values(o).reduce((n: number, v) => n + (v as Float64Array).byteLength, 0);
      sizes.push([bytes(stats[0]!), bytes(rows.coefficients)]);
    }
    expect(sizes).toEqual([
      [6144, 8192],
      [6144, 8192],
    ]);
  });
});
