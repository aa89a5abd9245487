/**
 * The op set: the small, closed list of tensor operations that every marginkit loss is written
 * with, and that a backend implements.
 *
 * Every op has the same calling convention, `(inputs, attrs) => output`: a tuple of tensors and
 * an object of static attributes. That makes a backend a typed map from op name to function (no
 * casts needed), and lets a symbolic backend record any op generically.
 *
 * Each op is one entry of {@link OP_SPECS} (op-specs.ts); the types here derive from it.
 *
 * @packageDocumentation
 */
import { OP_SPECS, type OpInputSpec, type OpInputs, type OpSpec } from './op-specs.js';

/** Element types a tensor can have. Booleans come only from comparisons. */
export type DType = 'float32' | 'int32' | 'bool';

/** Values of a `constant` op. */
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

/** The attributes of every op, keyed by op name: the `attrs` its entry of {@link OP_SPECS} checks. */
export type OpAttrs = {
  readonly [K in keyof typeof OP_SPECS]: (typeof OP_SPECS)[K] extends OpSpec<readonly OpInputSpec[], infer A> ? A : never;
};

/**
 * Input and attribute types of every op, keyed by op name, derived from {@link OP_SPECS} (whose
 * entries describe each op). `T` is the backend's tensor type. Elementwise binary ops broadcast
 * NumPy-style; comparisons return `bool` tensors.
 */
export type OpSignatures<T> = {
  readonly [K in keyof typeof OP_SPECS]: OpSignature<OpInputs<(typeof OP_SPECS)[K]['inputs'], T>, OpAttrs[K]>;
};

/** The name of an op. */
export type OpName = keyof typeof OP_SPECS;

/**
 * Every op name, in a stable order (the order of {@link OP_SPECS}).
 *
 * @example
 * ```ts
 * import { OP_NAMES } from '@marginkit/core';
 * console.log(OP_NAMES.length); // 29
 * ```
 */
export const OP_NAMES: readonly OpName[] = Object.freeze(Object.keys(OP_SPECS).filter((name): name is OpName => Object.hasOwn(OP_SPECS, name)));

/** The type of {@link Op}: each op name under its capitalised constant name (`Acos: 'acos'`). */
export type OpConstants = { readonly [K in OpName as Capitalize<K>]: K };

/**
 * Op names as typed constants, so that code never spells an op as a bare string: the capitalised
 * name of each entry of {@link OP_SPECS} (`Op.LogSumExp === 'logSumExp'`).
 *
 * @example
 * ```ts
 * import { Op } from '@marginkit/core';
 * console.log(Op.Acos); // 'acos'
 * ```
 */
export const Op: OpConstants = Object.freeze(Object.fromEntries(OP_NAMES.map((name) => [name[0]!.toUpperCase() + name.slice(1), name]))) as OpConstants;

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
  readonly [K in OpName]: (inputs: OpSignatures<T>[K]['inputs'], attrs: OpAttrs[K]) => T;
};
