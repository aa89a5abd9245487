import protobuf from 'protobufjs';
import { ONNX_PROTO } from './onnx-schema.generated.js';

/** ONNX TensorProto.DataType codes used here. @internal */
export const ElemType = { float32: 1, int32: 6, int64: 7, bool: 9 } as const;

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
export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const type = modelType();
  const problem = type.verify(model);
  if (problem) throw new Error(`internal: invalid ONNX model object: ${problem}`);
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
