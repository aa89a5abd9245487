import { BackendError, InvalidArgumentError, LabelError, NonFiniteError, RegistryError, ShapeError, chunkedMarginSoftmaxStep } from '@marginkit/core';
import { compareNormwise, expectTypedRejection } from '@marginkit/core/testing';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ortBackend } from '../../backend-ort/src/backend.js';
import { type HeadCheckpoint, createLossRegistry, splitCheckpoint } from './index.js';
import { shardedHeadTrainer } from './node.js';
import { headCheckpoint, withTrainer } from '../test/shard-fixtures.js';

const C = 29;
const D = 8;
const B = 8;
const LR = 0.5;
const MU = 0.9;

const embeddings = (step: number) => Float32Array.from({ length: B * D }, (_, i) => Math.sin(step * 97 + i * 1.3) * 1.5);
const labels = (step: number) => Int32Array.from({ length: B }, (_, i) => (i === 3 ? -1 : (i * 7 + step * 5) % C));

const checkpointOf = (margin: Record<string, unknown>, subCenters = 1): Promise<HeadCheckpoint> =>
  headCheckpoint({ type: 'cosface', ...margin }, { classes: C, dim: D, subCenters });

/** The single-process reference: chunkedMarginSoftmaxStep over one chunk on onnxruntime-node, and SGD with momentum in JavaScript. */
function referenceTrainer(checkpoint: HeadCheckpoint) {
  const backend = ortBackend(ort);
  const c = checkpoint.config;
  const step = chunkedMarginSoftmaxStep(backend, {
    margin: createLossRegistry().margin(c.margin),
    scale: c.scale,
    subCenters: c.subCenters,
    classChunk: C,
    ignoreIndex: -1,
  });
  const centers = checkpoint.centers.slice();
  const velocity = new Float32Array(centers.length);
  let state: Record<string, Float32Array> = Object.fromEntries(Object.entries(checkpoint.state).map(([k, v]) => [k, Float32Array.from(v.data)]));
  return {
    centers,
    async step(x: Float32Array, y: Int32Array, inputs: Record<string, Float32Array> = {}) {
      const out = await step(backend.tensor(x, [B, D]), [backend.tensor(centers, [C * c.subCenters, D])], y, {
        state,
        inputs,
        onCentersGradient: (_, g) => {
          for (let i = 0; i < g.length; i++) {
            velocity[i] = MU * velocity[i]! + g[i]!;
            centers[i]! -= LR * velocity[i]!;
          }
        },
      });
      state = { ...out.state };
      return out;
    },
    dispose: () => backend.dispose(),
  };
}

/** Three steps sharded against the reference: loss, per-sample losses, embedding gradient, then the centres and state. */
async function expectSameTraining(
  margin: Record<string, unknown>,
  shards: number,
  {
    subCenters = 1,
    threadsPerShard,
    classChunk,
    keepLogits,
  }: { subCenters?: number; threadsPerShard?: number; classChunk?: number; keepLogits?: boolean } = {},
): Promise<void> {
  const checkpoint = await checkpointOf(margin, subCenters);
  expect(checkpoint.centers.length).toBe(C * subCenters * D);
  const reference = referenceTrainer(checkpoint);
  try {
    const extra = {
      ...(threadsPerShard === undefined ? {} : { threadsPerShard }),
      ...(classChunk === undefined ? {} : { classChunk }),
      ...(keepLogits === undefined ? {} : { keepLogits }),
    };
    await withTrainer({ checkpoint, shards, learningRate: LR, momentum: MU, ...extra }, async (trainer) => {
      expect(trainer.shards).toBe(shards);
      for (let s = 0; s < 3; s++) {
        const inputs = margin['type'] === 'elasticface' ? { margins: Float32Array.from({ length: B }, (_, i) => 0.3 + 0.02 * Math.sin(s + i)) } : {};
        const got = await trainer.step(embeddings(s), labels(s), { inputs });
        const want = await reference.step(embeddings(s), labels(s), inputs);
        expect(compareNormwise([got.loss], [want.loss], 1e-5), `step ${s} loss`).toBeUndefined();
        expect(compareNormwise(got.perSample, want.perSample, 1e-5), `step ${s} per-sample`).toBeUndefined();
        expect(compareNormwise(got.embeddingsGradient, want.embeddingsGradient!, 1e-5), `step ${s} embedding gradient`).toBeUndefined();
        for (const [k, v] of Object.entries(want.state)) expect(compareNormwise(trainer.state()[k]!, v, 1e-5), `step ${s} state ${k}`).toBeUndefined();
      }
      const saved = await trainer.save();
      expect(saved.checkpoint.classRange).toEqual([0, C]);
      expect(saved.checkpoint.config.subCenters).toBe(subCenters);
      expect(saved.checkpoint.centers.length).toBe(C * subCenters * D);
      expect(compareNormwise(saved.checkpoint.centers, reference.centers, 1e-5), 'centres after 3 steps').toBeUndefined();
    });
  } finally {
    await reference.dispose();
  }
}

describe('shardedHeadTrainer (worker threads, onnxruntime-node) equals one process: chunkedMarginSoftmaxStep + SGD-momentum', () => {
  // B = D = 8: the workers keep their cosines for pass 2 by default ('auto': B ≤ D).
  it.each([1, 2, 3])('CosFace over %i shards of 29 classes', (shards) => expectSameTraining({ type: 'cosface', m: 0.35 }, shards));
  it('CosFace over 2 shards with keepLogits false: the workers form the cosines again', () =>
    expectSameTraining({ type: 'cosface', m: 0.35 }, 2, { keepLogits: false }));
  it('CurricularFace (class-local, with state t) over 2 shards', () => expectSameTraining({ type: 'curricularface', m: 0.5 }, 2));
  it('ElasticFace (per-step random margins, given to step) over 2 shards', () => expectSameTraining({ type: 'elasticface', variant: 'cos' }, 2));
  it.each([2, 3])('sub-centre ArcFace (K = %i) over 2 shards of 29 classes (15 + 14)', (subCenters) =>
    expectSameTraining({ type: 'arcface', m: 0.5 }, 2, { subCenters }),
  );
  it('sub-centre ArcFace (K = 3) over 2 shards in chunks of 4 classes (ragged last chunks)', () =>
    expectSameTraining({ type: 'arcface', m: 0.5 }, 2, { subCenters: 3, classChunk: 4 }));
  it('sub-centre CurricularFace (K = 3, class-local, with state t) over 3 shards', () =>
    expectSameTraining({ type: 'curricularface', m: 0.5 }, 3, { subCenters: 3 }));
  it('threadsPerShard: 2 (CosFace, and sub-centre ArcFace K = 2) over 2 shards', async () => {
    await expectSameTraining({ type: 'cosface', m: 0.35 }, 2, { threadsPerShard: 2 });
    await expectSameTraining({ type: 'arcface', m: 0.5 }, 2, { subCenters: 2, threadsPerShard: 2 });
  });
});

describe('shardedHeadTrainer threadsPerShard: 2 takes the same steps as 1', () => {
  it.each([1, 3])('ArcFace with K = %i sub-centres over 2 shards: loss, embedding gradient, centres and velocity', async (subCenters) => {
    const checkpoint = await checkpointOf({ type: 'arcface', m: 0.5 }, subCenters);
    const run = (threadsPerShard: number) =>
      withTrainer({ checkpoint, shards: 2, learningRate: LR, momentum: MU, threadsPerShard }, async (trainer) => {
        const steps = [];
        for (let s = 0; s < 3; s++) steps.push(await trainer.step(embeddings(s), labels(s)));
        return { steps, saved: await trainer.save() };
      });
    const one = await run(1);
    const two = await run(2);
    for (let s = 0; s < 3; s++) {
      expect(compareNormwise([two.steps[s]!.loss], [one.steps[s]!.loss], 1e-6), `step ${s} loss`).toBeUndefined();
      expect(compareNormwise(two.steps[s]!.perSample, one.steps[s]!.perSample, 1e-6), `step ${s} per-sample`).toBeUndefined();
      expect(compareNormwise(two.steps[s]!.embeddingsGradient, one.steps[s]!.embeddingsGradient, 1e-5), `step ${s} embedding gradient`).toBeUndefined();
    }
    expect(compareNormwise(two.saved.checkpoint.centers, one.saved.checkpoint.centers, 1e-6), 'centres').toBeUndefined();
    expect(compareNormwise(two.saved.velocity.centers, one.saved.velocity.centers, 1e-5), 'velocity').toBeUndefined();
  });
});

/** Two steps with `from` shards, save, then the third step with `from` and, resumed, with `to` shards: the same step, centres and velocity. */
async function expectResume(margin: Record<string, unknown>, subCenters: number, from: number, to: number): Promise<void> {
  const checkpoint = await checkpointOf(margin, subCenters);
  const options = { learningRate: LR, momentum: MU };
  await withTrainer({ ...options, checkpoint, shards: from }, async (before) => {
    await before.step(embeddings(0), labels(0));
    await before.step(embeddings(1), labels(1));
    const saved = await before.save();
    expect(saved.checkpoint.config.subCenters).toBe(subCenters);
    expect(saved.velocity.centers.length).toBe(C * subCenters * D);
    expect(splitCheckpoint(saved.checkpoint, from).map((s) => s.classRange)).toEqual(before.ranges);
    const next = await before.step(embeddings(2), labels(2));
    const after = await before.save();
    await withTrainer({ ...options, ...saved, shards: to }, async (resumedTrainer) => {
      const resumed = await resumedTrainer.step(embeddings(2), labels(2));
      expect(compareNormwise([resumed.loss], [next.loss], 1e-6), 'loss').toBeUndefined();
      expect(compareNormwise(resumed.embeddingsGradient, next.embeddingsGradient, 1e-5), 'embedding gradient').toBeUndefined();
      const resumedAfter = await resumedTrainer.save();
      expect(compareNormwise(resumedAfter.checkpoint.centers, after.checkpoint.centers, 1e-6), 'centres').toBeUndefined();
      expect(compareNormwise(resumedAfter.velocity.centers, after.velocity.centers, 1e-5), 'velocity').toBeUndefined();
    });
  });
}

describe('shardedHeadTrainer checkpoints: the losses split/merge format', () => {
  it('a run saved with 3 shards resumes with 2 and takes the same next step', () => expectResume({ type: 'arcface', m: 0.5 }, 1, 3, 2));
  it('sub-centre ArcFace (K = 3): saved with 2 shards resumes with 3, and with 1', async () => {
    await expectResume({ type: 'arcface', m: 0.5 }, 3, 2, 3);
    await expectResume({ type: 'arcface', m: 0.5 }, 3, 2, 1);
  });
  it('sub-centre ArcFace (K = 2): saved with 3 shards resumes with 2', () => expectResume({ type: 'arcface', m: 0.5 }, 2, 3, 2));
});

describe('shardedHeadTrainer: bad input gets a typed error naming the argument', () => {
  it('options, before any worker starts', async () => {
    const checkpoint = await checkpointOf({ type: 'cosface' });
    const start = (extra: Record<string, unknown>) => () => Reflect.apply(shardedHeadTrainer, undefined, [{ checkpoint, learningRate: 0.1, ...extra }]);
    await expectTypedRejection(start({ shards: 0 }), { error: InvalidArgumentError, argument: 'shardedHeadTrainer.shards' });
    await expectTypedRejection(start({ shards: C + 1 }), { error: InvalidArgumentError, argument: 'shardedHeadTrainer.shards' });
    await expectTypedRejection(start({ learningRate: -1 }), { error: InvalidArgumentError, argument: 'shardedHeadTrainer.learningRate' });
    await expectTypedRejection(start({ momentum: 1 }), { error: InvalidArgumentError, argument: 'shardedHeadTrainer.momentum' });
    await expectTypedRejection(start({ threads: 2 }), { error: InvalidArgumentError, argument: 'shardedHeadTrainer.threads' });
    await expectTypedRejection(start({ checkpoint: splitCheckpoint(checkpoint, 2)[1] }), {
      error: InvalidArgumentError,
      argument: 'shardedHeadTrainer.checkpoint',
    });
    await expectTypedRejection(start({ velocity: splitCheckpoint(checkpoint, 2)[0] }), {
      error: InvalidArgumentError,
      argument: 'shardedHeadTrainer.velocity',
    });
    await expectTypedRejection(start({ checkpoint: { ...checkpoint, centers: new Float32Array(3) } }), {
      error: ShapeError,
      argument: 'shardedHeadTrainer.checkpoint.centers',
    });
    await expectTypedRejection(start({ checkpoint: { ...checkpoint, config: { ...checkpoint.config, margin: { type: 'nope' } } } }), { error: RegistryError });
  });
  it('an ONNX Runtime module a worker cannot import: a BackendError naming the shard, every worker terminated', async () => {
    const checkpoint = await checkpointOf({ type: 'cosface' });
    await expectTypedRejection(() => shardedHeadTrainer({ checkpoint, shards: 2, learningRate: 0.1, ort: 'no-such-onnxruntime' }), {
      error: BackendError,
      message: /shards\[\d\].*no-such-onnxruntime/,
    });
  });
  it('embeddings and labels, checked before the workers see them; terminated trainers', async () => {
    const checkpoint = await checkpointOf({ type: 'cosface' });
    const trainer = await shardedHeadTrainer({ checkpoint, shards: 2, learningRate: 0.1 });
    try {
      await expectTypedRejection(() => trainer.step(new Float32Array(B * D - 1), labels(0)), { error: InvalidArgumentError, argument: 'embeddings' });
      await expectTypedRejection(() => trainer.step(embeddings(0), [1, 2]), { error: ShapeError, argument: 'labels' });
      await expectTypedRejection(
        () =>
          trainer.step(
            embeddings(0),
            Int32Array.from(labels(0), (y) => (y === 7 ? C : y)),
          ),
        { error: LabelError, argument: 'labels' },
      );
      const x = embeddings(0);
      x[3] = Number.NaN;
      await expectTypedRejection(() => trainer.step(x, labels(0)), { error: NonFiniteError, argument: 'embeddings' });
      // Still usable after rejected calls.
      expect(Number.isFinite((await trainer.step(embeddings(0), labels(0))).loss)).toBe(true);
    } finally {
      await trainer.terminate();
    }
    await expectTypedRejection(() => trainer.step(embeddings(0), labels(0)), { error: BackendError, message: /terminated/ });
  });
});
