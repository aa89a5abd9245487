import { OP_SPECS, type OpInputSpec, type OpName, type OpSpec, type Ops } from '@marginkit/core';
import type { OpNode, OrtTensor } from '../graph.js';
import { BINARY_RULES } from './binary.js';
import { CONSTANT_RULES } from './constant.js';
import { INDEXING_RULES } from './indexing.js';
import { MATMUL_RULES } from './matmul.js';
import type { InputNames, Inferred, OnnxWriter, OpAttrs, OpInputs, OpRules } from './op-rule.js';
import { REDUCTION_RULES } from './reductions.js';
import { RESHAPE_RULES } from './reshape.js';
import { UNARY_RULES } from './unary.js';

/**
 * ONNX lowering and vector-Jacobian rule of every op of the op set, one entry per op (shape
 * inference is core's, {@link inferOp}). Typed as {@link OpRules}, so an op added to core's op set without a complete rule here does
 * not compile. @internal
 */
export const OP_RULES: OpRules = {
  ...CONSTANT_RULES,
  ...MATMUL_RULES,
  ...BINARY_RULES,
  ...UNARY_RULES,
  ...REDUCTION_RULES,
  ...RESHAPE_RULES,
  ...INDEXING_RULES,
};

/** Core's op table seen with generic input lists, so that one op's inputs and attributes go together. */
const SPECS: { readonly [K in OpName]: OpSpec<readonly OpInputSpec[], OpAttrs<K>> } = OP_SPECS;

/**
 * The output shape and dtype of op `op` applied to `inputs` with `attrs` (already checked and
 * normalised by core's `createOps`): core's `OP_SPECS[op].infer`, the op set's one shape rule. @internal
 */
export function inferOp<K extends OpName>(op: K, inputs: OpInputs<K>, attrs: OpAttrs<K>): Inferred {
  return SPECS[op].infer(inputs, attrs);
}

/** Writes the ONNX nodes of a recorded op node, reading inputs `inputNames` and writing `output`. @internal */
export function lowerNode(onnx: OnnxWriter, node: OpNode, inputNames: readonly string[], output: string): void {
  lowerAs(node.op, onnx, node, inputNames, output);
}

/** The cotangents of a recorded op node's inputs, given the cotangent `g` of its output `out`. @internal */
export function nodeVjp(o: Ops<OrtTensor>, node: OpNode, out: OrtTensor, g: OrtTensor): readonly (OrtTensor | undefined)[] {
  return vjpAs(node.op, o, node, out, g);
}

// A recorded node holds its op's inputs and attributes (the tracer made it with `inferOp`'s types):
// these two narrow them back to the op's own types, the one place the correlation is restated.
function lowerAs<K extends OpName>(op: K, onnx: OnnxWriter, node: OpNode, inputNames: readonly string[], output: string): void {
  OP_RULES[op].lower(onnx, inputNames as InputNames<K>, node.attrs as OpAttrs<K>, output);
}

function vjpAs<K extends OpName>(op: K, o: Ops<OrtTensor>, node: OpNode, out: OrtTensor, g: OrtTensor): readonly (OrtTensor | undefined)[] {
  return OP_RULES[op].vjp(o, node.inputs as OpInputs<K>, node.attrs as OpAttrs<K>, out, g);
}
