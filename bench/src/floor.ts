/**
 * The floor: the step's bare matmuls with the same shapes, z = x·Wᵀ [B,D]×[D,C], then for
 * forward + backward z·W [B,C]×[C,D] and zᵀ·x [C,B]×[B,D] (the gradient matmuls, with z standing
 * in for the logits' gradient; a training step has the same three), each output reduced to a scalar inside the runtime so that no
 * [B,C] or [C,D] result leaves it.
 */
import type { OrtBackend, OrtTensor } from '@marginkit/backend-ort';
import { tfjsBackend } from '@marginkit/backend-tfjs';
import { createOps } from '@marginkit/core';
import type * as tfjs from '@tensorflow/tfjs';
import type { Pass } from './inputs.js';

/**
 * The floor on tfjs: a scalar tensor (sum of the outputs); call inside `tf.tidy`. The matmuls go
 * through the tfjs backend's `matmul` (as the step's do), which forms each product without
 * transpose flags: on tfjs-backend-wasm a flagged `tf.matMul` leaves XNNPACK for a scalar loop,
 * 5-20x slower, which would make a floor slower than the step.
 */
export function tfjsFloor(tf: typeof tfjs, x: tfjs.Tensor, w: tfjs.Tensor, pass: Pass): tfjs.Tensor {
  const ops = createOps(tfjsBackend(tf));
  const z = ops.matmul(x, w, { transposeB: true });
  if (pass === 'fwd') return tf.sum(z);
  return tf.add(tf.sum(ops.matmul(z, w)), tf.sum(ops.matmul(z, x, { transposeA: true })));
}

/** The floor traced on backend-ort from placeholders `embeddings` [B,D] and `centers` [C,D]: a scalar to compile. */
export function ortFloor(backend: OrtBackend, x: OrtTensor, w: OrtTensor, pass: Pass): OrtTensor {
  const ops = createOps(backend);
  const total = (t: OrtTensor) => ops.sum(ops.sum(t, 1), 0);
  const z = ops.matmul(x, w, { transposeB: true });
  if (pass === 'fwd') return total(z);
  return ops.add(total(ops.matmul(z, w)), total(ops.matmul(z, x, { transposeA: true })));
}
