import type { DType } from '@marginkit/core';
import { skipOnesBroadcasts } from './broadcast-rewrite.js';
import { fuseElementwise } from './fuse-rewrite.js';
import type { InputData, OrtTensor } from './graph.js';
import type { ProtoObject } from './onnx.js';
import { emitModel } from './onnx-emit.js';
import { canonicalize } from './structural-key.js';

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
  model(): ProtoObject;
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

/**
 * Lowers the graph that computes `outputs` to an ONNX model (opset 17). Equal subexpressions are
 * merged (common-subexpression elimination) first, which also yields the structural key; the model
 * itself (rewrites, then each op's lowering rule) is built only when asked for.
 * @internal
 */
export function lowerGraph(outputs: readonly (readonly [string, OrtTensor])[], options: LowerOptions = {}): Lowered {
  const freeze = options.freeze ?? new Set<OrtTensor>();
  const graph = canonicalize(outputs, freeze);
  const inputs = graph.unique.flatMap((t) =>
    t.node.kind === 'input' && !freeze.has(t) ? [{ name: graph.inputName(t), shape: t.shape, dtype: t.dtype, tensor: t }] : [],
  );
  return {
    key: graph.key,
    model: () => {
      const roots = outputs.map(([, t]) => t);
      return emitModel(graph, fuseElementwise(graph, skipOnesBroadcasts(graph, roots), roots), outputs, freeze);
    },
    inputs,
    outputs: outputs.map(([n]) => n),
    largeConstants: graph.largeConstants,
  };
}

/** The bytes of bound input data, for feeding. @internal */
export function boundData(t: OrtTensor): InputData | undefined {
  return t.node.kind === 'input' ? t.node.bound : undefined;
}
