import { type DType, type OpName, type OpSignatures, ShapeError, broadcastShapes } from '@marginkit/core';

/** The attributes of any op. @internal */
export type AnyAttrs = OpSignatures<OrtTensor>[OpName]['attrs'];

/** Values bound to an input: row-major data of the input's dtype. */
export type InputData = Float32Array | Int32Array | Uint8Array;

/** What produced a symbolic tensor: a graph input, or an op applied to other tensors. @internal */
export type GraphNode =
  | {
      readonly kind: 'input';
      /** The input's name in the ONNX graph. */
      readonly name: string;
      /** Values fed when the caller gives none (tensors made with `backend.tensor`). */
      readonly bound: InputData | undefined;
      /**
       * The name was made up by the backend (a bound tensor given no name): the lowering renames
       * it by position (`mk.in0`, …), so that traces that differ only in such names share a session.
       */
      readonly auto?: boolean;
    }
  | { readonly kind: 'op'; readonly op: OpName; readonly inputs: readonly OrtTensor[]; readonly attrs: AnyAttrs };

const BRAND = Symbol('marginkit.ort.tensor');

/**
 * A symbolic tensor of the ONNX Runtime backend: a value in a graph that is being traced, with a
 * static shape (−1 for a dimension known only when data is fed, such as the batch) and a dtype.
 * Ops on it record nodes; nothing runs until the graph is compiled and fed
 * ({@link OrtBackend.run}, {@link OrtBackend.compile}).
 *
 * @example
 * ```ts
 * import { ortBackend } from '@marginkit/backend-ort';
 * import * as ort from 'onnxruntime-node';
 * const backend = ortBackend(ort);
 * const x = backend.placeholder('embeddings', [-1, 512]);
 * console.log(x.shape, x.dtype, backend.isTensor(x)); // [-1, 512] 'float32' true
 * ```
 */
export class OrtTensor {
  /** @internal */
  readonly [BRAND] = true;
  /** @internal */
  readonly id: number;
  /** The static shape; −1 marks a dimension that is known only when data is fed. */
  readonly shape: readonly number[];
  /** The element type. */
  readonly dtype: DType;
  /** @internal */
  readonly node: GraphNode;
  /** @internal */
  readonly owner: object;

  /** @internal */
  constructor(owner: object, id: number, shape: readonly number[], dtype: DType, node: GraphNode) {
    this.owner = owner;
    this.id = id;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.node = node;
  }

  /** A short description, e.g. `OrtTensor(float32 [?, 512])`. */
  toString(): string {
    return `OrtTensor(${this.dtype} ${formatShape(this.shape)})`;
  }
}

/** True when `value` is a symbolic tensor of this package. @internal */
export function isOrtTensor(value: unknown): value is OrtTensor {
  return typeof value === 'object' && value !== null && BRAND in value;
}

/** `[?, 512]` style. @internal */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.map((d) => (d < 0 ? '?' : String(d))).join(', ')}]`;
}

/** The static output shape and dtype of an op, from its inputs and attributes. @internal */
export function inferOp(op: OpName, inputs: readonly OrtTensor[], attrs: AnyAttrs): { shape: readonly number[]; dtype: DType } {
  const a = inputs[0];
  const b = inputs[1];
  const at = attrs as Record<string, unknown>;
  switch (op) {
    case 'constant':
      return { shape: at['shape'] as number[], dtype: at['dtype'] as DType };
    case 'matmul': {
      const [a0, a1] = a!.shape;
      const [b0, b1] = b!.shape;
      return { shape: [at['transposeA'] ? a1! : a0!, at['transposeB'] ? b0! : b1!], dtype: 'float32' };
    }
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
    case 'maximum':
    case 'minimum':
    case 'greater':
    case 'less': {
      const shape = broadcastShapes(a!.shape, b!.shape);
      if (!shape) throw new ShapeError(`${op}.b`, `shape ${formatShape(b!.shape)} does not broadcast with ${formatShape(a!.shape)}`);
      return { shape, dtype: op === 'greater' || op === 'less' ? 'bool' : a!.dtype };
    }
    case 'where':
      return { shape: inputs[1]!.shape, dtype: inputs[1]!.dtype };
    case 'sum':
    case 'mean':
    case 'max':
    case 'logSumExp': {
      const axis = at['axis'] as number;
      const shape = at['keepDims'] ? a!.shape.map((d, i) => (i === axis ? 1 : d)) : a!.shape.filter((_, i) => i !== axis);
      return { shape, dtype: 'float32' };
    }
    case 'reshape':
      return { shape: reshapeTarget(a!.shape, at['shape'] as readonly number[]), dtype: a!.dtype };
    case 'gatherPerRow':
      return { shape: [a!.shape[0]!], dtype: 'float32' };
    case 'oneHot':
      return { shape: [a!.shape[0]!, at['depth'] as number], dtype: 'float32' };
    case 'cast':
      return { shape: a!.shape, dtype: at['dtype'] as DType };
    default:
      // neg, sqrt, exp, log, cos, sin, acos, floor, clip, stopGradient
      return { shape: a!.shape, dtype: a!.dtype };
  }
}

/** The static shape after a reshape: −1 is inferred when every input dimension is known. */
function reshapeTarget(from: readonly number[], to: readonly number[]): number[] {
  const hole = to.indexOf(-1);
  if (hole < 0 || from.includes(-1)) return [...to];
  const total = from.reduce((p, d) => p * d, 1);
  const rest = to.reduce((p, d, i) => (i === hole ? p : p * d), 1);
  return to.map((d, i) => (i === hole ? (rest === 0 ? 0 : total / rest) : d));
}

/** The nodes `outputs` depend on, inputs before users, in a deterministic order. @internal */
export function topologicalOrder(outputs: readonly OrtTensor[]): OrtTensor[] {
  const order: OrtTensor[] = [];
  const seen = new Set<number>();
  // Iterative post-order DFS: graphs of gradients can be deep.
  const stack: { t: OrtTensor; next: number }[] = [];
  for (const out of outputs) {
    if (seen.has(out.id)) continue;
    seen.add(out.id);
    stack.push({ t: out, next: 0 });
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const ins = top.t.node.kind === 'op' ? top.t.node.inputs : [];
      if (top.next < ins.length) {
        const child = ins[top.next++]!;
        if (!seen.has(child.id)) {
          seen.add(child.id);
          stack.push({ t: child, next: 0 });
        }
      } else {
        order.push(top.t);
        stack.pop();
      }
    }
  }
  return order;
}
