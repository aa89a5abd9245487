import { type Backend, assertBackend } from './backend.js';
import { DTypeError, InvalidArgumentError } from './errors.js';
import { checkDType, describe } from './input-checks.js';
import { OP_SPECS, type OpInputSpec, type OpSpec, type TensorMeta } from './op-specs.js';
import type { ConstantValues, DType, OpAttrs, OpName, OpSignatures } from './ops.js';

/**
 * The op set as thin, validating functions over one backend: each checks its arguments (tensor
 * type, dtype, rank, broadcast compatibility, static attributes), throws a typed error naming
 * the op and the argument, and then calls the backend. Margins and losses are written with it.
 *
 * @typeParam T - the backend's tensor type.
 */
export interface Ops<T> {
  /** The backend these ops call. */
  readonly backend: Backend<T>;
  /** The static shape of `x` (−1 for a dimension a symbolic backend does not know). */
  shape(x: T): readonly number[];
  /** The dtype of `x`. */
  dtype(x: T): DType;
  /** A float32 scalar. */
  scalar(value: number): T;
  /** A constant tensor; a number fills the shape. */
  constant(values: ConstantValues, shape: readonly number[], dtype?: 'float32' | 'int32'): T;
  /** Matrix product of rank-2 tensors. */
  matmul(a: T, b: T, options?: { readonly transposeA?: boolean; readonly transposeB?: boolean }): T;
  /** a + b (broadcasting). */
  add(a: T, b: T): T;
  /** a − b (broadcasting). */
  sub(a: T, b: T): T;
  /** a · b (broadcasting). */
  mul(a: T, b: T): T;
  /** a / b (broadcasting). */
  div(a: T, b: T): T;
  /** Elementwise maximum (broadcasting). */
  maximum(a: T, b: T): T;
  /** Elementwise minimum (broadcasting). */
  minimum(a: T, b: T): T;
  /** a > b as bool (broadcasting). */
  greater(a: T, b: T): T;
  /** a < b as bool (broadcasting). */
  less(a: T, b: T): T;
  /** `a` where `condition`, else `b`; the three shapes must be equal. */
  where(condition: T, a: T, b: T): T;
  /** −x. */
  neg(x: T): T;
  /** √x. */
  sqrt(x: T): T;
  /** eˣ. */
  exp(x: T): T;
  /** ln x. */
  log(x: T): T;
  /** cos x, radians. */
  cos(x: T): T;
  /** sin x, radians. */
  sin(x: T): T;
  /** arccos x. */
  acos(x: T): T;
  /** ⌊x⌋ (zero gradient). */
  floor(x: T): T;
  /** Clamp to [min, max]. */
  clip(x: T, min: number, max: number): T;
  /** Sum along `axis` (negative counts from the end). */
  sum(x: T, axis: number, keepDims?: boolean): T;
  /** Mean along `axis`. */
  mean(x: T, axis: number, keepDims?: boolean): T;
  /** Maximum along `axis`. */
  max(x: T, axis: number, keepDims?: boolean): T;
  /** log Σ exp along `axis`, stable. */
  logSumExp(x: T, axis: number, keepDims?: boolean): T;
  /** Reshape; one entry may be −1. */
  reshape(x: T, shape: readonly number[]): T;
  /** x[i, indices[i]] for x [B, C], int32 indices [B]. */
  gatherPerRow(x: T, indices: T): T;
  /** float32 one-hot [B, depth] of int32 indices [B]. */
  oneHot(indices: T, depth: number): T;
  /** Identity with zero gradient. */
  stopGradient(x: T): T;
  /** dtype conversion. */
  cast(x: T, dtype: 'float32' | 'int32'): T;
}

/** The op table, each entry seen with a generic input list: `SPECS[op]` for a generic `op` is then typed. */
const SPECS: { readonly [K in OpName]: OpSpec<readonly OpInputSpec[], OpAttrs[K]> } = OP_SPECS;

/**
 * Wraps a backend's op map in validating functions.
 *
 * @param backend - a marginkit backend.
 * @returns the validated op set.
 *
 * @example
 * ```ts
 * import { createOps } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * const ops = createOps(tfjsBackend(tf));
 * const x = ops.constant([0.5, -0.5], [2]);
 * console.log(ops.shape(ops.acos(x))); // [2]
 * try {
 *   ops.matmul(x, x);
 * } catch (e) {
 *   console.log((e as Error).message); // matmul.a: expected rank 2, got shape [2]
 * }
 * ```
 */
export function createOps<T>(backend: Backend<T>): Ops<T> {
  assertBackend<T>(backend);
  const b = backend;
  /** Checks one input against its spec (a live tensor of its dtype) and returns its meta. */
  const meta = (op: string, [name, dtype]: OpInputSpec, x: T): TensorMeta => {
    const argument = `${op}.${name}`;
    checkTensor(b, argument, x);
    const actual = dtypeOfTensor(b, argument, x, dtype === 'any' ? undefined : dtype);
    if (dtype !== 'any') checkDType(argument, actual, dtype);
    return { shape: b.shape(x), dtype: actual };
  };
  /** Validates an op's inputs and attributes with its entry of the op table, then calls the backend. */
  const run = <K extends OpName>(op: K, inputs: OpSignatures<T>[K]['inputs'], attrs: OpAttrs[K]): T => {
    const spec = SPECS[op];
    const metas = spec.inputs.map((input, i) => meta(op, input, inputs[i]!));
    return b.ops[op](inputs, spec.check(op, metas, attrs));
  };
  const binary = (op: 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'greater' | 'less') => (x: T, y: T) => run(op, [x, y], {});
  const unary = (op: 'neg' | 'sqrt' | 'exp' | 'log' | 'cos' | 'sin' | 'acos' | 'floor' | 'stopGradient') => (x: T) => run(op, [x], {});
  const reduce =
    (op: 'sum' | 'mean' | 'max' | 'logSumExp') =>
    (x: T, axis: number, keepDims = false) =>
      run(op, [x], { axis, keepDims });
  // One adapter per op, from the positional arguments of Ops<T> to (inputs, attrs): typed as
  // complete, so an op added to OP_SPECS without a method here is a compile error.
  const methods: { readonly [K in OpName]: Ops<T>[K] } = {
    constant: (values, shape, dtype = 'float32') => run('constant', [], { values, shape, dtype }),
    matmul: (x, y, options = {}) => run('matmul', [x, y], { transposeA: options.transposeA ?? false, transposeB: options.transposeB ?? false }),
    add: binary('add'),
    sub: binary('sub'),
    mul: binary('mul'),
    div: binary('div'),
    maximum: binary('maximum'),
    minimum: binary('minimum'),
    greater: binary('greater'),
    less: binary('less'),
    where: (condition, x, y) => run('where', [condition, x, y], {}),
    neg: unary('neg'),
    sqrt: unary('sqrt'),
    exp: unary('exp'),
    log: unary('log'),
    cos: unary('cos'),
    sin: unary('sin'),
    acos: unary('acos'),
    floor: unary('floor'),
    clip: (x, min, max) => run('clip', [x], { min, max }),
    sum: reduce('sum'),
    mean: reduce('mean'),
    max: reduce('max'),
    logSumExp: reduce('logSumExp'),
    reshape: (x, shape) => run('reshape', [x], { shape }),
    gatherPerRow: (x, indices) => run('gatherPerRow', [x, indices], {}),
    oneHot: (indices, depth) => run('oneHot', [indices], { depth }),
    stopGradient: unary('stopGradient'),
    cast: (x, dtype) => run('cast', [x], { dtype }),
  };
  return {
    ...methods,
    backend: b,
    shape: (x) => {
      checkTensor(b, 'shape.x', x);
      return b.shape(x);
    },
    dtype: (x) => {
      checkTensor(b, 'dtype.x', x);
      return dtypeOfTensor(b, 'dtype.x', x);
    },
    scalar: (value) => {
      if (typeof value !== 'number') throw new InvalidArgumentError('scalar.value', `expected a number, got ${describe(value)}`);
      return run('constant', [], { values: value, shape: [], dtype: 'float32' });
    },
  };
}

/**
 * Checks that `x` is a live tensor of `backend`: a tensor of it, and not released (when the
 * backend reports disposal); throws an {@link InvalidArgumentError} naming `argument` otherwise.
 * @internal
 */
export function checkTensor<T>(backend: Backend<T>, argument: string, x: unknown, what = ''): asserts x is T {
  if (!backend.isTensor(x)) throw new InvalidArgumentError(argument, `expected a ${backend.name} tensor${what}, got ${describe(x)}`);
  if (backend.isDisposed?.(x) === true) {
    throw new InvalidArgumentError(argument, `is a disposed ${backend.name} tensor${what} (it was released, e.g. by dispose() or tidy(), before this call)`);
  }
}

/**
 * The dtype of a tensor, with the backend's error for a dtype marginkit does not take (tfjs
 * string, complex64) re-thrown naming `argument` instead of the backend's generic 'tensor'.
 * @internal
 */
export function dtypeOfTensor<T>(backend: Backend<T>, argument: string, x: T, expected?: string): DType {
  try {
    return backend.dtype(x);
  } catch (e) {
    if (DTypeError.isInstance(e)) {
      const detail = e.message.startsWith(`${e.argument}: `) ? e.message.slice(e.argument.length + 2) : e.message;
      throw new DTypeError(argument, expected === undefined ? detail : `expected ${expected}, ${detail}`);
    }
    throw e;
  }
}
