import type { DType, OpName, OpSignatures, Ops } from '@marginkit/core';
import type { OrtTensor } from '../graph.js';
import type { ProtoObject } from '../onnx.js';

/** The tensor inputs of op `K`, a tuple. @internal */
export type OpInputs<K extends OpName> = OpSignatures<OrtTensor>[K]['inputs'];

/** The static attributes of op `K`. @internal */
export type OpAttrs<K extends OpName> = OpSignatures<OrtTensor>[K]['attrs'];

/** The ONNX value names of op `K`'s inputs, one per input. @internal */
export type InputNames<K extends OpName> = NamesOf<OpInputs<K>>;

/** A tuple of strings as long as the tuple `T` (a homomorphic mapped type keeps the tuple). */
type NamesOf<T> = { readonly [I in keyof T]: string };

/** The static shape (−1 where unknown) and dtype of an op's output. @internal */
export interface Inferred {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** What a lowering rule writes the ONNX graph with. @internal */
export interface OnnxWriter {
  /** Appends a node computing `output` from `inputs`; returns `output`. */
  node(opType: string, inputs: readonly string[], output: string, attributes?: readonly ProtoObject[]): string;
  /** A fresh name for an intermediate value. */
  temp(): string;
  /** A constant stored once per content as an initialiser; returns its name. */
  constant(dtype: 'int64' | 'float32' | 'int32', values: readonly number[], dims: readonly number[]): string;
  /** Stores `data` as the initialiser named `name`. */
  initializer(name: string, dims: readonly number[], dtype: DType, data: ArrayBufferView): void;
}

/**
 * Everything the ONNX Runtime backend knows about one op, in one place (as tfjs's kernel configs);
 * the output's static shape and dtype are core's (`OP_SPECS[op].infer`, see {@link inferOp}):
 *
 * - `lower`: the ONNX nodes (opset 17) that compute it;
 * - `vjp`: the vector-Jacobian rule — given the inputs, attributes, output and the cotangent `g` of
 *   the output, the cotangents of the inputs (`undefined` where no gradient flows). Written with
 *   the op set itself, so gradient graphs lower like any other graph.
 * @internal
 */
export interface OpRule<K extends OpName> {
  readonly lower: (onnx: OnnxWriter, inputs: InputNames<K>, attrs: OpAttrs<K>, output: string) => void;
  readonly vjp: (o: Ops<OrtTensor>, inputs: OpInputs<K>, attrs: OpAttrs<K>, out: OrtTensor, g: OrtTensor) => readonly (OrtTensor | undefined)[];
}

/** A rule for every op: a missing or partial entry does not compile. @internal */
export type OpRules = { readonly [K in OpName]: OpRule<K> };

/** Some of the rules, for a file holding one family of ops. @internal */
export type OpRuleFamily<K extends OpName> = { readonly [P in K]: OpRule<P> };

/** The VJP of an op no gradient flows through (comparisons, floor, oneHot, stopGradient, constants). @internal */
export const noGradient = (): readonly (OrtTensor | undefined)[] => [];
