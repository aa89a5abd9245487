/**
 * Test fixtures shared by the chunked-loss and class-shard tests (core's, and losses' on tfjs and
 * ONNX Runtime): seeded reference matrices, row slices, and a class-local margin.
 */
import { defineMargin } from '../src/index.js';
import { RefTensor, seededRandom } from '../src/testing/index.js';

/** A [rows, cols] float32 reference tensor of seeded normals times `spread`. */
export const matrix = (rows: number, cols: number, seed: number, spread = 1): RefTensor => {
  const r = seededRandom(seed);
  return new RefTensor(
    [rows, cols],
    'float32',
    Float64Array.from({ length: rows * cols }, () => spread * r.normal()),
  );
};

/** Rows [from, to) of a [R, D] matrix. */
export const rowsOf = (w: RefTensor, from: number, to: number): RefTensor =>
  new RefTensor([to - from, w.shape[1]!], 'float32', w.data.slice(from * w.shape[1]!, to * w.shape[1]!));

/** A class-local whole-row margin whose non-target logits depend on c_y (differentiably) and a row scale from ‖x‖. */
export const tilted = defineMargin({
  type: 'tilted',
  params: { a: 0.3 },
  classLocal: true,
  transform: ({ ops, cosines, cosTarget, norms }, { a }) => ({
    target: ops.sub(cosTarget, ops.scalar(0.2)),
    logits: ops.mul(cosines, ops.add(ops.scalar(1), ops.mul(ops.reshape(cosTarget, [-1, 1]), ops.scalar(a)))),
    scale: ops.add(ops.scalar(4), ops.mul(ops.clip(norms, 0, 10), ops.scalar(0.5))),
  }),
});
