import { type DType, InternalError } from '@marginkit/core';
import protobuf from 'protobufjs';
import { ONNX_PROTO } from './onnx-schema.generated.js';

/** ONNX TensorProto.DataType codes used here. @internal */
export const ElemType = { float32: 1, int32: 6, int64: 7, bool: 9 } as const;

/** The ONNX element type of each marginkit dtype. @internal */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = { float32: ElemType.float32, int32: ElemType.int32, bool: ElemType.bool };

/** A message of a ModelProto as a plain object (camelCase field names), for {@link encodeModel}. @internal */
export type ProtoObject = Record<string, unknown>;

/** An INT node attribute. @internal */
export const intAttr = (name: string, i: number): ProtoObject => ({ name, type: 2, i });
/** An INTS node attribute. @internal */
export const intsAttr = (name: string, ints: readonly number[]): ProtoObject => ({ name, type: 7, ints: [...ints] });
/** A string attribute (ONNX's AttributeProto type 3, UTF-8 bytes). @internal */
export const strAttr = (name: string, value: string): ProtoObject => ({ name, type: 3, s: new TextEncoder().encode(value) });

/** The bytes of a typed array (a view, not a copy). @internal */
export const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A TensorProto holding a copy of `data`'s bytes. @internal */
export function tensorProto(name: string, dims: readonly number[], dtype: number, data: ArrayBufferView): ProtoObject {
  return { name, dims: [...dims], dataType: dtype, rawData: bytesOf(data).slice() };
}

/** A ValueInfoProto of a tensor; a dimension < 0 is named by `dimParams` or left open. @internal */
export function valueInfo(name: string, dtype: DType, shape: readonly number[] | undefined, dimParams?: readonly (string | undefined)[]): ProtoObject {
  const tensorType: ProtoObject = { elemType: ONNX_DTYPE[dtype] };
  if (shape) {
    tensorType['shape'] = {
      dim: shape.map((d, i) => (d >= 0 ? { dimValue: d } : dimParams?.[i] ? { dimParam: dimParams[i] } : {})),
    };
  }
  return { name, type: { tensorType } };
}

/**
 * The ONNX opset (default domain) of every model the backend writes.
 *
 * @example
 * ```ts
 * import { OPSET } from '@marginkit/backend-ort';
 * console.log(OPSET); // 17
 * ```
 */
export const OPSET = 17;
/**
 * The ONNX IR version of every model the backend writes (IR 8 goes with opset 17).
 *
 * @example
 * ```ts
 * import { IR_VERSION } from '@marginkit/backend-ort';
 * console.log(IR_VERSION); // 8
 * ```
 */
export const IR_VERSION = 8;

/** The ModelProto message type, parsed from the vendored schema on first use. */
const modelType = (() => {
  let type: protobuf.Type | undefined;
  return (): protobuf.Type => {
    type ??= protobuf.parse(ONNX_PROTO, { keepCase: false }).root.lookupType('onnx.ModelProto');
    return type;
  };
})();

/** Encodes a ModelProto given as a plain object (camelCase field names). @internal */
export function encodeModel(model: ProtoObject): Uint8Array {
  const type = modelType();
  const problem = type.verify(model);
  // The lowering wrote a model the schema rejects: a bug of this package, not of the caller's graph.
  if (problem) throw new InternalError(`@marginkit/backend-ort lowered an invalid ONNX model: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** The parts of a decoded ModelProto that tests look at. @internal */
export interface DecodedModel {
  readonly irVersion?: number;
  readonly opsetImport?: readonly { readonly domain?: string; readonly version?: number }[];
  readonly graph?: {
    readonly node?: readonly { readonly opType: string; readonly input?: readonly string[]; readonly output?: readonly string[] }[];
    readonly input?: readonly { readonly name: string; readonly type?: unknown }[];
    readonly output?: readonly { readonly name: string; readonly type?: unknown }[];
    readonly initializer?: readonly { readonly name: string }[];
  };
}

/** Decodes ONNX bytes into a plain object (for tests and inspection). @internal */
export function decodeModel(bytes: Uint8Array): DecodedModel {
  const type = modelType();
  return type.toObject(type.decode(bytes), { longs: Number, bytes: Array, defaults: false });
}
