/**
 * The op set: the small, closed list of tensor operations that every marginkit loss is written
 * with, and that a backend implements.
 *
 * Every op has the same calling convention, `(inputs, attrs) => output`: a tuple of tensors and
 * an object of static attributes. That makes a backend a typed map from op name to function (no
 * casts needed), and lets a symbolic backend record any op generically.
 *
 * @packageDocumentation
 */

/** Element types a tensor can have. Booleans come only from comparisons. */
export type DType = 'float32' | 'int32' | 'bool';

/** Values for {@link OpSignatures.constant}. */
export type ConstantValues = number | readonly number[] | Float32Array | Int32Array;

/** Attributes of a reduction along one axis. */
export interface ReduceAttrs {
  /** The axis to reduce, non-negative. */
  readonly axis: number;
  /** Keep the reduced axis with size 1. */
  readonly keepDims: boolean;
}

/** No attributes. */
export type NoAttrs = Readonly<Record<string, never>>;

/**
 * Input and attribute types of every op, keyed by op name. `T` is the backend's tensor type.
 * Elementwise binary ops broadcast NumPy-style; comparisons return `bool` tensors.
 */
export interface OpSignatures<T> {
  /** A constant tensor of the given shape and dtype (a number fills the shape). */
  constant: { inputs: readonly []; attrs: { readonly values: ConstantValues; readonly shape: readonly number[]; readonly dtype: 'float32' | 'int32' } };
  /** Matrix product of rank-2 tensors, with optional transposes. */
  matmul: { inputs: readonly [a: T, b: T]; attrs: { readonly transposeA: boolean; readonly transposeB: boolean } };
  /** a + b. */
  add: { inputs: readonly [a: T, b: T]; attrs: NoAttrs };
  /** a − b. */
  sub: { inputs: readonly [a: T, b: T]; attrs: NoAttrs };
  /** a · b. */
  mul: { inputs: readonly [a: T, b: T]; attrs: NoAttrs };
  /** a / b. */
  div: { inputs: readonly [a: T, b: T]; attrs: NoAttrs };
  /** Elementwise maximum; on ties the gradient goes to `a`. */
  maximum: { inputs: readonly [a: T, b: T]; attrs: NoAttrs };
  /** Elementwise minimum; on ties the gradient goes to `a`. */
  minimum: { inputs: readonly [a: T, b: T]; attrs: NoAttrs };
  /** a > b, as bool. */
  greater: { inputs: readonly [a: T, b: T]; attrs: NoAttrs };
  /** a < b, as bool. */
  less: { inputs: readonly [a: T, b: T]; attrs: NoAttrs };
  /** Select `a` where `condition`, else `b`; all three of the same shape. */
  where: { inputs: readonly [condition: T, a: T, b: T]; attrs: NoAttrs };
  /** −x. */
  neg: { inputs: readonly [x: T]; attrs: NoAttrs };
  /** √x. */
  sqrt: { inputs: readonly [x: T]; attrs: NoAttrs };
  /** eˣ. */
  exp: { inputs: readonly [x: T]; attrs: NoAttrs };
  /** ln x. */
  log: { inputs: readonly [x: T]; attrs: NoAttrs };
  /** cos x (radians). */
  cos: { inputs: readonly [x: T]; attrs: NoAttrs };
  /** sin x (radians). */
  sin: { inputs: readonly [x: T]; attrs: NoAttrs };
  /** arccos x in [0, π], for x in [−1, 1]. */
  acos: { inputs: readonly [x: T]; attrs: NoAttrs };
  /** ⌊x⌋; its gradient is zero. */
  floor: { inputs: readonly [x: T]; attrs: NoAttrs };
  /** Clamp to [min, max]; the gradient passes where min ≤ x ≤ max (inclusive). */
  clip: { inputs: readonly [x: T]; attrs: { readonly min: number; readonly max: number } };
  /** Sum along an axis. */
  sum: { inputs: readonly [x: T]; attrs: ReduceAttrs };
  /** Mean along an axis. */
  mean: { inputs: readonly [x: T]; attrs: ReduceAttrs };
  /** Maximum along an axis. */
  max: { inputs: readonly [x: T]; attrs: ReduceAttrs };
  /** log Σ exp along an axis, computed with the maximum subtracted. */
  logSumExp: { inputs: readonly [x: T]; attrs: ReduceAttrs };
  /** Reshape; one entry of `shape` may be −1. */
  reshape: { inputs: readonly [x: T]; attrs: { readonly shape: readonly number[] } };
  /** For x [B, C] and int32 indices [B], the values x[i, indices[i]] as [B]. Differentiable in x. */
  gatherPerRow: { inputs: readonly [x: T, indices: T]; attrs: NoAttrs };
  /** For int32 indices [B], a float32 [B, depth] one-hot matrix. */
  oneHot: { inputs: readonly [indices: T]; attrs: { readonly depth: number } };
  /** Identity forward, zero gradient. */
  stopGradient: { inputs: readonly [x: T]; attrs: NoAttrs };
  /** Convert to another dtype (float → int32 truncates toward zero). */
  cast: { inputs: readonly [x: T]; attrs: { readonly dtype: 'float32' | 'int32' } };
}

/** The name of an op. */
export type OpName = keyof OpSignatures<unknown>;

/**
 * Op names as typed constants, so that code never spells an op as a bare string.
 *
 * @example
 * ```ts
 * import { Op } from '@marginkit/core';
 * console.log(Op.Acos); // 'acos'
 * ```
 */
export const Op = {
  Constant: 'constant',
  Matmul: 'matmul',
  Add: 'add',
  Sub: 'sub',
  Mul: 'mul',
  Div: 'div',
  Maximum: 'maximum',
  Minimum: 'minimum',
  Greater: 'greater',
  Less: 'less',
  Where: 'where',
  Neg: 'neg',
  Sqrt: 'sqrt',
  Exp: 'exp',
  Log: 'log',
  Cos: 'cos',
  Sin: 'sin',
  Acos: 'acos',
  Floor: 'floor',
  Clip: 'clip',
  Sum: 'sum',
  Mean: 'mean',
  Max: 'max',
  LogSumExp: 'logSumExp',
  Reshape: 'reshape',
  GatherPerRow: 'gatherPerRow',
  OneHot: 'oneHot',
  StopGradient: 'stopGradient',
  Cast: 'cast',
} as const satisfies Record<string, OpName>;

/**
 * Every op name, in a stable order.
 *
 * @example
 * ```ts
 * import { OP_NAMES } from '@marginkit/core';
 * console.log(OP_NAMES.length); // 29
 * ```
 */
export const OP_NAMES: readonly OpName[] = Object.freeze(Object.values(Op));

/**
 * What a backend implements: one function per op, `(inputs, attrs) => tensor`.
 *
 * @example
 * ```ts
 * import type { TensorOps } from '@marginkit/core';
 * // A backend's `add`, typed by the op map:
 * type Add = TensorOps<Float64Array>['add']; // (inputs: readonly [a, b], attrs) => Float64Array
 * const add: Add = ([a, b]) => a.map((v, i) => v + b[i]!);
 * console.log(add([new Float64Array([1]), new Float64Array([2])], {})); // Float64Array [3]
 * ```
 */
export type TensorOps<T> = {
  readonly [K in OpName]: (inputs: OpSignatures<T>[K]['inputs'], attrs: OpSignatures<T>[K]['attrs']) => T;
};
