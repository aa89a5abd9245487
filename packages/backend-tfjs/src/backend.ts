import { type Backend, type DType, DTypeError, InvalidArgumentError, ShapeError, type TensorOps, broadcastShapes } from '@marginkit/core';
import type * as tfc from '@tensorflow/tfjs-core';
import { flagFreeMatmul } from './matmul.js';

/**
 * The part of the tfjs API the backend uses. Pass the whole module: `@tensorflow/tfjs`,
 * `@tensorflow/tfjs-core` or `@tensorflow/tfjs-node` all fit.
 */
export type TfModule = Pick<
  typeof tfc,
  | 'Tensor'
  | 'tensor'
  | 'fill'
  | 'matMul'
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'maximum'
  | 'minimum'
  | 'greater'
  | 'less'
  | 'where'
  | 'neg'
  | 'sqrt'
  | 'exp'
  | 'log'
  | 'cos'
  | 'sin'
  | 'acos'
  | 'floor'
  | 'clipByValue'
  | 'sum'
  | 'mean'
  | 'max'
  | 'logSumExp'
  | 'reshape'
  | 'oneHot'
  | 'equal'
  | 'cast'
  | 'customGrad'
  | 'zerosLike'
  | 'transpose'
  | 'gatherND'
  | 'scatterND'
  | 'stack'
  | 'range'
  | 'scalar'
  | 'getBackend'
  | 'engine'
  | 'broadcastTo'
  | 'variable'
  | 'valueAndGrads'
  | 'tidy'
>;

const DTYPES: readonly string[] = ['float32', 'int32', 'bool'];

/**
 * The marginkit backend for TensorFlow.js. It works with whatever tfjs backend is active
 * (cpu, wasm, webgl, webgpu, tfjs-node), and avoids kernels some lack: `gatherPerRow` is a
 * gatherND with a scatterND gradient, because tfjs-backend-wasm has no gradient for gather. On
 * the wasm and cpu backends every matmul, forward and backward, runs without transpose flags
 * (tfjs-backend-wasm leaves XNNPACK for a scalar loop when one is set).
 * Gradients come from tfjs itself (`tf.grads`, `tf.variableGrads`, `optimizer.minimize`). To train
 * with `@tensorflow/tfjs-core` alone (not the union `@tensorflow/tfjs`), also import
 * `@tensorflow/tfjs-core/dist/register_all_gradients`, or tfjs reports
 * "gradient function not found".
 *
 * @param tf - the tfjs module (`import * as tf from '@tensorflow/tfjs'`).
 * @returns a v1 marginkit backend over `tf.Tensor`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { cosface, marginSoftmaxLoss } from '@marginkit/core';
 * const backend = tfjsBackend(tf);
 * const loss = marginSoftmaxLoss(backend, { margin: cosface({ m: 0.35 }), scale: 30 });
 * const value = tf.tidy(() =>
 *   loss(tf.tensor2d([[1, 2], [3, -1]]), tf.tensor2d([[1, 0], [0, 1], [1, 1]]), tf.tensor1d([2, 0], 'int32')),
 * );
 * console.log(value.dataSync()[0]! > 0); // true
 * ```
 */
export function tfjsBackend(tf: TfModule): Backend<tfc.Tensor, tfc.Scalar> {
  if (typeof tf !== 'object' || tf === null || typeof tf.matMul !== 'function' || typeof tf.Tensor !== 'function') {
    const got = tf === null ? 'null' : typeof tf;
    throw new InvalidArgumentError(
      'tf',
      `expected the tfjs module (import * as tf from '@tensorflow/tfjs'); got ${got}${typeof tf === 'object' && tf !== null ? ' without matMul/Tensor' : ''}`,
    );
  }
  const tensorArg = (args: unknown[], i: number, op: string): tfc.Tensor => {
    const x = args[i];
    if (!(x instanceof tf.Tensor)) throw new InvalidArgumentError(`${op}.${i}`, 'expected a tensor');
    return x;
  };
  // A zero-gradient identity on the tape: tf.grads still runs the backward of whatever produced
  // `x` (with zeros), so it is used only where nothing on the tape produced `x` (a leaf).
  const connected = tf.customGrad((...args) => ({
    value: tf.add(tensorArg(args, 0, 'stopGradient'), 0),
    gradFunc: (dy: tfc.Tensor) => tf.zerosLike(dy),
  }));
  // Where an op on the tape produced `x` (the max of a [C, D] normalisation, say), a custom op
  // whose only input is a fresh scalar: tf.grads prunes it together with x's producers, whose
  // backward would otherwise run over [C, D] or [B, C] only to propagate zeros.
  const detached = (x: tfc.Tensor): tfc.Tensor =>
    tf.customGrad((...args) => ({ value: tf.add(x, 0), gradFunc: () => tf.zerosLike(tensorArg(args, 0, 'stopGradient')) }))(tf.scalar(0));
  const producedOnTape = (x: tfc.Tensor): boolean => tf.engine().state.activeTape?.some((node) => node.outputs.some((t) => t.id === x.id)) ?? false;
  const stopGradient = (x: tfc.Tensor): tfc.Tensor => (producedOnTape(x) ? detached(x) : connected(x));
  // tfjs registers no gradient for Greater/Less, so a `where` whose condition depends on a
  // differentiated input fails in tf.grads. Comparisons have zero gradient: say so explicitly.
  const comparison = (compare: (a: tfc.Tensor, b: tfc.Tensor) => tfc.Tensor) =>
    tf.customGrad((...args) => {
      const a = tensorArg(args, 0, 'comparison');
      const b = tensorArg(args, 1, 'comparison');
      return { value: compare(a, b), gradFunc: () => [tf.zerosLike(a), tf.zerosLike(b)] };
    });
  const greater = comparison((a, b) => tf.greater(a, b));
  const less = comparison((a, b) => tf.less(a, b));

  const broadcastBoth = (a: tfc.Tensor, b: tfc.Tensor): [tfc.Tensor, tfc.Tensor] => {
    const shape = broadcastShapes(a.shape, b.shape) ?? a.shape;
    const same = (s: readonly number[]) => s.length === shape.length && s.every((d, i) => d === shape[i]);
    return [same(a.shape) ? a : tf.broadcastTo(a, shape), same(b.shape) ? b : tf.broadcastTo(b, shape)];
  };

  // tf.oneHot needs depth ≥ 2; one class is the indices equal to 0.
  const oneHot = (indices: tfc.Tensor, depth: number): tfc.Tensor =>
    depth === 1 ? tf.reshape(tf.cast(tf.equal(indices, tf.fill([], 0, 'int32')), 'float32'), [-1, 1]) : tf.cast(tf.oneHot(indices, depth), 'float32');
  // x[i, indices[i]] by gatherND (no [B, C] one-hot); its gradient scatters dy into a zero [B, C]
  // (scatterND: every tfjs backend has it; wasm has no gradient for gather).
  const gatherPerRow = (x: tfc.Tensor, indices: tfc.Tensor): tfc.Tensor =>
    tf.customGrad((...args) => {
      const v = tensorArg(args, 0, 'gatherPerRow');
      const at = tf.stack([tf.range(0, v.shape[0]!, 1, 'int32'), tf.cast(indices, 'int32')], 1);
      const save = args[1];
      // The gradient's positions must be saved: the forward's intermediates are freed.
      if (typeof save === 'function') save([at]);
      return { value: tf.gatherND(v, at), gradFunc: (dy: tfc.Tensor, saved: tfc.Tensor[]) => tf.scatterND(saved[0]!, dy, v.shape) };
    })(x);
  const matmul = flagFreeMatmul(tf);
  const ops: TensorOps<tfc.Tensor> = {
    constant: (_, { values, shape, dtype }) =>
      typeof values === 'number'
        ? tf.fill([...shape], values, dtype)
        : tf.tensor(dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values), [...shape], dtype),
    matmul: ([a, b], { transposeA, transposeB }) => matmul(a, b, transposeA, transposeB),
    add: ([a, b]) => tf.add(a, b),
    sub: ([a, b]) => tf.sub(a, b),
    mul: ([a, b]) => tf.mul(a, b),
    div: ([a, b]) => tf.div(a, b),
    // tfjs 4.22's Maximum/Minimum gradients do not reduce over broadcast dimensions (found by
    // the conformance suite), so broadcast explicitly: broadcastTo's gradient does reduce.
    maximum: ([a, b]) => tf.maximum(...broadcastBoth(a, b)),
    minimum: ([a, b]) => tf.minimum(...broadcastBoth(a, b)),
    greater: ([a, b]) => greater(a, b),
    less: ([a, b]) => less(a, b),
    where: ([c, a, b]) => tf.where(c, a, b),
    neg: ([x]) => tf.neg(x),
    sqrt: ([x]) => tf.sqrt(x),
    exp: ([x]) => tf.exp(x),
    log: ([x]) => tf.log(x),
    cos: ([x]) => tf.cos(x),
    sin: ([x]) => tf.sin(x),
    acos: ([x]) => tf.acos(x),
    floor: ([x]) => tf.floor(x),
    clip: ([x], { min, max }) => tf.clipByValue(x, min, max),
    sum: ([x], { axis, keepDims }) => tf.sum(x, axis, keepDims),
    mean: ([x], { axis, keepDims }) => tf.mean(x, axis, keepDims),
    max: ([x], { axis, keepDims }) => tf.max(x, axis, keepDims),
    logSumExp: ([x], { axis, keepDims }) => tf.logSumExp(x, axis, keepDims),
    reshape: ([x], { shape }) => tf.reshape(x, [...shape]),
    gatherPerRow: ([x, indices]) => gatherPerRow(x, indices),
    oneHot: ([indices], { depth }) => oneHot(indices, depth),
    stopGradient: ([x]) => stopGradient(x),
    cast: ([x], { dtype }) => tf.cast(x, dtype),
  };

  return {
    specificationVersion: 'v1',
    name: 'tfjs',
    ops,
    supports: { gradients: true, eagerValues: true },
    isTensor: (value): value is tfc.Tensor => value instanceof tf.Tensor,
    isDisposed: (t) => t.isDisposed,
    shape: (t) => t.shape,
    // Core re-throws this naming the argument: 'embeddings: expected float32, got string, …'.
    dtype: (t): DType => {
      if (!DTYPES.includes(t.dtype)) throw new DTypeError('tensor', `got ${t.dtype}, a tfjs dtype marginkit does not take (float32, int32, bool)`);
      return t.dtype as DType;
    },
    readSync: (t) => t.dataSync(),
    read: (t) => t.data(),
    variable: (values, shape) => {
      const init = tf.tensor(values, [...shape], 'float32');
      const v = tf.variable(init);
      init.dispose();
      return v;
    },
    disposeTensor: (t) => t.dispose(),
    valueAndGradients: async (f, xs) => {
      const { value, grads } = tf.valueAndGrads((...args: tfc.Tensor[]) => f(...args))([...xs]);
      try {
        const [v, ...g] = await Promise.all([value.data(), ...grads.map((t) => t.data())]);
        return { value: v![0]!, gradients: g.map((d) => Float32Array.from(d)) };
      } finally {
        for (const t of [value, ...grads]) t.dispose();
      }
    },
    compute: async (f, xs) => {
      // Clones (sharing the data) are what is read and disposed: an output may be a tensor from
      // outside, an input or a margin's state handed back as it is, which must live on. Such an
      // output (alive after the tidy) is copied, since tfjs-cpu's data() is the tensor's own storage.
      let outs: tfc.Tensor[] = [];
      const ys = tf.tidy(() => {
        const out = f(...xs);
        if (!Array.isArray(out)) throw new InvalidArgumentError('f', 'must return an array of tensors');
        outs = out as tfc.Tensor[];
        return outs.map((t) => t.clone());
      });
      try {
        const data = await Promise.all(ys.map((y: tfc.Tensor) => y.data()));
        return data.map((d, i) => (d instanceof Float32Array && outs[i]!.isDisposed ? d : Float32Array.from(d as ArrayLike<number>)));
      } finally {
        for (const y of ys) y.dispose();
      }
    },
    asScalar: (t) => {
      if (t.rank !== 0) throw new ShapeError('tensor', `expected a scalar (rank 0), got shape [${t.shape.join(', ')}]`);
      return t as tfc.Scalar;
    },
  };
}
