import { headTrainer, ortBackend, sgd } from '@marginkit/backend-ort';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import { compareNormwise, seededRandom } from '@marginkit/core/testing';
import * as tf from '@tensorflow/tfjs';
import * as ortNode from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MarginHead } from './head.js';
import { AdaFaceLoss, CurricularFaceLoss, ElasticFaceLoss, SubCenterArcFaceLoss } from './heads.js';
import type { LossOptions } from './heads.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Make = <T, S extends T>(backend: import('@marginkit/core').Backend<T, S>, options: LossOptions<never>) => MarginHead<T, S>;
const HEADS: [string, Make][] = [
  ['AdaFaceLoss', (b, o) => new AdaFaceLoss(b, o)],
  ['CurricularFaceLoss', (b, o) => new CurricularFaceLoss(b, o)],
  ['ElasticFaceLoss', (b, o) => new ElasticFaceLoss(b, o)],
  ['SubCenterArcFaceLoss', (b, o) => new SubCenterArcFaceLoss(b, o)],
];

// The same head trained on ONNX Runtime (headTrainer, state as graph inputs and outputs) and on
// tfjs (optimizer.minimize over head.loss, state kept by the head) follows the same losses, state
// and centres: the step and the state update are one definition, traced or eager.
describe.each(HEADS)('%s: headTrainer on ORT follows the tfjs head', (_, make) => {
  it('for 8 steps of SGD with momentum, labels −1 included', async () => {
    const classes = 7;
    const dim = 6;
    const rng = seededRandom(11);
    const batch = 10;
    const x = Float32Array.from({ length: batch * dim }, () => rng.normal() * 3);
    const labels = Int32Array.from({ length: batch }, (_, i) => (i === 3 ? -1 : i % classes));
    const options = { numClasses: classes, embeddingSize: dim, scale: 16, seed: 5, init: { kind: 'normal', std: 1 } } as const;
    const ortB = ortBackend(ortNode);
    const onOrt = make(ortB, options);
    const onTf = make(tfjsBackend(tf), options);
    const trainer = await headTrainer(ortB, { ...(await onOrt.trainerOptions()), optimizer: sgd({ learningRate: 0.05, momentum: 0.9 }) });
    const optimizer = tf.train.momentum(0.05, 0.9);
    const xt = tf.tensor2d(x, [batch, dim]);
    for (let step = 0; step < 8; step++) {
      const ort = await trainer.step({ data: x, dims: [batch, dim] }, { data: labels, dims: [batch] });
      const value = optimizer.minimize(() => onTf.loss(xt, labels), true)!;
      const tfLoss = value.dataSync()[0]!;
      value.dispose();
      expect(compareNormwise([ort.loss], [tfLoss], 1e-4), `step ${step} loss`).toBeUndefined();
    }
    for (const [k, v] of Object.entries(onTf.state)) expect(compareNormwise(trainer.state()[k]!, v, 1e-4), `state ${k}`).toBeUndefined();
    expect(compareNormwise(trainer.centers(), await onTf.centers.data(), 1e-4), 'centres').toBeUndefined();
    // The exported inference model gives the head's cosines [B, C] (with sub-centres: the max over K).
    const session = await ortNode.InferenceSession.create(trainer.logitsModel());
    const out = await session.run({ embeddings: new ortNode.Tensor('float32', x, [batch, dim]) });
    expect(Array.from(out['cosines']!.dims)).toEqual([batch, classes]);
    onTf.centers = trainer.centers();
    expect(compareNormwise(out['cosines']!.data as Float32Array, onTf.logits(xt).dataSync(), 1e-5), 'logits model').toBeUndefined();
    await session.release();
    onOrt.centers = trainer.centers();
    onOrt.state = trainer.state();
    expect(Array.from((await onOrt.save()).centers)).toEqual(Array.from(trainer.centers()));
    await trainer.dispose();
    await ortB.dispose();
    xt.dispose();
  });
});
