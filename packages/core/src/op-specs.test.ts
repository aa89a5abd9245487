import { describe, expect, it } from 'vitest';
import { createOps } from './create-ops.js';
import { DTypeError, InvalidArgumentError, NonFiniteError, ShapeError } from './errors.js';
import { OP_SPECS, type OpInputSpec, type OpSpec, type TensorMeta } from './op-specs.js';
import { OP_NAMES, Op, type OpAttrs, type OpName } from './ops.js';
import { type BadInputCase, expectTypedError } from './testing/bad-input.js';
import { RefTensor, referenceBackend } from './testing/reference-backend.js';

type RowOf = { [K in OpName]: { readonly op: K; readonly inputs: readonly TensorMeta[]; readonly attrs: OpAttrs[K]; readonly out: TensorMeta } };
type Row = RowOf[OpName];

const f = (...shape: number[]): TensorMeta => ({ shape, dtype: 'float32' });
const i = (...shape: number[]): TensorMeta => ({ shape, dtype: 'int32' });
const bool = (...shape: number[]): TensorMeta => ({ shape, dtype: 'bool' });

// Hand-derived output shapes and dtypes, one or more rows per op.
const ROWS: readonly Row[] = [
  { op: 'constant', inputs: [], attrs: { values: 1, shape: [2, 3], dtype: 'int32' }, out: i(2, 3) },
  { op: 'matmul', inputs: [f(2, 3), f(3, 5)], attrs: { transposeA: false, transposeB: false }, out: f(2, 5) },
  { op: 'matmul', inputs: [f(3, 2), f(5, 3)], attrs: { transposeA: true, transposeB: true }, out: f(2, 5) },
  ...(['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const).map((op): Row => ({ op, inputs: [f(3, 1), f(4)], attrs: {}, out: f(3, 4) })),
  { op: 'greater', inputs: [f(2, 3), f()], attrs: {}, out: bool(2, 3) },
  { op: 'less', inputs: [f(1), f(2, 1)], attrs: {}, out: bool(2, 1) },
  { op: 'where', inputs: [bool(2, 3), f(2, 3), f(2, 3)], attrs: {}, out: f(2, 3) },
  ...(['neg', 'sqrt', 'exp', 'log', 'cos', 'sin', 'acos', 'floor', 'stopGradient'] as const).map(
    (op): Row => ({ op, inputs: [f(4, 2)], attrs: {}, out: f(4, 2) }),
  ),
  { op: 'clip', inputs: [f(3)], attrs: { min: -1, max: 1 }, out: f(3) },
  { op: 'sum', inputs: [f(2, 3, 4)], attrs: { axis: 1, keepDims: false }, out: f(2, 4) },
  { op: 'mean', inputs: [f(2, 3)], attrs: { axis: 0, keepDims: true }, out: f(1, 3) },
  { op: 'max', inputs: [f(2, 3)], attrs: { axis: 1, keepDims: true }, out: f(2, 1) },
  { op: 'logSumExp', inputs: [f(5)], attrs: { axis: 0, keepDims: false }, out: f() },
  { op: 'reshape', inputs: [f(2, 6)], attrs: { shape: [-1, 4] }, out: f(3, 4) },
  { op: 'reshape', inputs: [i(2, 3)], attrs: { shape: [6] }, out: i(6) },
  { op: 'gatherPerRow', inputs: [f(3, 5), i(3)], attrs: {}, out: f(3) },
  { op: 'oneHot', inputs: [i(4)], attrs: { depth: 7 }, out: f(4, 7) },
  { op: 'cast', inputs: [f(2, 2)], attrs: { dtype: 'int32' }, out: i(2, 2) },
  { op: 'cast', inputs: [bool(3)], attrs: { dtype: 'float32' }, out: f(3) },
];

const ref = referenceBackend();
const tensor = (m: TensorMeta): RefTensor => new RefTensor(m.shape, m.dtype, new Float64Array(m.shape.reduce((p, d) => p * d, 1)));
/** The op table seen with generic input lists, so that one row's op and attributes go together. */
const SPECS: { readonly [K in OpName]: OpSpec<readonly OpInputSpec[], OpAttrs[K]> } = OP_SPECS;
/** A backend op seen with a generic input list (a method type, so its parameters compare bivariantly). */
type RefOp<A> = { run(inputs: readonly RefTensor[], attrs: A): RefTensor }['run'];
const REF_OPS: { readonly [K in OpName]: RefOp<OpAttrs[K]> } = ref.ops;

/** The row's output as OP_SPECS infers it, and as the reference backend computes it. */
function inferAndRun<K extends OpName>(row: RowOf[K]): { inferred: TensorMeta; actual: RefTensor } {
  return { inferred: SPECS[row.op].infer(row.inputs, row.attrs), actual: REF_OPS[row.op](row.inputs.map(tensor), row.attrs) };
}

describe('OP_SPECS', () => {
  it('derives OP_NAMES and Op from one table', () => {
    expect(OP_NAMES).toEqual(Object.keys(OP_SPECS));
    expect(Object.values(Op)).toEqual(OP_NAMES);
    expect(Op.LogSumExp).toBe('logSumExp');
    expect(Op.GatherPerRow).toBe('gatherPerRow');
  });

  it('has inference rows for every op', () => {
    expect(new Set(ROWS.map((r) => r.op))).toEqual(new Set(OP_NAMES));
  });

  it.each(ROWS.map((r) => [`${r.op} ${r.inputs.map((m) => `${m.dtype}[${m.shape.join(',')}]`).join(' ')}`, r] as const))(
    'infers %s as the hand-derived shape and dtype, and as the reference backend computes',
    (_, row) => {
      const { inferred, actual } = inferAndRun(row);
      expect({ shape: [...inferred.shape], dtype: inferred.dtype }).toEqual(row.out);
      expect({ shape: [...actual.shape], dtype: actual.dtype }).toEqual(row.out);
    },
  );
});

describe('OP_SPECS checks (through createOps)', () => {
  const ops = createOps(ref);
  const x = (...shape: number[]) => tensor(f(...shape));
  const ints = (...shape: number[]) => tensor(i(...shape));
  const cases: BadInputCase[] = [
    { what: 'matmul of a vector', run: () => ops.matmul(x(2), x(2, 2)), error: ShapeError, argument: 'matmul.a', message: /expected rank 2, got shape \[2\]/ },
    { what: 'matmul inner mismatch', run: () => ops.matmul(x(2, 3), x(2, 3)), error: ShapeError, argument: 'matmul.b', message: /\(3 ≠ 2\)/ },
    { what: 'add of int32', run: () => ops.add(ints(2), x(2)), error: DTypeError, argument: 'add.a', message: /expected float32, got int32/ },
    { what: 'mul not broadcastable', run: () => ops.mul(x(3), x(4)), error: ShapeError, argument: 'mul.b', message: /does not broadcast/ },
    { what: 'where of float condition', run: () => ops.where(x(2), x(2), x(2)), error: DTypeError, argument: 'where.condition', message: /bool/ },
    { what: 'where shapes differ', run: () => ops.where(ops.greater(x(2), x(2)), x(2), x(3)), error: ShapeError, argument: 'where.b' },
    { what: 'sum axis out of range', run: () => ops.sum(x(2, 3), 2), error: InvalidArgumentError, argument: 'sum.axis', message: /\[-2, 2\)/ },
    { what: 'clip NaN min', run: () => ops.clip(x(2), Number.NaN, 1), error: NonFiniteError, argument: 'clip.min' },
    { what: 'clip min > max', run: () => ops.clip(x(2), 1, 0), error: InvalidArgumentError, argument: 'clip.min', message: /≤ max/ },
    { what: 'reshape two −1', run: () => ops.reshape(x(4), [-1, -1]), error: ShapeError, argument: 'reshape.shape' },
    { what: 'reshape size', run: () => ops.reshape(x(4), [3]), error: ShapeError, argument: 'reshape.shape', message: /4 values.*3 values/ },
    {
      what: 'gatherPerRow rows',
      run: () => ops.gatherPerRow(x(2, 3), ints(3)),
      error: ShapeError,
      argument: 'gatherPerRow.indices',
      message: /3 rows but x has 2/,
    },
    { what: 'gatherPerRow float indices', run: () => ops.gatherPerRow(x(2, 3), x(2)), error: DTypeError, argument: 'gatherPerRow.indices' },
    { what: 'oneHot depth 0', run: () => ops.oneHot(ints(2), 0), error: InvalidArgumentError, argument: 'oneHot.depth', message: /integer ≥ 1/ },
    { what: 'constant too few values', run: () => ops.constant([1, 2], [3]), error: ShapeError, argument: 'constant.values', message: /needs 3/ },
    { what: 'constant negative dimension', run: () => ops.constant(0, [-1]), error: ShapeError, argument: 'constant.shape' },
    // Untyped callers (JavaScript, parsed configs) can pass anything: Reflect.apply skips the types.
    { what: 'cast to bool', run: () => Reflect.apply(ops.cast, undefined, [x(2), 'bool']), error: DTypeError, argument: 'cast.dtype' },
    {
      what: 'not a tensor',
      run: () => Reflect.apply(ops.exp, undefined, [[1, 2]]),
      error: InvalidArgumentError,
      argument: 'exp.x',
      message: /an array of length 2/,
    },
  ];
  it.each(cases)('$what', ({ run, ...expected }) => expectTypedError(run, expected));

  it('passes normalised attributes to the backend (a negative axis counts from the end)', () => {
    const t = new RefTensor([2, 3], 'float32', Float64Array.from([1, 2, 3, 4, 5, 6]));
    expect(ops.sum(t, -1).toArray()).toEqual([6, 15]);
    expect(ops.sum(t, -2, true).shape).toEqual([1, 3]);
  });
});
