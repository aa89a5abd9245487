import type { Backend } from '../backend.js';
import type { ConformanceTarget } from './conformance.js';
import { broadcastShapes } from '../input-checks.js';
import type { DType, TensorOps } from '../ops.js';

/**
 * A tensor of the float64 reference backend: a shape, a dtype and row-major float64 values.
 *
 * @example
 * ```ts
 * import { RefTensor } from '@marginkit/core/testing';
 * const t = new RefTensor([2, 2], 'float32', Float64Array.from([1, 2, 3, 4]));
 * console.log(t.toArray()); // [1, 2, 3, 4]
 * ```
 */
export class RefTensor {
  /** @param shape - dimensions. @param dtype - element type. @param data - row-major values. */
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly data: Float64Array,
  ) {}
  /** The values as a plain array. */
  toArray(): number[] {
    return Array.from(this.data);
  }
}

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

function broadcastMap(inputs: readonly RefTensor[], dtype: DType, f: (...v: number[]) => number): RefTensor {
  let shape: readonly number[] = [];
  for (const t of inputs) shape = broadcastShapes(shape, t.shape) ?? [];
  const out = new Float64Array(size(shape));
  const outStrides = stridesOf(shape);
  const index = inputs.map((t) => {
    const st = stridesOf(t.shape);
    const off = shape.length - t.shape.length;
    return (flat: number): number => {
      let k = 0;
      for (let d = 0; d < t.shape.length; d++) {
        const coord = Math.floor(flat / outStrides[d + off]!) % shape[d + off]!;
        k += (t.shape[d] === 1 ? 0 : coord) * st[d]!;
      }
      return k;
    };
  });
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < inputs.length; j++) args[j] = inputs[j]!.data[index[j]!(i)]!;
    out[i] = f(...args);
  }
  return new RefTensor(shape, dtype, out);
}

function reduce(x: RefTensor, axis: number, keepDims: boolean, f: (values: number[]) => number): RefTensor {
  const outer = size(x.shape.slice(0, axis));
  const n = x.shape[axis]!;
  const inner = size(x.shape.slice(axis + 1));
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const vals: number[] = [];
      for (let k = 0; k < n; k++) vals.push(x.data[(o * n + k) * inner + i]!);
      out[o * inner + i] = f(vals);
    }
  }
  const shape = keepDims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  return new RefTensor(shape, 'float32', out);
}

const unary =
  (f: (v: number) => number) =>
  ([x]: readonly [RefTensor]): RefTensor =>
    new RefTensor(x.shape, x.dtype, x.data.map(f));

const refOps: TensorOps<RefTensor> = {
  constant: (_, { values, shape, dtype }) => {
    const n = size(shape);
    const data = typeof values === 'number' ? new Float64Array(n).fill(values) : Float64Array.from(values);
    return new RefTensor([...shape], dtype, dtype === 'int32' ? data.map(Math.trunc) : data);
  },
  matmul: ([a, b], { transposeA, transposeB }) => {
    const [m, k] = transposeA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const n = transposeB ? b.shape[0]! : b.shape[1]!;
    const out = new Float64Array(m * n);
    const A = (i: number, j: number) => (transposeA ? a.data[j * a.shape[1]! + i]! : a.data[i * a.shape[1]! + j]!);
    const B = (i: number, j: number) => (transposeB ? b.data[j * b.shape[1]! + i]! : b.data[i * b.shape[1]! + j]!);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A(i, p) * B(p, j);
        out[i * n + j] = s;
      }
    return new RefTensor([m, n], 'float32', out);
  },
  add: ([a, b]) => broadcastMap([a, b], 'float32', (x, y) => x + y),
  sub: ([a, b]) => broadcastMap([a, b], 'float32', (x, y) => x - y),
  mul: ([a, b]) => broadcastMap([a, b], 'float32', (x, y) => x * y),
  div: ([a, b]) => broadcastMap([a, b], 'float32', (x, y) => x / y),
  maximum: ([a, b]) => broadcastMap([a, b], 'float32', (x, y) => Math.max(x, y)),
  minimum: ([a, b]) => broadcastMap([a, b], 'float32', (x, y) => Math.min(x, y)),
  greater: ([a, b]) => broadcastMap([a, b], 'bool', (x, y) => (x > y ? 1 : 0)),
  less: ([a, b]) => broadcastMap([a, b], 'bool', (x, y) => (x < y ? 1 : 0)),
  where: ([c, a, b]) => broadcastMap([c, a, b], 'float32', (k, x, y) => (k !== 0 ? x : y)),
  neg: unary((v) => -v),
  sqrt: unary(Math.sqrt),
  exp: unary(Math.exp),
  log: unary(Math.log),
  cos: unary(Math.cos),
  sin: unary(Math.sin),
  acos: unary(Math.acos),
  floor: unary(Math.floor),
  clip: ([x], { min, max }) =>
    new RefTensor(
      x.shape,
      x.dtype,
      x.data.map((v) => Math.min(max, Math.max(min, v))),
    ),
  sum: ([x], { axis, keepDims }) => reduce(x, axis, keepDims, (v) => v.reduce((p, q) => p + q, 0)),
  mean: ([x], { axis, keepDims }) => reduce(x, axis, keepDims, (v) => v.reduce((p, q) => p + q, 0) / v.length),
  max: ([x], { axis, keepDims }) => reduce(x, axis, keepDims, (v) => Math.max(...v)),
  logSumExp: ([x], { axis, keepDims }) =>
    reduce(x, axis, keepDims, (v) => {
      const m = Math.max(...v);
      return m + Math.log(v.reduce((p, q) => p + Math.exp(q - m), 0));
    }),
  reshape: ([x], { shape }) => {
    const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    return new RefTensor(
      shape.map((d) => (d === -1 ? size(x.shape) / known : d)),
      x.dtype,
      x.data,
    );
  },
  gatherPerRow: ([x, idx]) => {
    const c = x.shape[1]!;
    return new RefTensor(
      [x.shape[0]!],
      'float32',
      Float64Array.from(idx.data, (j, i) => x.data[i * c + j]!),
    );
  },
  oneHot: ([idx], { depth }) => {
    const out = new Float64Array(idx.data.length * depth);
    idx.data.forEach((j, i) => {
      if (j >= 0 && j < depth) out[i * depth + j] = 1;
    });
    return new RefTensor([idx.data.length, depth], 'float32', out);
  },
  stopGradient: ([x]) => x,
  cast: ([x], { dtype }) => new RefTensor(x.shape, dtype, dtype === 'int32' ? x.data.map(Math.trunc) : x.data),
};

/**
 * A float64 reference backend in plain TypeScript: eager, exact to float64, no gradients. It
 * passes the conformance suite (against PyTorch's float64 values) and runs core's own tests; a
 * handy way to run a margin without a tensor library.
 *
 * @returns a v1 backend over {@link RefTensor}.
 *
 * @example
 * ```ts
 * import { arcface, marginSoftmaxLoss } from '@marginkit/core';
 * import { RefTensor, referenceBackend } from '@marginkit/core/testing';
 * const ref = referenceBackend();
 * const t = (shape: number[], values: number[], dtype: 'float32' | 'int32' = 'float32') =>
 *   new RefTensor(shape, dtype, Float64Array.from(values));
 * const loss = marginSoftmaxLoss(ref, { margin: arcface(), scale: 8 });
 * const out = loss(t([2, 2], [1, 0, 0, 1]), t([2, 2], [1, 0, 0, 1]), t([2], [0, 1], 'int32'));
 * console.log(out.data[0]); // ≈ 0.000895 = log(1 + exp(−8·cos(θ + 0.5))), θ = acos(1 − ε)
 * ```
 */
export function referenceBackend(): Backend<RefTensor> {
  return {
    specificationVersion: 'v1',
    name: 'reference-f64',
    ops: refOps,
    supports: { gradients: false, eagerValues: true },
    isTensor: (value): value is RefTensor => value instanceof RefTensor,
    shape: (t) => t.shape,
    dtype: (t) => t.dtype,
    readSync: (t) => t.data,
  };
}

/**
 * The reference backend as a conformance target (values only, no gradients): what the kit's
 * own tests run, and a template for a backend's harness.
 *
 * @returns a target named `'reference-f64'`.
 *
 * @example
 * ```ts
 * import { referenceTarget } from '@marginkit/core/testing';
 * const harness = await referenceTarget().setup();
 * console.log(harness.backend.name); // 'reference-f64'
 * ```
 */
export function referenceTarget(): ConformanceTarget<RefTensor> {
  return {
    name: 'reference-f64',
    differentiable: false,
    setup: async () => ({
      backend: referenceBackend(),
      tensor: (values, shape, dtype) => new RefTensor(shape, dtype, Float64Array.from(values)),
      read: (t) => t.data,
    }),
  };
}
