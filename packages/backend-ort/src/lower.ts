import { type DType, InvalidArgumentError, UnsupportedOpError, broadcastShapes } from '@marginkit/core';
import { type AnyAttrs, type InputData, type OrtTensor, formatShape, topologicalOrder } from './graph.js';
import { ElemType, IR_VERSION, OPSET } from './onnx.js';

/** A graph input of a lowered model: its name, static shape (−1 unknown) and dtype. */
export interface GraphInput {
  /** The input's name, the key to feed it by. */
  readonly name: string;
  /** The static shape; −1 where any size is accepted. */
  readonly shape: readonly number[];
  /** The element type. */
  readonly dtype: DType;
}

/** A lowered graph: the ONNX model as a plain object, its inputs and outputs, and its structural key. @internal */
export interface Lowered {
  /** Equal for structurally equal graphs (same ops, attributes, constants, input names, shapes). */
  readonly key: string;
  /** Builds the ModelProto as a plain object, for `encodeModel`: only needed when no cached session has the key. */
  model(): Record<string, unknown>;
  /** Graph inputs, in order, with the tensors they came from. */
  readonly inputs: readonly (GraphInput & { readonly tensor: OrtTensor })[];
  /** Output names, in order. */
  readonly outputs: readonly string[];
  /**
   * The bytes of constants (and frozen inputs) too large to spell out in the key, in key order:
   * the key holds their hash, and a cache hit compares these bytes, so a hash collision cannot
   * reuse the wrong session.
   */
  readonly largeConstants: readonly Uint8Array[];
}

/** Options of the lowering. @internal */
export interface LowerOptions {
  /** Bound inputs to store as initialisers instead of graph inputs. */
  readonly freeze?: ReadonlySet<OrtTensor>;
}

const ONNX_DTYPE: Record<DType, number> = { float32: ElemType.float32, int32: ElemType.int32, bool: ElemType.bool };

/** Constants up to this many values are written into the structural key verbatim. */
const SPELLED_OUT = 64;

const ELEMENTWISE: ReadonlySet<string> = new Set(['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'greater', 'less']);

/** A float32 constant whose every value is 1. */
function isOnes(t: OrtTensor): boolean {
  if (t.node.kind !== 'op' || t.node.op !== 'constant' || t.dtype !== 'float32') return false;
  const { values } = t.node.attrs as { values: number | readonly number[] };
  return typeof values === 'number' ? values === 1 : values.every((v) => v === 1);
}

/** A 53-bit hash of bytes (cyrb53), for constants in the structural key. */
function hashBytes(bytes: Uint8Array): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The values of a constant op as a typed array. */
function constantData(attrs: AnyAttrs): Float32Array | Int32Array {
  const { values, shape, dtype } = attrs as { values: number | ArrayLike<number>; shape: readonly number[]; dtype: 'float32' | 'int32' };
  const size = shape.reduce((p, d) => p * d, 1);
  const Ctor = dtype === 'int32' ? Int32Array : Float32Array;
  return typeof values === 'number' ? new Ctor(size).fill(values) : Ctor.from(values);
}

const attrKey = (attrs: AnyAttrs): string => JSON.stringify(attrs, Object.keys(attrs).sort());

type Attr = Record<string, unknown>;
const intAttr = (name: string, i: number): Attr => ({ name, type: 2, i });
const intsAttr = (name: string, ints: readonly number[]): Attr => ({ name, type: 7, ints: [...ints] });

function tensorProto(name: string, dims: readonly number[], dtype: number, data: ArrayBufferView): Attr {
  return { name, dims: [...dims], dataType: dtype, rawData: bytesOf(data).slice() };
}

function valueInfo(name: string, dtype: DType, shape: readonly number[] | undefined, dimParams?: readonly (string | undefined)[]): Attr {
  const tensorType: Attr = { elemType: ONNX_DTYPE[dtype] };
  if (shape) {
    tensorType['shape'] = {
      dim: shape.map((d, i) => (d >= 0 ? { dimValue: d } : dimParams?.[i] ? { dimParam: dimParams[i] } : {})),
    };
  }
  return { name, type: { tensorType } };
}

/**
 * Lowers the graph that computes `outputs` to an ONNX model (opset 17). Equal subexpressions are
 * merged (common-subexpression elimination) first, which also yields the structural key.
 * @internal
 */
export function lowerGraph(outputs: readonly (readonly [string, OrtTensor])[], options: LowerOptions = {}): Lowered {
  const order = topologicalOrder(outputs.map(([, t]) => t));
  const freeze = options.freeze ?? new Set<OrtTensor>();

  // Canonical numbering with common-subexpression elimination.
  const canon = new Map<number, number>(); // tensor id -> canonical index
  const keyIndex = new Map<string, number>();
  const unique: OrtTensor[] = [];
  const keys: string[] = [];
  const inputNames = new Map<string, OrtTensor>();
  const autoNames = new Map<number, string>(); // tensor id -> positional name of an auto-named input
  const inputName = (t: OrtTensor): string => (t.node.kind === 'input' ? (autoNames.get(t.id) ?? t.node.name) : '');
  const largeConstants: Uint8Array[] = [];
  const constants = new Map<number, Float32Array | Int32Array>(); // constant values by tensor id, made once
  /** Values in the key: spelled out when small, else a hash (the bytes are kept for an exact check). */
  const spell = (data: ArrayLike<number> & ArrayBufferView): string => {
    if (data.length <= SPELLED_OUT) return Array.from(data).join(',');
    const bytes = bytesOf(data);
    largeConstants.push(bytes);
    return `#${hashBytes(bytes)}/${data.length}`;
  };
  for (const t of order) {
    let key: string;
    const node = t.node;
    if (node.kind === 'input') {
      const other = inputNames.get(node.name);
      if (other && other !== t) {
        throw new InvalidArgumentError('inputs', `two different inputs are named '${node.name}'; give each placeholder or tensor a unique name`);
      }
      inputNames.set(node.name, t);
      if (node.auto) autoNames.set(t.id, `mk.in${autoNames.size}`);
      if (freeze.has(t)) {
        if (!node.bound) throw new InvalidArgumentError('freeze', `input '${node.name}' has no bound values to store as an initialiser`);
        key = `frozen:${inputName(t)}:${t.dtype}:${t.shape.join(',')}:${spell(node.bound)}`;
      } else {
        key = `input:${inputName(t)}:${t.dtype}:${t.shape.join(',')}`;
      }
    } else if (node.op === 'constant') {
      const data = constantData(node.attrs);
      constants.set(t.id, data);
      key = `constant:${t.dtype}:${t.shape.join(',')}:${spell(data)}`;
    } else {
      key = `${node.op}(${node.inputs.map((i) => canon.get(i.id)).join(',')})${attrKey(node.attrs)}`;
    }
    let index = keyIndex.get(key);
    if (index === undefined) {
      index = unique.length;
      keyIndex.set(key, index);
      unique.push(t);
      keys.push(key);
    }
    canon.set(t.id, index);
  }
  for (const [outName] of outputs) {
    if (inputNames.has(outName))
      throw new InvalidArgumentError(`outputs.${outName}`, `'${outName}' is also the name of an input; give the output another name`);
  }
  const outputKey = outputs.map(([name, t]) => `${name}=${canon.get(t.id)}`).join(';');
  const key = `${keys.join('\n')}\n=> ${outputKey}`;
  const graphInputs = unique.flatMap((t) =>
    t.node.kind === 'input' && !freeze.has(t) ? [{ name: inputName(t), shape: t.shape, dtype: t.dtype, tensor: t }] : [],
  );
  return { key, model: () => buildModel(), inputs: graphInputs, outputs: outputs.map(([n]) => n), largeConstants };

  /** The rewrite and the emission, on a cache miss or an export. */
  function buildModel(): Record<string, unknown> {
    // Rewrite: a multiplication by an all-ones constant only broadcasts (the VJP of a reduction
    // writes the cotangent that way). Where every consumer is an elementwise op that broadcasts to
    // the same shape anyway, consumers read the smaller tensor and the [B, C]-sized copy is not made.
    const ref = unique.map((t) => (t.node.kind === 'op' ? t.node.inputs.map((x) => canon.get(x.id)!) : []));
    const consumers: number[][] = unique.map(() => []);
    ref.forEach((ins, i) => {
      for (const j of ins) consumers[j]!.push(i);
    });
    const outputSet = new Set(outputs.map(([, t]) => canon.get(t.id)!));
    unique.forEach((t, i) => {
      if (t.node.kind !== 'op' || t.node.op !== 'mul' || outputSet.has(i)) return;
      const slot = ref[i]!.findIndex((j) => isOnes(unique[j]!));
      if (slot < 0) return;
      const k = ref[i]![1 - slot]!;
      const eligible = consumers[i]!.every((c) => {
        const node = unique[c]!.node;
        if (node.kind !== 'op' || !ELEMENTWISE.has(node.op)) return false;
        const ins = ref[c]!;
        if (ins.filter((j) => j === i).length !== 1) return false;
        const other = ins.find((j) => j !== i)!;
        const shape = broadcastShapes(unique[k]!.shape, unique[other]!.shape);
        return shape !== undefined && shape.join() === unique[c]!.shape.join();
      });
      if (!eligible || consumers[i]!.length === 0) return;
      for (const c of consumers[i]!) {
        ref[c] = ref[c]!.map((j) => (j === i ? k : j));
        consumers[k]!.push(c);
      }
      consumers[i] = [];
    });
    // What the outputs still need after the rewrite.
    const live = new Set<number>();
    const stack = [...outputSet];
    while (stack.length > 0) {
      const i = stack.pop()!;
      if (live.has(i)) continue;
      live.add(i);
      stack.push(...ref[i]!);
    }

    // Emission.
    const nodes: Attr[] = [];
    const initializers: Attr[] = [];
    const inputInfos: Attr[] = [];
    const extra = new Map<string, string>(); // helper initialisers by content
    const name = (i: number): string => {
      const t = unique[i]!;
      return t.node.kind === 'input' ? inputName(t) : `mk.v${i}`;
    };
    const helper = (dtype: 'int64' | 'float32' | 'int32', values: readonly number[], dims: readonly number[]): string => {
      const k = `${dtype}:${dims.join(',')}:${values.join(',')}`;
      let n = extra.get(k);
      if (!n) {
        n = `mk.k${extra.size}`;
        extra.set(k, n);
        const data =
          dtype === 'int64' ? BigInt64Array.from(values.map((v) => BigInt(v))) : dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
        initializers.push(tensorProto(n, dims, ElemType[dtype], data));
      }
      return n;
    };
    let tmp = 0;
    const temp = (): string => `mk.t${tmp++}`;
    const emit = (opType: string, inputs: readonly string[], output: string, attribute: readonly Attr[] = []): string => {
      nodes.push({ opType, input: [...inputs], output: [output], ...(attribute.length > 0 ? { attribute: [...attribute] } : {}) });
      return output;
    };

    unique.forEach((t, i) => {
      const node = t.node;
      const out = name(i);
      if (!live.has(i) && node.kind !== 'input') return;
      if (node.kind === 'input') {
        if (freeze.has(t)) {
          initializers.push(tensorProto(out, t.shape, ONNX_DTYPE[t.dtype], node.bound!));
        } else {
          inputInfos.push(
            valueInfo(
              out,
              t.dtype,
              t.shape,
              t.shape.map((d, axis) => (d < 0 ? (axis === 0 ? 'batch' : `${out}_dim${axis}`) : undefined)),
            ),
          );
        }
        return;
      }
      const ins = ref[i]!.map(name);
      const a = node.attrs as Record<string, unknown>;
      const x = ins[0]!;
      switch (node.op) {
        case 'constant': {
          initializers.push(tensorProto(out, t.shape, ONNX_DTYPE[t.dtype], constants.get(t.id)!));
          return;
        }
        case 'matmul':
          emit('Gemm', ins, out, [intAttr('transA', a['transposeA'] ? 1 : 0), intAttr('transB', a['transposeB'] ? 1 : 0)]);
          return;
        case 'add':
        case 'sub':
        case 'mul':
        case 'div':
        case 'greater':
        case 'less':
        case 'where':
        case 'neg':
        case 'sqrt':
        case 'exp':
        case 'log':
        case 'cos':
        case 'sin':
        case 'acos':
        case 'floor':
          emit(node.op.charAt(0).toUpperCase() + node.op.slice(1), ins, out);
          return;
        case 'maximum':
          emit('Max', ins, out);
          return;
        case 'minimum':
          emit('Min', ins, out);
          return;
        case 'stopGradient':
          emit('Identity', ins, out);
          return;
        case 'clip':
          emit('Clip', [x, helper('float32', [a['min'] as number], []), helper('float32', [a['max'] as number], [])], out);
          return;
        case 'sum':
          emit('ReduceSum', [x, helper('int64', [a['axis'] as number], [1])], out, [intAttr('keepdims', a['keepDims'] ? 1 : 0)]);
          return;
        case 'mean':
        case 'max':
          emit(node.op === 'mean' ? 'ReduceMean' : 'ReduceMax', [x], out, [
            intsAttr('axes', [a['axis'] as number]),
            intAttr('keepdims', a['keepDims'] ? 1 : 0),
          ]);
          return;
        case 'logSumExp': {
          // m + log Σ exp(x − m), m the maximum along the axis: stable for any finite input.
          const axis = a['axis'] as number;
          const keep = a['keepDims'] ? 1 : 0;
          const m = emit('ReduceMax', [x], temp(), [intsAttr('axes', [axis]), intAttr('keepdims', 1)]);
          const shifted = emit('Exp', [emit('Sub', [x, m], temp())], temp());
          const s = emit('ReduceSum', [shifted, helper('int64', [axis], [1])], temp(), [intAttr('keepdims', keep)]);
          const mk = keep ? m : emit('ReduceMax', [x], temp(), [intsAttr('axes', [axis]), intAttr('keepdims', 0)]);
          emit('Add', [mk, emit('Log', [s], temp())], out);
          return;
        }
        case 'reshape': {
          const shape = a['shape'] as readonly number[];
          emit('Reshape', [x, helper('int64', shape, [shape.length])], out);
          return;
        }
        case 'gatherPerRow': {
          const idx = emit('Unsqueeze', [ins[1]!, helper('int64', [1], [1])], temp());
          const g = emit('GatherElements', [x, idx], temp(), [intAttr('axis', 1)]);
          emit('Reshape', [g, helper('int64', [-1], [1])], out);
          return;
        }
        case 'oneHot': {
          // (indices[:, None] == range(depth)) as float: Equal on int32 runs on every ORT execution provider.
          const depth = a['depth'] as number;
          const range = emit('Range', [helper('int32', [0], []), helper('int32', [depth], []), helper('int32', [1], [])], temp());
          const idx = emit('Unsqueeze', [x, helper('int64', [1], [1])], temp());
          emit('Cast', [emit('Equal', [idx, range], temp())], out, [intAttr('to', ElemType.float32)]);
          return;
        }
        case 'cast':
          emit('Cast', ins, out, [intAttr('to', ONNX_DTYPE[a['dtype'] as DType])]);
          return;
        default:
          throw new UnsupportedOpError(node.op, `has no ONNX lowering (shape ${formatShape(t.shape)})`);
      }
    });

    const outputInfos = outputs.map(([outName, t]) => {
      emit('Identity', [name(canon.get(t.id)!)], outName);
      return valueInfo(outName, t.dtype, t.shape);
    });
    return {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'marginkit',
      graph: { name: 'marginkit', node: nodes, initializer: initializers, input: inputInfos, output: outputInfos },
    };
  }
}

/** The bytes of bound input data, for feeding. @internal */
export function boundData(t: OrtTensor): InputData | undefined {
  return t.node.kind === 'input' ? t.node.bound : undefined;
}
