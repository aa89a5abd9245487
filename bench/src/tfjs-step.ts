/**
 * The ArcFace step and its floor on a TensorFlow.js backend (whichever `tf` has set): the loss,
 * and for forward + backward both gradients, reduced on the backend to a scalar that is read back.
 */
import { tfjsBackend } from '@marginkit/backend-tfjs';
import { arcface, marginSoftmaxLoss } from '@marginkit/core';
import type * as tfjs from '@tensorflow/tfjs';
import { tfjsFloor } from './floor.js';
import { PASSES, type Pass, type StepInputs } from './inputs.js';
import { ARCFACE, type StepCase } from './step-case.js';

/** A {@link StepCase} on `tf`'s current backend. */
export function tfjsStepCase(tf: typeof tfjs, inputs: StepInputs): StepCase {
  const { B, D, C } = inputs;
  const loss = marginSoftmaxLoss(tfjsBackend(tf), { margin: arcface({ m: ARCFACE.m }), scale: ARCFACE.scale, validate: 'shapes' });
  const x = tf.tensor2d(inputs.x, [B, D]);
  const w = tf.tensor2d(inputs.w, [C, D]);
  const y = tf.tensor1d(inputs.y, 'int32');
  const read = async (t: tfjs.Tensor): Promise<number> => {
    const v = await t.data();
    t.dispose();
    return v[0]!;
  };
  return {
    passes: PASSES,
    step: (pass: Pass) =>
      read(
        tf.tidy(() => {
          if (pass === 'fwd') return loss(x, w, y) as tfjs.Tensor;
          const { value, grads } = tf.valueAndGrads((a: tfjs.Tensor, b: tfjs.Tensor) => loss(a, b, y) as tfjs.Tensor)([x, w]);
          // The gradients are reduced on the backend (a sum each) so that they are computed, not downloaded.
          return tf.stack([value, tf.sum(grads[0]!), tf.sum(grads[1]!)]);
        }),
      ),
    floor: (pass: Pass) => read(tf.tidy(() => tfjsFloor(tf, x, w, pass))),
    async dispose() {
      tf.dispose([x, w, y]);
    },
  };
}
