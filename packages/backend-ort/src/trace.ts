import { type DType, DTypeError, InvalidArgumentError, OP_NAMES, type OpName, type TensorOps, checkDataLength, checkShape } from '@marginkit/core';
import { type InputData, type OpNode, OrtTensor, isOrtTensor } from './graph.js';
import { inferOp } from './ops/index.js';
import type { OpAttrs, OpInputs } from './ops/op-rule.js';

/**
 * Records graphs: the op set of one ortBackend instance, whose calls make symbolic tensors (shape
 * and dtype from core's `OP_SPECS` inference), and the graph inputs. Tensors belong to the tracer that
 * made them. @internal
 */
export interface Tracer {
  /** The raw op set: each op records a node. */
  readonly ops: TensorOps<OrtTensor>;
  /** True for a tensor of this tracer. */
  isTensor(value: unknown): value is OrtTensor;
  /** `t`, when it is a tensor of this tracer; else an InvalidArgumentError naming `argument`. */
  ownTensor(argument: string, t: unknown): OrtTensor;
  /** The entries of an object of named tensors of this tracer (`{ loss }`), names checked. */
  namedOutputs(argument: string, outputs: unknown): [string, OrtTensor][];
  /** A graph input to be fed at run time (see `OrtBackend.placeholder`). */
  placeholder(name: unknown, shape: unknown, dtype: unknown): OrtTensor;
  /** A graph input with bound values (see `OrtBackend.tensor`); `share` binds a Float32Array itself instead of a copy. */
  tensor(values: unknown, shape: unknown, dtype: unknown, name: unknown, share?: boolean): OrtTensor;
}

/** A copy of the values in the dtype's array (the constructor's copy: Float32Array.from iterates, about 10x slower). */
const TYPED: Record<DType, (values: ArrayLike<number>) => InputData> = {
  float32: (values) => new Float32Array(values),
  int32: (values) => new Int32Array(values),
  bool: (values) => new Uint8Array(values),
};

function checkName(argument: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError(argument, `must be a non-empty string, got ${String(name)}`);
  if (name.startsWith('mk.')) throw new InvalidArgumentError(argument, `'${name}': names starting with 'mk.' are reserved for the backend's own values`);
  return name;
}

function checkDType(argument: string, dtype: unknown): 'float32' | 'int32' {
  if (dtype !== 'float32' && dtype !== 'int32') throw new DTypeError(argument, `expected 'float32' or 'int32', got ${String(dtype)}`);
  return dtype;
}

/**
 * The attributes as recorded: arrays and typed arrays (a constant's values, a shape) copied to
 * plain arrays, so that the caller changing them later does not change the graph.
 */
function snapshot<A extends object>(attrs: A): A {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, typeof v === 'object' && v !== null ? Array.from(v as ArrayLike<number>) : v])) as A;
}

/** A new tracer; `owner` marks its tensors. @internal */
export function createTracer(): Tracer {
  const owner = {};
  let nextId = 0;
  let autoName = 0;
  const make = <K extends OpName>(op: K, inputs: OpInputs<K>, attrs: OpAttrs<K>): OrtTensor => {
    const { shape, dtype } = inferOp(op, inputs, attrs);
    // The node holds op K's own inputs and attributes: the union type cannot say so for a generic K.
    const node = { kind: 'op', op, inputs, attrs } as OpNode;
    return new OrtTensor(owner, nextId++, shape, dtype, node);
  };
  const recorder =
    <K extends OpName>(op: K): ((inputs: OpInputs<K>, attrs: OpAttrs<K>) => OrtTensor) =>
    (inputs, attrs) =>
      make(op, inputs, snapshot(attrs));
  // One recorder per op of the op set (core's OP_SPECS, which make's `inferOp` reads, has an entry for each).
  const ops = Object.fromEntries(OP_NAMES.map((op) => [op, recorder(op)])) as TensorOps<OrtTensor>;
  const isTensor = (value: unknown): value is OrtTensor => isOrtTensor(value) && value.owner === owner;
  const ownTensor = (argument: string, t: unknown): OrtTensor => {
    if (!isTensor(t)) {
      const why = isOrtTensor(t) ? 'a tensor of another ortBackend instance' : t === null ? 'null' : typeof t;
      throw new InvalidArgumentError(argument, `expected a tensor of this ort backend, got ${why}`);
    }
    return t;
  };
  return {
    ops,
    isTensor,
    ownTensor,
    namedOutputs(argument, outputs) {
      if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)) {
        throw new InvalidArgumentError(
          argument,
          `expected an object of named tensors such as { loss }, got ${Array.isArray(outputs) ? 'an array' : String(outputs)}`,
        );
      }
      const entries = Object.entries(outputs as Record<string, unknown>);
      if (entries.length === 0) throw new InvalidArgumentError(argument, 'needs at least one tensor');
      return entries.map(([k, t]) => [checkName(`${argument}.${k}`, k), ownTensor(`${argument}.${k}`, t)]);
    },
    placeholder(name, shape, dtype) {
      const n = checkName('placeholder.name', name);
      const s = checkShape('placeholder.shape', shape, true);
      const dt = checkDType('placeholder.dtype', dtype);
      return new OrtTensor(owner, nextId++, s, dt, { kind: 'input', name: n, bound: undefined });
    },
    tensor(values, shape, dtype, name, share = false) {
      const s = checkShape('tensor.shape', shape, false);
      const dt = checkDType('tensor.dtype', dtype);
      const n = name === undefined ? `input${autoName++}` : checkName('tensor.name', name);
      if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<number>).length !== 'number') {
        throw new InvalidArgumentError('tensor.values', `expected an array or typed array of numbers, got ${values === null ? 'null' : typeof values}`);
      }
      const data = values as ArrayLike<number>;
      checkDataLength('tensor.values', data, s);
      if (share && !(dt === 'float32' && data instanceof Float32Array)) {
        throw new InvalidArgumentError('share.values', 'must be a Float32Array (the tensor reads it in place)');
      }
      const bound = share ? (data as Float32Array) : TYPED[dt](data);
      return new OrtTensor(owner, nextId++, s, dt, { kind: 'input', name: n, bound, ...(name === undefined ? { auto: true } : {}) });
    },
  };
}
