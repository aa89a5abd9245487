import { InvalidBackendError } from './errors.js';
import { type DType, OP_NAMES, type TensorOps } from './ops.js';

/** What a backend can do beyond the op set. */
export interface BackendCapabilities {
  /** Gradients of the traced/eager computation are available (from the framework or from VJP rules). */
  readonly gradients: boolean;
  /**
   * Tensor values can be read synchronously (`readSync`), which enables value checks on inputs:
   * labels in range, finite embeddings. Symbolic backends check values when data is fed instead.
   */
  readonly eagerValues: boolean;
}

/**
 * A marginkit backend: a plain, versioned plugin object. Create one with a backend package
 * (`tfjsBackend(tf)` from `@marginkit/backend-tfjs`), or write your own against this contract
 * and check it with the conformance suite in `@marginkit/core/testing`.
 *
 * @typeParam T - the backend's tensor type.
 * @typeParam S - its scalar type (tfjs: `tf.Scalar`), what reduced losses are typed as; `T` by default.
 *
 * @example
 * ```ts
 * import { isBackend } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * const backend = tfjsBackend(tf);
 * console.log(backend.specificationVersion, backend.name, isBackend(backend)); // 'v1' 'tfjs' true
 * ```
 */
export interface Backend<T, S extends T = T> {
  /** The contract version this backend implements. */
  readonly specificationVersion: 'v1';
  /** A short name for messages, e.g. `'tfjs'` or `'ort'`. */
  readonly name: string;
  /** The op implementations. */
  readonly ops: TensorOps<T>;
  /** What the backend supports beyond the op set. */
  readonly supports: BackendCapabilities;
  /** True when `value` is a tensor of this backend. */
  isTensor(value: unknown): value is T;
  /** The static shape of a tensor; −1 marks a dimension a symbolic backend does not know yet. */
  shape(tensor: T): readonly number[];
  /**
   * The dtype of a tensor. For a tensor of a dtype marginkit does not take (tfjs string, complex64)
   * it throws a `DTypeError`; core re-throws it naming the argument the tensor was passed as.
   */
  dtype(tensor: T): DType;
  /**
   * True when a tensor of this backend has been released (tfjs: `isDisposed`); core checks it
   * before every op and loss, and throws an `InvalidArgumentError` naming the argument.
   * Optional: backends whose tensors cannot be released omit it.
   */
  isDisposed?(tensor: T): boolean;
  /** The values of a tensor, when `supports.eagerValues`; used for input validation and small state. */
  readSync?(tensor: T): ArrayLike<number>;
  /**
   * The values of a concrete tensor, asynchronously (tfjs: `data()`; ORT: a bound input's values).
   * Heads use it to save their centres.
   */
  read?(tensor: T): Promise<ArrayLike<number>>;
  /**
   * A trainable tensor holding `values` (tfjs: a `tf.Variable`, which optimizers update; ORT: a
   * bound input). Heads that own their centres make them with it, and with a constant without it.
   */
  variable?(values: Float32Array, shape: readonly number[]): T;
  /**
   * A float32 tensor that reads `values` in place, not a copy: what is written to `values` later is
   * what the next computation reads (ORT: a bound input over the array itself). Only backends whose
   * tensors are host memory have it. A trainer that updates its parameters in host memory of its
   * own (a WebAssembly memory, say) hands them to the backend this way.
   */
  share?(values: Float32Array, shape: readonly number[]): T;
  /** Releases one tensor made by `variable` when its owner replaces it (tfjs: `tensor.dispose()`). */
  disposeTensor?(tensor: T): void;
  /**
   * The value of a scalar function and its gradients with respect to each of `xs`, read into
   * JavaScript (tfjs: `tf.valueAndGrads`; ORT: the traced VJP graph, run once). Used where a
   * caller applies its own update, as Partial FC's sparse optimizer does.
   */
  valueAndGradients?(
    f: (...xs: T[]) => T,
    xs: readonly T[],
  ): Promise<{
    /** The value of `f`. */
    readonly value: number;
    /** d f / d xs[i], row-major, one per input. */
    readonly gradients: Float32Array[];
  }>;
  /**
   * The outputs of `f` on `xs`, read into JavaScript as float32, each an array of its own (tfjs:
   * computed in a tidy and read with `data()`; ORT: the traced graph, run once). Where it is
   * missing, the chunked loss reads its per-chunk statistics through `valueAndGradients` instead
   * (as gradients of zero probes), which adds passes over each output.
   */
  compute?(f: (...xs: T[]) => readonly T[], xs: readonly T[]): Promise<Float32Array[]>;
  /** Types a rank-0 tensor as the backend's scalar type `S` (tfjs: `tf.Scalar`); throws for other ranks. */
  asScalar?(tensor: T): S;
}

/**
 * True when `value` has the shape of a v1 marginkit backend.
 *
 * @example
 * ```ts
 * import { isBackend } from '@marginkit/core';
 * console.log(isBackend({})); // false
 * ```
 */
export function isBackend(value: unknown): value is Backend<unknown> {
  return missingBackendParts(value).length === 0;
}

function missingBackendParts(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['an object'];
  const v = value as Record<string, unknown>;
  const missing: string[] = [];
  if (v['specificationVersion'] !== 'v1') missing.push("specificationVersion 'v1'");
  if (typeof v['name'] !== 'string') missing.push('name');
  for (const fn of ['isTensor', 'shape', 'dtype'] as const) {
    if (typeof v[fn] !== 'function') missing.push(`${fn}()`);
  }
  const supports = v['supports'];
  if (typeof supports !== 'object' || supports === null) missing.push('supports');
  const ops = v['ops'];
  if (typeof ops !== 'object' || ops === null) {
    missing.push('ops');
  } else {
    const o = ops as Record<string, unknown>;
    const lacking = OP_NAMES.filter((name) => typeof o[name] !== 'function');
    if (lacking.length > 0) missing.push(`ops.${lacking.join(', ops.')}`);
  }
  return missing;
}

/**
 * Throws an {@link InvalidBackendError} listing every missing part unless `value` is a v1 backend.
 *
 * @param value - the object to check.
 * @param argument - the argument name for the error message.
 *
 * @example
 * ```ts
 * import { assertBackend } from '@marginkit/core';
 * try {
 *   assertBackend({ name: 'mine' });
 * } catch (e) {
 *   console.log((e as Error).message); // backend: not a marginkit v1 backend; missing: ...
 * }
 * ```
 */
export function assertBackend<T>(value: Backend<T> | unknown, argument = 'backend'): asserts value is Backend<T> {
  const missing = missingBackendParts(value);
  if (missing.length > 0) {
    const hint =
      typeof value === 'object' && value !== null && 'tensor' in value && 'tidy' in value
        ? ' (this looks like the tfjs module itself: wrap it with tfjsBackend(tf) from @marginkit/backend-tfjs)'
        : '';
    throw new InvalidBackendError(argument, `not a marginkit v1 backend${hint}; missing: ${missing.join('; ')}`);
  }
}
