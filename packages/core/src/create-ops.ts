import { type Backend, assertBackend } from './backend.js';
import { DTypeError, InvalidArgumentError, ShapeError } from './errors.js';
import { checkDType, checkNumber, describe, formatShape as fmt } from './input-checks.js';
import type { ConstantValues, DType } from './ops.js';

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

/**
 * NumPy broadcasting of two static shapes; −1 (unknown) is compatible with anything.
 *
 * @param a - the first shape.
 * @param b - the second shape.
 * @returns the broadcast shape, or `undefined` when the shapes are incompatible.
 *
 * @example
 * ```ts
 * import { broadcastShapes } from '@marginkit/core';
 * console.log(broadcastShapes([3, 1], [4])); // [3, 4]
 * console.log(broadcastShapes([3], [4])); // undefined
 * ```
 */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else if (da < 0 || db < 0) out.push(Math.max(da, db));
    else return undefined;
  }
  return out;
}

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

  const tensor = (op: string, arg: string, x: T): readonly number[] => {
    checkTensor(b, `${op}.${arg}`, x);
    return b.shape(x);
  };
  const dtypeOf = (op: string, arg: string, x: T, expected?: string): DType => dtypeOfTensor(b, `${op}.${arg}`, x, expected);
  const floatTensor = (op: string, arg: string, x: T): readonly number[] => {
    const shape = tensor(op, arg, x);
    checkDType(`${op}.${arg}`, dtypeOf(op, arg, x, 'float32'), 'float32');
    return shape;
  };
  const binary =
    (name: 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'greater' | 'less') =>
    (x: T, y: T): T => {
      const sa = floatTensor(name, 'a', x);
      const sb = floatTensor(name, 'b', y);
      if (!broadcastShapes(sa, sb)) {
        throw new ShapeError(`${name}.b`, `shape ${fmt(sb)} does not broadcast with a's shape ${fmt(sa)}`);
      }
      return b.ops[name]([x, y], {});
    };
  const unary =
    (name: 'neg' | 'sqrt' | 'exp' | 'log' | 'cos' | 'sin' | 'acos' | 'floor' | 'stopGradient') =>
    (x: T): T => {
      floatTensor(name, 'x', x);
      return b.ops[name]([x], {});
    };
  const normAxis = (op: string, shape: readonly number[], axis: number): number => {
    if (!Number.isInteger(axis) || axis < -shape.length || axis >= shape.length) {
      throw new InvalidArgumentError(`${op}.axis`, `must be an integer in [${-shape.length}, ${shape.length}) for shape ${fmt(shape)}, got ${axis}`);
    }
    return axis < 0 ? axis + shape.length : axis;
  };
  const reduce =
    (name: 'sum' | 'mean' | 'max' | 'logSumExp') =>
    (x: T, axis: number, keepDims = false): T => {
      const shape = floatTensor(name, 'x', x);
      return b.ops[name]([x], { axis: normAxis(name, shape, axis), keepDims });
    };

  return {
    backend: b,
    shape: (x) => tensor('shape', 'x', x),
    dtype: (x) => {
      tensor('dtype', 'x', x);
      return dtypeOf('dtype', 'x', x);
    },
    scalar: (value) => {
      if (typeof value !== 'number') throw new InvalidArgumentError('scalar.value', `expected a number, got ${describe(value)}`);
      return b.ops.constant([], { values: value, shape: [], dtype: 'float32' });
    },
    constant: (values, shape, dtype = 'float32') => {
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new ShapeError('constant.shape', `expected non-negative integer dimensions, got ${JSON.stringify(shape)}`);
      }
      const size = shape.reduce((p, d) => p * d, 1);
      if (typeof values !== 'number' && values.length !== size) {
        throw new ShapeError('constant.values', `has ${values.length} values but shape ${fmt(shape)} needs ${size}`);
      }
      if (dtype !== 'float32' && dtype !== 'int32') throw new DTypeError('constant.dtype', `expected 'float32' or 'int32', got ${String(dtype)}`);
      return b.ops.constant([], { values, shape, dtype });
    },
    matmul: (x, y, options = {}) => {
      const sa = floatTensor('matmul', 'a', x);
      const sb = floatTensor('matmul', 'b', y);
      if (sa.length !== 2) throw new ShapeError('matmul.a', `expected rank 2, got shape ${fmt(sa)}`);
      if (sb.length !== 2) throw new ShapeError('matmul.b', `expected rank 2, got shape ${fmt(sb)}`);
      const transposeA = options.transposeA ?? false;
      const transposeB = options.transposeB ?? false;
      const ka = transposeA ? sa[0]! : sa[1]!;
      const kb = transposeB ? sb[1]! : sb[0]!;
      if (ka >= 0 && kb >= 0 && ka !== kb) {
        throw new ShapeError(
          'matmul.b',
          `inner dimensions differ: a ${fmt(sa)}${transposeA ? 'ᵀ' : ''} · b ${fmt(sb)}${transposeB ? 'ᵀ' : ''} (${ka} ≠ ${kb})`,
        );
      }
      return b.ops.matmul([x, y], { transposeA, transposeB });
    },
    add: binary('add'),
    sub: binary('sub'),
    mul: binary('mul'),
    div: binary('div'),
    maximum: binary('maximum'),
    minimum: binary('minimum'),
    greater: binary('greater'),
    less: binary('less'),
    where: (condition, x, y) => {
      const sc = tensor('where', 'condition', condition);
      checkDType('where.condition', dtypeOf('where', 'condition', condition, 'bool'), 'bool');
      const sa = floatTensor('where', 'a', x);
      const sb = floatTensor('where', 'b', y);
      for (const [arg, s] of [
        ['a', sa],
        ['b', sb],
      ] as const) {
        if (s.length !== sc.length || s.some((d, i) => d >= 0 && sc[i]! >= 0 && d !== sc[i])) {
          throw new ShapeError(`where.${arg}`, `shape ${fmt(s)} differs from condition's ${fmt(sc)}`);
        }
      }
      return b.ops.where([condition, x, y], {});
    },
    neg: unary('neg'),
    sqrt: unary('sqrt'),
    exp: unary('exp'),
    log: unary('log'),
    cos: unary('cos'),
    sin: unary('sin'),
    acos: unary('acos'),
    floor: unary('floor'),
    stopGradient: unary('stopGradient'),
    clip: (x, min, max) => {
      floatTensor('clip', 'x', x);
      checkNumber('clip.min', min);
      checkNumber('clip.max', max);
      if (min > max) throw new InvalidArgumentError('clip.min', `must be ≤ max (${max}), got ${min}`);
      return b.ops.clip([x], { min, max });
    },
    sum: reduce('sum'),
    mean: reduce('mean'),
    max: reduce('max'),
    logSumExp: reduce('logSumExp'),
    reshape: (x, shape) => {
      const from = tensor('reshape', 'x', x);
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= -1) || shape.filter((d) => d === -1).length > 1) {
        throw new ShapeError('reshape.shape', `expected integers ≥ 0 with at most one −1, got ${JSON.stringify(shape)}`);
      }
      if (!from.includes(-1) && !shape.includes(-1)) {
        const n = from.reduce((p, d) => p * d, 1);
        const m = shape.reduce((p, d) => p * d, 1);
        if (n !== m) throw new ShapeError('reshape.shape', `cannot reshape ${fmt(from)} (${n} values) to ${fmt(shape)} (${m} values)`);
      }
      return b.ops.reshape([x], { shape });
    },
    gatherPerRow: (x, indices) => {
      const sx = floatTensor('gatherPerRow', 'x', x);
      const si = tensor('gatherPerRow', 'indices', indices);
      checkDType('gatherPerRow.indices', dtypeOf('gatherPerRow', 'indices', indices, 'int32'), 'int32');
      if (sx.length !== 2) throw new ShapeError('gatherPerRow.x', `expected rank 2 [B, C], got ${fmt(sx)}`);
      if (si.length !== 1) throw new ShapeError('gatherPerRow.indices', `expected rank 1 [B], got ${fmt(si)}`);
      if (si[0]! >= 0 && sx[0]! >= 0 && si[0] !== sx[0]) {
        throw new ShapeError('gatherPerRow.indices', `has ${si[0]} rows but x has ${sx[0]}`);
      }
      return b.ops.gatherPerRow([x, indices], {});
    },
    oneHot: (indices, depth) => {
      const si = tensor('oneHot', 'indices', indices);
      checkDType('oneHot.indices', dtypeOf('oneHot', 'indices', indices, 'int32'), 'int32');
      if (si.length !== 1) throw new ShapeError('oneHot.indices', `expected rank 1 [B], got ${fmt(si)}`);
      checkNumber('oneHot.depth', depth, { min: 1, integer: true });
      return b.ops.oneHot([indices], { depth });
    },
    cast: (x, dtype) => {
      tensor('cast', 'x', x);
      if (dtype !== 'float32' && dtype !== 'int32') throw new DTypeError('cast.dtype', `expected 'float32' or 'int32', got ${String(dtype)}`);
      return b.ops.cast([x], { dtype });
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
