import { type DType, type OpName, type OpSignatures, formatShape } from '@marginkit/core';

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
  | OpNode;

/** A recorded op: its name, input tensors and attributes (of that op's signature, narrowed by `op`). @internal */
export type OpNode = {
  readonly [K in OpName]: {
    readonly kind: 'op';
    readonly op: K;
    readonly inputs: readonly OrtTensor[];
    readonly attrs: OpSignatures<OrtTensor>[K]['attrs'];
  };
}[OpName];

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
