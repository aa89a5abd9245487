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

/** Attributes of `constant`. */
export interface ConstantAttrs {
  /** The values, row-major; a number fills the shape. */
  readonly values: ConstantValues;
  /** The dimensions. */
  readonly shape: readonly number[];
  /** The element type. */
  readonly dtype: 'float32' | 'int32';
}

/** Attributes of `matmul`. */
export interface MatmulAttrs {
  /** Use aᵀ. */
  readonly transposeA: boolean;
  /** Use bᵀ. */
  readonly transposeB: boolean;
}

/** Attributes of `clip`. */
export interface ClipAttrs {
  /** Lower bound, finite. */
  readonly min: number;
  /** Upper bound, finite, ≥ min. */
  readonly max: number;
}

/** Attributes of `reshape`. */
export interface ReshapeAttrs {
  /** The new dimensions; one may be −1 (inferred). */
  readonly shape: readonly number[];
}

/** Attributes of `oneHot`. */
export interface OneHotAttrs {
  /** The number of classes, ≥ 1. */
  readonly depth: number;
}

/** Attributes of `cast`. */
export interface CastAttrs {
  /** The target element type. */
  readonly dtype: 'float32' | 'int32';
}

/** The signature of one op: its tensor inputs (a tuple) and its static attributes. */
export interface OpSignature<I extends readonly unknown[], A> {
  /** The tensor inputs, in order. */
  readonly inputs: I;
  /** The static attributes. */
  readonly attrs: A;
}

/**
 * Input and attribute types of every op, keyed by op name. `T` is the backend's tensor type.
 * Elementwise binary ops broadcast NumPy-style; comparisons return `bool` tensors.
 */
export interface OpSignatures<T> {
  /** A constant tensor of the given shape and dtype (a number fills the shape). */
  constant: OpSignature<readonly [], ConstantAttrs>;
  /** Matrix product of rank-2 tensors, with optional transposes. */
  matmul: OpSignature<readonly [a: T, b: T], MatmulAttrs>;
  /** a + b. */
  add: OpSignature<readonly [a: T, b: T], NoAttrs>;
  /** a − b. */
  sub: OpSignature<readonly [a: T, b: T], NoAttrs>;
  /** a · b. */
  mul: OpSignature<readonly [a: T, b: T], NoAttrs>;
  /** a / b. */
  div: OpSignature<readonly [a: T, b: T], NoAttrs>;
  /** Elementwise maximum; on ties the gradient goes to `a`. */
  maximum: OpSignature<readonly [a: T, b: T], NoAttrs>;
  /** Elementwise minimum; on ties the gradient goes to `a`. */
  minimum: OpSignature<readonly [a: T, b: T], NoAttrs>;
  /** a > b, as bool. */
  greater: OpSignature<readonly [a: T, b: T], NoAttrs>;
  /** a < b, as bool. */
  less: OpSignature<readonly [a: T, b: T], NoAttrs>;
  /** Select `a` where `condition`, else `b`; all three of the same shape. */
  where: OpSignature<readonly [condition: T, a: T, b: T], NoAttrs>;
  /** −x. */
  neg: OpSignature<readonly [x: T], NoAttrs>;
  /** √x. */
  sqrt: OpSignature<readonly [x: T], NoAttrs>;
  /** eˣ. */
  exp: OpSignature<readonly [x: T], NoAttrs>;
  /** ln x. */
  log: OpSignature<readonly [x: T], NoAttrs>;
  /** cos x (radians). */
  cos: OpSignature<readonly [x: T], NoAttrs>;
  /** sin x (radians). */
  sin: OpSignature<readonly [x: T], NoAttrs>;
  /** arccos x in [0, π], for x in [−1, 1]. */
  acos: OpSignature<readonly [x: T], NoAttrs>;
  /** ⌊x⌋; its gradient is zero. */
  floor: OpSignature<readonly [x: T], NoAttrs>;
  /** Clamp to [min, max]; the gradient passes where min ≤ x ≤ max (inclusive). */
  clip: OpSignature<readonly [x: T], ClipAttrs>;
  /** Sum along an axis. */
  sum: OpSignature<readonly [x: T], ReduceAttrs>;
  /** Mean along an axis. */
  mean: OpSignature<readonly [x: T], ReduceAttrs>;
  /** Maximum along an axis. */
  max: OpSignature<readonly [x: T], ReduceAttrs>;
  /** log Σ exp along an axis, computed with the maximum subtracted. */
  logSumExp: OpSignature<readonly [x: T], ReduceAttrs>;
  /** Reshape; one entry of `shape` may be −1. */
  reshape: OpSignature<readonly [x: T], ReshapeAttrs>;
  /** For x [B, C] and int32 indices [B], the values x[i, indices[i]] as [B]. Differentiable in x. */
  gatherPerRow: OpSignature<readonly [x: T, indices: T], NoAttrs>;
  /** For int32 indices [B], a float32 [B, depth] one-hot matrix. */
  oneHot: OpSignature<readonly [indices: T], OneHotAttrs>;
  /** Identity forward, zero gradient. */
  stopGradient: OpSignature<readonly [x: T], NoAttrs>;
  /** Convert to another dtype (float → int32 truncates toward zero). */
  cast: OpSignature<readonly [x: T], CastAttrs>;
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
  /** The `constant` op; see {@link OpSignatures.constant}. */
  Constant: 'constant',
  /** The `matmul` op; see {@link OpSignatures.matmul}. */
  Matmul: 'matmul',
  /** The `add` op; see {@link OpSignatures.add}. */
  Add: 'add',
  /** The `sub` op; see {@link OpSignatures.sub}. */
  Sub: 'sub',
  /** The `mul` op; see {@link OpSignatures.mul}. */
  Mul: 'mul',
  /** The `div` op; see {@link OpSignatures.div}. */
  Div: 'div',
  /** The `maximum` op; see {@link OpSignatures.maximum}. */
  Maximum: 'maximum',
  /** The `minimum` op; see {@link OpSignatures.minimum}. */
  Minimum: 'minimum',
  /** The `greater` op; see {@link OpSignatures.greater}. */
  Greater: 'greater',
  /** The `less` op; see {@link OpSignatures.less}. */
  Less: 'less',
  /** The `where` op; see {@link OpSignatures.where}. */
  Where: 'where',
  /** The `neg` op; see {@link OpSignatures.neg}. */
  Neg: 'neg',
  /** The `sqrt` op; see {@link OpSignatures.sqrt}. */
  Sqrt: 'sqrt',
  /** The `exp` op; see {@link OpSignatures.exp}. */
  Exp: 'exp',
  /** The `log` op; see {@link OpSignatures.log}. */
  Log: 'log',
  /** The `cos` op; see {@link OpSignatures.cos}. */
  Cos: 'cos',
  /** The `sin` op; see {@link OpSignatures.sin}. */
  Sin: 'sin',
  /** The `acos` op; see {@link OpSignatures.acos}. */
  Acos: 'acos',
  /** The `floor` op; see {@link OpSignatures.floor}. */
  Floor: 'floor',
  /** The `clip` op; see {@link OpSignatures.clip}. */
  Clip: 'clip',
  /** The `sum` op; see {@link OpSignatures.sum}. */
  Sum: 'sum',
  /** The `mean` op; see {@link OpSignatures.mean}. */
  Mean: 'mean',
  /** The `max` op; see {@link OpSignatures.max}. */
  Max: 'max',
  /** The `logSumExp` op; see {@link OpSignatures.logSumExp}. */
  LogSumExp: 'logSumExp',
  /** The `reshape` op; see {@link OpSignatures.reshape}. */
  Reshape: 'reshape',
  /** The `gatherPerRow` op; see {@link OpSignatures.gatherPerRow}. */
  GatherPerRow: 'gatherPerRow',
  /** The `oneHot` op; see {@link OpSignatures.oneHot}. */
  OneHot: 'oneHot',
  /** The `stopGradient` op; see {@link OpSignatures.stopGradient}. */
  StopGradient: 'stopGradient',
  /** The `cast` op; see {@link OpSignatures.cast}. */
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
