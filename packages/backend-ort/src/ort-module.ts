import { InvalidBackendError } from '@marginkit/core';

/**
 * A tensor value of ONNX Runtime, as `ort.Tensor` of onnxruntime-web or onnxruntime-node has it.
 * Only these members are used, so tensors from either package (or any object like them) work.
 */
export interface OrtValue {
  /** The element type, e.g. `'float32'`, `'int32'`, `'bool'`. */
  readonly type: string;
  /** The values, row-major. */
  readonly data: unknown;
  /** The dimensions. */
  readonly dims: readonly number[];
}

/** An InferenceSession as the backend uses it (the onnxruntime-common API). */
export interface OrtSessionLike {
  /** Runs the model on named inputs. */
  run(feeds: Record<string, OrtValue>): Promise<Record<string, OrtValue>>;
  /** Releases the session's native resources. */
  release(): Promise<void>;
}

/**
 * The parts of the `onnxruntime-web` or `onnxruntime-node` module the backend uses. Pass the
 * module itself: `import * as ort from 'onnxruntime-node'`.
 */
export interface OrtModule {
  /** Creates sessions from model bytes. */
  readonly InferenceSession: {
    /** `InferenceSession.create(bytes, options)`. */
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike>;
  };
  /** The tensor constructor, `new ort.Tensor(type, data, dims)`. */
  readonly Tensor: OrtTensorConstructor;
}

/** `ort.Tensor` as the backend constructs it. */
export interface OrtTensorConstructor {
  /** A tensor of `type` with row-major `data` and dimensions `dims`. */
  new (type: 'float32' | 'int32' | 'bool', data: Float32Array | Int32Array | Uint8Array, dims: readonly number[]): OrtValue;
}

const MODULE_PARTS = ['InferenceSession.create', 'Tensor'] as const;

/** Throws an InvalidBackendError (argument `ort`) naming what is missing when `ort` is not an ONNX Runtime module. @internal */
export function checkModule(ort: unknown): asserts ort is OrtModule {
  if (typeof ort !== 'object' || ort === null) {
    throw new InvalidBackendError('ort', `expected the onnxruntime-web or onnxruntime-node module, got ${ort === null ? 'null' : typeof ort}`);
  }
  const o = ort as Record<string, unknown>;
  const session = o['InferenceSession'] as Record<string, unknown> | undefined;
  const missing: string[] = [];
  if (typeof session !== 'function' && (typeof session !== 'object' || session === null)) missing.push('InferenceSession.create');
  else if (typeof session['create'] !== 'function') missing.push('InferenceSession.create');
  if (typeof o['Tensor'] !== 'function') missing.push('Tensor');
  if (missing.length > 0) {
    const hint = 'tidy' in o && 'tensor' in o ? ' (this looks like TensorFlow.js: use tfjsBackend from @marginkit/backend-tfjs)' : '';
    throw new InvalidBackendError(
      'ort',
      `not an ONNX Runtime module${hint}: looked for ${MODULE_PARTS.join(', ')}; missing ${missing.join(', ')}. Pass the module itself: import * as ort from 'onnxruntime-node' (or 'onnxruntime-web')`,
    );
  }
}
