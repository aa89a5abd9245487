// Partial FC per shard in shardedHeadTrainer (sampleRate < 1): real worker threads on
// onnxruntime-node, against an independent reference (tfjs cpu autograd of core's unchunked
// marginSoftmaxLoss over the union of the sampled centres, labels remapped to positions in it).
import { InvalidArgumentError, type Margin, marginSoftmaxLoss } from '@marginkit/core';
import { compareNormwise, expectTypedRejection } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tfjsBackend } from '../../backend-tfjs/src/backend.js';
import { sampleClasses, sampleCount } from './class-sampler.js';
import { type HeadCheckpoint, createLossRegistry } from './index.js';
import { type ShardedSave, type ShardedStepResult, shardedHeadTrainer } from './node.js';
import { jumpedStreams, seededGenerator } from './random.js';
import { headCheckpoint, withTrainer } from '../test/shard-fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const C = 29;
const D = 8;
const B = 8;
const LR = 0.5;
const MU = 0.9;
const RATE = 0.4;

const embeddings = (step: number, batch = B) => Float32Array.from({ length: batch * D }, (_, i) => Math.sin(step * 97 + i * 1.3) * 1.5);
/** Step 2's batch has five classes in [20, 25): more than shard 2 of 3 ([20, 29), 3 sampled) may sample, so it takes its positives only. */
const labels = (step: number) =>
  step === 2 ? Int32Array.from([20, 21, 22, 23, 24, -1, 0, 16]) : Int32Array.from({ length: B }, (_, i) => (i === 3 ? -1 : (i * 7 + step * 5) % C));

const checkpointOf = (margin: Record<string, unknown>, { classes = C, subCenters = 1 } = {}): Promise<HeadCheckpoint> =>
  headCheckpoint(margin, { classes, dim: D, subCenters });

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Each shard's sample as the trainer's scheme draws it: shard r from `state` jumped r times (sampleClasses over its range). */
function reproduceSamples(state: readonly number[], ranges: readonly (readonly [number, number])[], y: Int32Array): { parts: Int32Array[]; next: number[] } {
  const { streams, next } = jumpedStreams(state, ranges.length);
  const parts = ranges.map(([start, end], r) => {
    const local = Int32Array.from(y, (l) => (l >= start && l < end ? l - start : -1));
    const drawn = sampleClasses(local, end - start, sampleCount(end - start, RATE), seededGenerator(streams[r]!), new Uint8Array(end - start));
    return Int32Array.from(drawn, (c) => c + start);
  });
  return { parts, next };
}

/** What every shard's part of `sampled` must be: in its range, sorted, all its positives, sampleCount classes when they fit. */
function expectShardParts(sampled: Int32Array, ranges: readonly (readonly [number, number])[], y: Int32Array): void {
  for (let i = 1; i < sampled.length; i++) expect(sampled[i]! > sampled[i - 1]!, 'sorted, unique').toBe(true);
  for (const [start, end] of ranges) {
    const part = sampled.filter((c) => c >= start && c < end);
    const positives = new Set(Array.from(y).filter((l) => l >= start && l < end));
    for (const p of positives) expect(part.includes(p), `positive ${p} sampled`).toBe(true);
    expect(part.length, `classes sampled in [${start}, ${end})`).toBe(Math.max(positives.size, sampleCount(end - start, RATE)));
  }
}

/** The loss and both gradients over the union's centres, labels remapped to positions in the union, by tfjs autograd. */
function reference(margin: Margin, subCenters: number, x: Float32Array, centers: Float32Array, sampled: Int32Array, y: Int32Array) {
  const perRow = subCenters * D;
  const union = new Float32Array(sampled.length * perRow);
  for (let j = 0; j < sampled.length; j++) union.set(centers.subarray(sampled[j]! * perRow, (sampled[j]! + 1) * perRow), j * perRow);
  const remapped = Int32Array.from(y, (l) => (l < 0 ? -1 : sampled.indexOf(l)));
  expect(
    remapped.every((l, i) => l >= 0 || y[i] === -1),
    'every positive is in the union',
  ).toBe(true);
  const loss = marginSoftmaxLoss(tfjsBackend(tf), { margin, scale: 16, subCenters, ignoreIndex: -1 });
  return tf.tidy(() => {
    const f = (xx: tf.Tensor, ww: tf.Tensor) => loss(xx, ww, tf.tensor1d(remapped, 'int32')) as tf.Scalar;
    const [xt, wt] = [tf.tensor2d(x, [y.length, D]), tf.tensor2d(union, [sampled.length * subCenters, D])];
    const value = f(xt, wt).dataSync()[0]!;
    const [gx, gw] = tf.grads(f)([xt, wt]);
    return { loss: value, gx: Float32Array.from(gx!.dataSync()), gw: Float32Array.from(gw!.dataSync()) };
  });
}

/** The step's update against the reference gradient: sampled rows by v ← μv + g, w ← w − ηv; every other row keeps its bits. */
function expectSparseUpdate(before: ShardedSave, after: ShardedSave, sampled: Int32Array, gw: Float32Array, perRow: number, what: string): void {
  const [w0, v0, w1, v1] = [before.checkpoint.centers, before.velocity.centers, after.checkpoint.centers, after.velocity.centers];
  const rows = Array.from(sampled, (c) => Array.from({ length: perRow }, (_, i) => c * perRow + i)).flat();
  const velocity = rows.map((at, k) => MU * v0[at]! + gw[k]!);
  expect(
    compareNormwise(
      rows.map((at) => v1[at]!),
      velocity,
      1e-5,
    ),
    `${what}: sampled velocity`,
  ).toBeUndefined();
  const moved = rows.map((at) => w1[at]! - w0[at]!);
  expect(
    compareNormwise(
      moved,
      velocity.map((v) => -LR * v),
      1e-5,
    ),
    `${what}: sampled centres moved by −ηv`,
  ).toBeUndefined();
  const others = new Set(rows);
  const untouched = Array.from({ length: w0.length }, (_, i) => i).filter((i) => !others.has(i));
  expect(untouched.length).toBe(w0.length - rows.length);
  const pick = (a: Float32Array) => Float32Array.from(untouched, (i) => a[i]!);
  expect(bits(pick(w1)), `${what}: unsampled centres keep their bits`).toEqual(bits(pick(w0)));
  expect(bits(pick(v1)), `${what}: unsampled velocity keeps its bits`).toEqual(bits(pick(v0)));
}

/** Three sampled steps against the reference: the samples, loss, embedding gradient, and the sparse update after each. */
async function expectReferenceSteps(margin: Record<string, unknown>, shards: number, subCenters = 1): Promise<void> {
  const checkpoint = await checkpointOf(margin, { subCenters });
  const m = createLossRegistry().margin(checkpoint.config.margin);
  await withTrainer({ checkpoint, shards, learningRate: LR, momentum: MU, sampleRate: RATE }, async (trainer) => {
    let before: ShardedSave = await trainer.save();
    expect(before.checkpoint.random).toEqual(checkpoint.random);
    let state = checkpoint.random;
    for (let s = 0; s < 3; s++) {
      const [x, y] = [embeddings(s), labels(s)];
      const got = await trainer.step(x, y);
      const sampled = got.sampled!;
      expectShardParts(sampled, trainer.ranges, y);
      const { parts, next } = reproduceSamples(state, trainer.ranges, y);
      expect(Array.from(sampled), `step ${s}: the scheme's samples`).toEqual(parts.flatMap((p) => Array.from(p)));
      state = next;
      const want = reference(m, subCenters, x, before.checkpoint.centers, sampled, y);
      expect(compareNormwise([got.loss], [want.loss], 1e-5), `step ${s} loss`).toBeUndefined();
      expect(compareNormwise(got.embeddingsGradient, want.gx, 1e-5), `step ${s} embedding gradient`).toBeUndefined();
      const after = await trainer.save();
      expect(after.checkpoint.random, `step ${s}: save() holds the generator's state`).toEqual(next);
      expectSparseUpdate(before, after, sampled, want.gw, subCenters * D, `step ${s}`);
      before = after;
    }
    if (shards === 3) expect(reproduceSamples(checkpoint.random, trainer.ranges, labels(2)).parts[2]!.length, 'positives past the count').toBe(5);
  });
}

describe('shardedHeadTrainer sampleRate < 1: Partial FC per shard equals the margin softmax over the union of the shards\u2019 samples', () => {
  it.each([1, 2, 3])('CosFace over %i shards of 29 classes (r = 0.4)', (shards) => expectReferenceSteps({ type: 'cosface', m: 0.35 }, shards));
  it('sub-centre ArcFace (K = 2) over 2 shards', () => expectReferenceSteps({ type: 'arcface', m: 0.5 }, 2, 2));
});

/** `steps` training steps, then save. */
async function run(options: Parameters<typeof shardedHeadTrainer>[0], steps: number, batch: (s: number) => [Float32Array, Int32Array]) {
  return withTrainer(options, async (trainer) => {
    const results: ShardedStepResult[] = [];
    for (let s = 0; s < steps; s++) results.push(await trainer.step(...batch(s)));
    return { results, saved: await trainer.save() };
  });
}

function expectSameBits(a: Awaited<ReturnType<typeof run>>, b: Awaited<ReturnType<typeof run>>): void {
  a.results.forEach((r, s) => {
    const o = b.results[s]!;
    expect(o.loss, `step ${s} loss`).toBe(r.loss);
    expect(bits(o.embeddingsGradient), `step ${s} embedding gradient`).toEqual(bits(r.embeddingsGradient));
    expect(Array.from(o.perSample), `step ${s} per-sample`).toEqual(Array.from(r.perSample));
  });
  expect(bits(b.saved.checkpoint.centers), 'centres').toEqual(bits(a.saved.checkpoint.centers));
  expect(bits(b.saved.velocity.centers), 'velocity').toEqual(bits(a.saved.velocity.centers));
}

describe('shardedHeadTrainer sampleRate: the sampled path is the dense one when nothing is left out', () => {
  it('sampleRate 1 equals no sampleRate, bit for bit, over 2 steps (no `sampled`, generator untouched)', async () => {
    const checkpoint = await checkpointOf({ type: 'arcface', m: 0.5 });
    const options = { checkpoint, shards: 2, learningRate: LR, momentum: MU };
    const batch = (s: number): [Float32Array, Int32Array] => [embeddings(s), labels(s)];
    const dense = await run(options, 2, batch);
    const one = await run({ ...options, sampleRate: 1 }, 2, batch);
    expectSameBits(dense, one);
    expect(one.results.every((r) => r.sampled === undefined)).toBe(true);
    expect(one.saved.checkpoint.random).toEqual(checkpoint.random);
  });
  it('a sample of every class (each class a positive) updates as the dense step, bit for bit, through the gathered rows and sparse update', async () => {
    const checkpoint = await checkpointOf({ type: 'arcface', m: 0.5 }, { classes: 6, subCenters: 2 });
    const options = { checkpoint, shards: 2, learningRate: LR, momentum: MU, classChunk: 2 };
    const batch = (s: number): [Float32Array, Int32Array] => [embeddings(s), Int32Array.from([0, 1, 2, 3, 4, 5, s, -1])];
    const dense = await run(options, 2, batch);
    const sampled = await run({ ...options, sampleRate: 0.5 }, 2, batch);
    expectSameBits(dense, sampled);
    for (const r of sampled.results) expect(Array.from(r.sampled!)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(sampled.saved.checkpoint.random).not.toEqual(checkpoint.random);
  });
});

describe('shardedHeadTrainer sampleRate: randomness is deterministic and resumable', () => {
  it('2 steps, save, resume with the same S and take step 3: the uninterrupted 3-step run, bit for bit', async () => {
    const checkpoint = await checkpointOf({ type: 'cosface', m: 0.35 });
    const options = { shards: 3, learningRate: LR, momentum: MU, sampleRate: RATE };
    const batch = (s: number): [Float32Array, Int32Array] => [embeddings(s), labels(s)];
    await withTrainer({ ...options, checkpoint }, async (whole) => {
      const steps = [await whole.step(...batch(0)), await whole.step(...batch(1))];
      const saved = await whole.save();
      steps.push(await whole.step(...batch(2)));
      const uninterrupted = { results: steps.slice(2), saved: await whole.save() };
      const resumed = await run({ ...options, ...saved }, 1, () => batch(2));
      expectSameBits(uninterrupted, resumed);
      expect(Array.from(resumed.results[0]!.sampled!)).toEqual(Array.from(steps[2]!.sampled!));
      expect(resumed.saved.checkpoint.random).toEqual(uninterrupted.saved.checkpoint.random);
    });
  });
  it('saved with 3 shards, resumed with 2: it loads, evaluation does not sample or advance the generator, and the head keeps learning', async () => {
    const checkpoint = await checkpointOf({ type: 'arcface', m: 0.5 });
    const options = { learningRate: LR, momentum: MU, sampleRate: RATE };
    const { saved } = await run({ ...options, checkpoint, shards: 3 }, 2, (s) => [embeddings(s), labels(s)]);
    await withTrainer({ ...options, ...saved, shards: 2 }, async (trainer) => {
      const [x, y] = [embeddings(7), labels(7)];
      const first = await trainer.step(x, y, { training: false });
      expect(first.sampled).toBeUndefined();
      expect((await trainer.save()).checkpoint.random, 'evaluation leaves the generator').toEqual(saved.checkpoint.random);
      expect(trainer.steps).toBe(0);
      for (let s = 0; s < 6; s++) expectShardParts((await trainer.step(x, y)).sampled!, trainer.ranges, y);
      const last = await trainer.step(x, y, { training: false });
      expect(last.loss, 'full-softmax loss on the fixed batch after 6 sampled steps').toBeLessThan(0.8 * first.loss);
    });
  });
  it('jumpedStreams: stream r is the state jumped r times, next is S jumps on, and composing calls composes jumps', () => {
    const state = seededGenerator(5).state();
    const three = jumpedStreams(state, 3);
    expect(three.streams[0]).toEqual(state);
    expect(new Set(three.streams.map((s) => s.join())).size).toBe(3);
    expect(jumpedStreams(jumpedStreams(state, 1).next, 2).next).toEqual(three.next);
    expect(jumpedStreams(state, 2).streams).toEqual(three.streams.slice(0, 2));
  });
});

describe('shardedHeadTrainer sampleRate: the sampling is uniform over the classes that are not positives', () => {
  it('120 steps, 2 shards: positives always; each other class about count/n of the steps in either shard', async () => {
    const checkpoint = await checkpointOf({ type: 'cosface', m: 0.35 });
    const y = Int32Array.from([0, 1, 2, -1]); // shard 0 ([0, 15)) has 3 positives, shard 1 ([15, 29)) none
    const steps = 120;
    const counts = new Array<number>(C).fill(0);
    await withTrainer({ checkpoint, shards: 2, learningRate: 0, sampleRate: RATE }, async (trainer) => {
      for (let s = 0; s < steps; s++) for (const c of (await trainer.step(embeddings(s, 4), y)).sampled!) counts[c]!++;
    });
    // Shard 0: 6 of 15, 3 of them the positives: 3 of the other 12. Shard 1: 5 of 14.
    const expectNear = (classes: number[], p: number) => {
      const sd = Math.sqrt(steps * p * (1 - p));
      for (const c of classes) expect(Math.abs(counts[c]! - steps * p), `class ${c}: ${counts[c]} of ${steps}, expected ≈ ${steps * p}`).toBeLessThan(5 * sd);
    };
    expect(counts.slice(0, 3)).toEqual([steps, steps, steps]);
    expectNear(
      Array.from({ length: 12 }, (_, i) => 3 + i),
      3 / 12,
    );
    expectNear(
      Array.from({ length: 14 }, (_, i) => 15 + i),
      5 / 14,
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(steps * 11);
  });
});

describe('shardedHeadTrainer sampleRate: bad input gets a typed error naming the argument, before any worker starts', () => {
  it('sampleRate out of (0, 1], NaN, not a number', async () => {
    const checkpoint = await checkpointOf({ type: 'cosface' });
    const start = (sampleRate: unknown) => () => Reflect.apply(shardedHeadTrainer, undefined, [{ checkpoint, learningRate: 0.1, sampleRate }]);
    for (const bad of [0, -0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '0.5', null]) {
      await expectTypedRejection(start(bad), { error: InvalidArgumentError, argument: 'shardedHeadTrainer.sampleRate', message: /number|finite|\(0, 1\]/ });
    }
  });
  it('keepLogits other than true, false or auto', async () => {
    const checkpoint = await checkpointOf({ type: 'cosface' });
    for (const bad of ['yes', 1, null]) {
      await expectTypedRejection(() => Reflect.apply(shardedHeadTrainer, undefined, [{ checkpoint, learningRate: 0.1, keepLogits: bad }]), {
        error: InvalidArgumentError,
        argument: 'shardedHeadTrainer.keepLogits',
      });
    }
  });
  it('a margin with state (CurricularFace) or per-step inputs (ElasticFace) when sampling; accepted at sampleRate 1', async () => {
    for (const [margin, carries] of [
      [{ type: 'curricularface', m: 0.5 }, /state \(t\)/],
      [{ type: 'elasticface', variant: 'cos' }, /per-step inputs \(margins\)/],
    ] as const) {
      const checkpoint = await checkpointOf(margin);
      await expectTypedRejection(() => shardedHeadTrainer({ checkpoint, learningRate: 0.1, sampleRate: 0.5 }), {
        error: InvalidArgumentError,
        argument: 'shardedHeadTrainer.sampleRate',
        message: new RegExp(`${carries.source}.*sampleRate 1`),
      });
    }
  });
  it('a checkpoint whose generator state is not one, when sampling', async () => {
    const checkpoint = await checkpointOf({ type: 'cosface' });
    for (const random of [
      [0, 0, 0, 0],
      [1.5, 2, 3, 4],
    ]) {
      await expectTypedRejection(() => shardedHeadTrainer({ checkpoint: { ...checkpoint, random }, learningRate: 0.1, sampleRate: 0.5 }), {
        error: InvalidArgumentError,
        argument: 'shardedHeadTrainer.checkpoint.random',
      });
    }
  });
});
