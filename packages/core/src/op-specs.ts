/**
 * The op table: one entry per op, holding everything core knows about it — its tensor inputs
 * (names and dtypes, so its arity), its attributes (the type of `check`'s `attrs`), the check of
 * its arguments, and the shape and dtype of its output. `Op`, `OP_NAMES`, `OpSignatures`,
 * `TensorOps` and the validating wrappers of `createOps` all derive from it, so adding an op is
 * one entry here plus its backend implementations, and a missing piece is a compile error.
 *
 * @packageDocumentation
 */
import { DTypeError, InvalidArgumentError, ShapeError } from './errors.js';
import { type Dims, broadcastShapes, checkNumber, checkShape, formatShape } from './input-checks.js';
import type { CastAttrs, ClipAttrs, ConstantAttrs, DType, MatmulAttrs, NoAttrs, OneHotAttrs, ReduceAttrs, ReshapeAttrs } from './ops.js';

/** The static shape and dtype of a tensor, as an op's check and inference see it. */
export interface TensorMeta {
  /** Its dimensions (−1 where a symbolic backend does not know one yet). */
  readonly shape: Dims;
  /** Its element type. */
  readonly dtype: DType;
}

/** One tensor input of an op: its name (for errors, `op.name`) and the dtype it takes (`'any'`: every dtype). */
export type OpInputSpec = readonly [name: string, dtype: DType | 'any'];

/** One `T` per entry of an op's `inputs` (a tuple of the op's arity): its tensors, or their metas. */
export type OpInputs<I extends readonly OpInputSpec[], T> = { readonly [K in keyof I]: T };

/** The metas of an op's inputs, one per entry of its `inputs`. */
export type InputMetas<I extends readonly OpInputSpec[]> = OpInputs<I, TensorMeta>;

/**
 * What core knows about one op. `I` lists its tensor inputs, `A` is its attributes.
 */
export interface OpSpec<I extends readonly OpInputSpec[], A> {
  /** The tensor inputs in order, each with the dtype it takes; their number is the op's arity. */
  readonly inputs: I;
  /**
   * Checks the attributes and how the input shapes relate (each input is already known to be a
   * live tensor of its dtype), throwing typed errors that name `op.argument`; returns the
   * attributes the backend gets (e.g. a negative axis made non-negative).
   */
  check(op: string, inputs: InputMetas<I>, attrs: A): A;
  /** The output's static shape and dtype, for checked inputs and attributes. */
  infer(inputs: InputMetas<I>, attrs: A): TensorMeta;
}

/** An entry of the op table, typed by its inputs and attributes. */
function op<const I extends readonly OpInputSpec[], A>(spec: OpSpec<I, A>): OpSpec<I, A> {
  return spec;
}

const F32 = 'float32';
const noAttrs = (_op: string, _inputs: unknown, attrs: NoAttrs): NoAttrs => attrs;

const binary = (output: 'same' | 'bool') =>
  op({
    inputs: [
      ['a', F32],
      ['b', F32],
    ],
    check: (name, [a, b], attrs: NoAttrs) => {
      if (!broadcastShapes(a.shape, b.shape)) {
        throw new ShapeError(`${name}.b`, `shape ${formatShape(b.shape)} does not broadcast with a's shape ${formatShape(a.shape)}`);
      }
      return attrs;
    },
    infer: ([a, b]) => ({ shape: broadcastShapes(a.shape, b.shape) ?? a.shape, dtype: output === 'bool' ? 'bool' : a.dtype }),
  });

const unary = () => op({ inputs: [['x', F32]], check: noAttrs, infer: ([x]) => x });

const reduction = () =>
  op({
    inputs: [['x', F32]],
    check: (name, [x], attrs: ReduceAttrs) => {
      const rank = x.shape.length;
      const { axis } = attrs;
      if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
        throw new InvalidArgumentError(`${name}.axis`, `must be an integer in [${-rank}, ${rank}) for shape ${formatShape(x.shape)}, got ${axis}`);
      }
      return { axis: axis < 0 ? axis + rank : axis, keepDims: attrs.keepDims };
    },
    infer: ([x], { axis, keepDims }) => ({
      shape: keepDims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis),
      dtype: x.dtype,
    }),
  });

function checkCastDType(argument: string, dtype: unknown): void {
  if (dtype !== 'float32' && dtype !== 'int32') throw new DTypeError(argument, `expected 'float32' or 'int32', got ${String(dtype)}`);
}

/** The static shape after a reshape: −1 is inferred when every input dimension is known. */
function reshapeTarget(from: Dims, to: Dims): number[] {
  const hole = to.indexOf(-1);
  if (hole < 0 || from.includes(-1)) return [...to];
  const total = from.reduce((p, d) => p * d, 1);
  const rest = to.reduce((p, d, i) => (i === hole ? p : p * d), 1);
  return to.map((d, i) => (i === hole ? (rest === 0 ? 0 : total / rest) : d));
}

/**
 * The op table; see the module description. Each entry's description is the op's contract, which
 * every backend implements and the conformance suite checks.
 *
 * @example
 * ```ts
 * import { OP_SPECS } from '@marginkit/core';
 * const { inputs, infer } = OP_SPECS.matmul;
 * console.log(inputs.map(([name]) => name)); // ['a', 'b']
 * const out = infer([{ shape: [2, 3], dtype: 'float32' }, { shape: [4, 3], dtype: 'float32' }], { transposeA: false, transposeB: true });
 * console.log(out); // { shape: [2, 4], dtype: 'float32' }
 * ```
 */
export const OP_SPECS = {
  /** A constant tensor of the given shape and dtype (a number fills the shape). */
  constant: op({
    inputs: [],
    check: (name, _inputs, attrs: ConstantAttrs) => {
      const shape = checkShape(`${name}.shape`, attrs.shape);
      const size = shape.reduce((p, d) => p * d, 1);
      const { values } = attrs;
      if (typeof values !== 'number' && values.length !== size) {
        throw new ShapeError(`${name}.values`, `has ${values.length} values but shape ${formatShape(shape)} needs ${size}`);
      }
      checkCastDType(`${name}.dtype`, attrs.dtype);
      return attrs;
    },
    infer: (_inputs, { shape, dtype }) => ({ shape, dtype }),
  }),
  /** Matrix product of rank-2 tensors, with optional transposes. */
  matmul: op({
    inputs: [
      ['a', F32],
      ['b', F32],
    ],
    check: (name, [a, b], attrs: MatmulAttrs) => {
      if (a.shape.length !== 2) throw new ShapeError(`${name}.a`, `expected rank 2, got shape ${formatShape(a.shape)}`);
      if (b.shape.length !== 2) throw new ShapeError(`${name}.b`, `expected rank 2, got shape ${formatShape(b.shape)}`);
      const { transposeA, transposeB } = attrs;
      const ka = transposeA ? a.shape[0]! : a.shape[1]!;
      const kb = transposeB ? b.shape[1]! : b.shape[0]!;
      if (ka >= 0 && kb >= 0 && ka !== kb) {
        const [ta, tb] = [transposeA ? 'ᵀ' : '', transposeB ? 'ᵀ' : ''];
        throw new ShapeError(`${name}.b`, `inner dimensions differ: a ${formatShape(a.shape)}${ta} · b ${formatShape(b.shape)}${tb} (${ka} ≠ ${kb})`);
      }
      return attrs;
    },
    infer: ([a, b], { transposeA, transposeB }) => ({
      shape: [transposeA ? a.shape[1]! : a.shape[0]!, transposeB ? b.shape[0]! : b.shape[1]!],
      dtype: 'float32',
    }),
  }),
  /** a + b (NumPy broadcasting). */
  add: binary('same'),
  /** a − b (NumPy broadcasting). */
  sub: binary('same'),
  /** a · b (NumPy broadcasting). */
  mul: binary('same'),
  /** a / b (NumPy broadcasting). */
  div: binary('same'),
  /** Elementwise maximum (broadcasting); on ties the gradient goes to `a`. */
  maximum: binary('same'),
  /** Elementwise minimum (broadcasting); on ties the gradient goes to `a`. */
  minimum: binary('same'),
  /** a > b as bool (broadcasting). */
  greater: binary('bool'),
  /** a < b as bool (broadcasting). */
  less: binary('bool'),
  /** Select `a` where `condition`, else `b`; all three of the same shape. */
  where: op({
    inputs: [
      ['condition', 'bool'],
      ['a', F32],
      ['b', F32],
    ],
    check: (name, [c, a, b], attrs: NoAttrs) => {
      for (const [arg, s] of [
        ['a', a.shape],
        ['b', b.shape],
      ] as const) {
        if (s.length !== c.shape.length || s.some((d, i) => d >= 0 && c.shape[i]! >= 0 && d !== c.shape[i])) {
          throw new ShapeError(`${name}.${arg}`, `shape ${formatShape(s)} differs from condition's ${formatShape(c.shape)}`);
        }
      }
      return attrs;
    },
    infer: ([, a]) => a,
  }),
  /** −x. */
  neg: unary(),
  /** √x. */
  sqrt: unary(),
  /** eˣ. */
  exp: unary(),
  /** ln x. */
  log: unary(),
  /** cos x (radians). */
  cos: unary(),
  /** sin x (radians). */
  sin: unary(),
  /** arccos x in [0, π], for x in [−1, 1]. */
  acos: unary(),
  /** ⌊x⌋; its gradient is zero. */
  floor: unary(),
  /** Clamp to [min, max]; the gradient passes where min ≤ x ≤ max (inclusive). */
  clip: op({
    inputs: [['x', F32]],
    check: (name, _inputs, attrs: ClipAttrs) => {
      checkNumber(`${name}.min`, attrs.min);
      checkNumber(`${name}.max`, attrs.max);
      if (attrs.min > attrs.max) throw new InvalidArgumentError(`${name}.min`, `must be ≤ max (${attrs.max}), got ${attrs.min}`);
      return attrs;
    },
    infer: ([x]) => x,
  }),
  /** Sum along an axis (negative counts from the end). */
  sum: reduction(),
  /** Mean along an axis. */
  mean: reduction(),
  /** Maximum along an axis. */
  max: reduction(),
  /** log Σ exp along an axis, computed with the maximum subtracted. */
  logSumExp: reduction(),
  /** Reshape; one entry of `shape` may be −1. */
  reshape: op({
    inputs: [['x', 'any']],
    check: (name, [x], attrs: ReshapeAttrs) => {
      const { shape } = attrs;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= -1) || shape.filter((d) => d === -1).length > 1) {
        throw new ShapeError(`${name}.shape`, `expected integers ≥ 0 with at most one −1, got ${JSON.stringify(shape)}`);
      }
      if (!x.shape.includes(-1) && !shape.includes(-1)) {
        const n = x.shape.reduce((p, d) => p * d, 1);
        const m = shape.reduce((p, d) => p * d, 1);
        if (n !== m) throw new ShapeError(`${name}.shape`, `cannot reshape ${formatShape(x.shape)} (${n} values) to ${formatShape(shape)} (${m} values)`);
      }
      return attrs;
    },
    infer: ([x], { shape }) => ({ shape: reshapeTarget(x.shape, shape), dtype: x.dtype }),
  }),
  /** For x [B, C] and int32 indices [B], the values x[i, indices[i]] as [B]. Differentiable in x. */
  gatherPerRow: op({
    inputs: [
      ['x', F32],
      ['indices', 'int32'],
    ],
    check: (name, [x, indices], attrs: NoAttrs) => {
      if (x.shape.length !== 2) throw new ShapeError(`${name}.x`, `expected rank 2 [B, C], got ${formatShape(x.shape)}`);
      if (indices.shape.length !== 1) throw new ShapeError(`${name}.indices`, `expected rank 1 [B], got ${formatShape(indices.shape)}`);
      const [bi, bx] = [indices.shape[0]!, x.shape[0]!];
      if (bi >= 0 && bx >= 0 && bi !== bx) throw new ShapeError(`${name}.indices`, `has ${bi} rows but x has ${bx}`);
      return attrs;
    },
    infer: ([x]) => ({ shape: [x.shape[0]!], dtype: 'float32' }),
  }),
  /** For int32 indices [B], a float32 [B, depth] one-hot matrix. */
  oneHot: op({
    inputs: [['indices', 'int32']],
    check: (name, [indices], attrs: OneHotAttrs) => {
      if (indices.shape.length !== 1) throw new ShapeError(`${name}.indices`, `expected rank 1 [B], got ${formatShape(indices.shape)}`);
      checkNumber(`${name}.depth`, attrs.depth, { min: 1, integer: true });
      return attrs;
    },
    infer: ([indices], { depth }) => ({ shape: [indices.shape[0]!, depth], dtype: 'float32' }),
  }),
  /** Identity forward, zero gradient. */
  stopGradient: unary(),
  /** Convert to another dtype (float → int32 truncates toward zero). */
  cast: op({
    inputs: [['x', 'any']],
    check: (name, _inputs, attrs: CastAttrs) => {
      checkCastDType(`${name}.dtype`, attrs.dtype);
      return attrs;
    },
    infer: ([x], { dtype }) => ({ shape: x.shape, dtype }),
  }),
};
