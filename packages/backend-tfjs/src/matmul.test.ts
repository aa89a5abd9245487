import { describe, expect, it } from 'vitest';
import { TF_VARIANTS, useTfBackend } from '../test/tf-variants.js';
import { tfjsBackend } from './backend.js';

// The values and gradients of matmul (all four transposes) are checked by the conformance suite;
// these check how they are computed and what stopGradient's backward runs.
describe.each(TF_VARIANTS)('tfjs %s', (variant) => {
  it('runs every BatchMatMul of a flagged matmul and its gradients with matching inner dimensions (no transpose flag)', async () => {
    const tf = await useTfBackend(variant);
    const { ops } = tfjsBackend(tf);
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1);
    const w = tf.randomNormal([7, 3], 0, 1, 'float32', 2);
    const g = tf.randomNormal([5, 7], 0, 1, 'float32', 3);
    const seen: (readonly number[][])[] = [];
    for (const [tA, tB, a, b] of [
      [false, true, x, w],
      [true, false, g, x],
      [true, true, g, x.transpose()],
    ] as const) {
      const info = await tf.profile(() => tf.tidy(() => tf.grads((p, q) => tf.sum(ops.matmul([p!, q!], { transposeA: tA, transposeB: tB })))([a, b])));
      const mm = info.kernels.filter((k) => k.name === 'BatchMatMul');
      expect(mm.length).toBe(3);
      seen.push(...mm.map((k) => k.inputShapes));
    }
    for (const [sa, sb] of seen) expect(sa![1]).toBe(sb![0]);
    tf.dispose([x, w, g]);
  });

  it("stopGradient of a computed tensor is a constant: the gradient skips it and its producer's backward does not run", async () => {
    const tf = await useTfBackend(variant);
    const { ops } = tfjsBackend(tf);
    const x = tf.tensor2d([
      [1, -2, 3],
      [4, 5, -6],
    ]);
    // f = Σ x · sg(max_row(x)): df/dx = sg(max_row(x)) broadcast, the max contributing nothing.
    const f = (v: typeof x) => tf.sum(tf.mul(v, ops.stopGradient([tf.max(v, 1, true)], {})));
    const info = await tf.profile(() => {
      const [d] = tf.grads((v) => f(v as typeof x))([x]);
      expect(Array.from(d!.dataSync())).toEqual([3, 3, 3, 5, 5, 5]);
      d!.dispose();
    });
    // Max's gradient masks with Equal; it must not run for the stopped branch.
    expect(info.kernels.map((k) => k.name)).not.toContain('Equal');
    x.dispose();
  });
});
