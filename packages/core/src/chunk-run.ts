/**
 * Running a chunk's computation and reading [B]-sized results back, on any backend: through
 * `valueAndGradients` where the backend has it (tfjs releases every intermediate tensor, ONNX
 * Runtime traces, compiles once per structure and runs), else eagerly with `readSync` (the float64
 * reference backend).
 *
 * @packageDocumentation
 */
import type { Backend } from './backend.js';
import type { Ops } from './create-ops.js';
import { InvalidBackendError } from './errors.js';

/** Input tensors made from host values for one call, released together. @internal */
export interface HostInputs<T> {
  /**
   * A float32 tensor holding `values`: a bound graph input on symbolic backends, not a constant.
   * (A backend without `variable` gets a constant of the values as given: float64 on the reference.)
   */
  input(values: ArrayLike<number>, shape: readonly number[]): T;
  /** Releases every tensor made since the last release. */
  release(): void;
}

/** @internal */
export function hostInputs<T>(ops: Ops<T>): HostInputs<T> {
  const { backend } = ops;
  const made: T[] = [];
  return {
    input(values, shape) {
      // `variable` is a bound input on ORT (fed, so the graph does not change with the values) and a
      // tf.Variable on tfjs; a backend without it (the reference) gets a constant.
      const t = backend.variable ? backend.variable(new Float32Array(values), shape) : ops.constant(Array.from(values), shape);
      made.push(t);
      return t;
    },
    release() {
      for (const t of made.splice(0)) backend.disposeTensor?.(t);
    },
  };
}

/** What {@link evaluate} computes: outputs to read, and optionally a scalar to differentiate. @internal */
export interface Evaluation<T> {
  /** Tensors to read, of the shapes given to {@link evaluate}. */
  readonly outputs: readonly T[];
  /** A scalar whose gradients with respect to the differentiated inputs are returned. */
  readonly objective?: T;
}

/**
 * Runs `f` on the tensors `wrt` and reads its outputs (whose shapes are given) and, when
 * `gradients`, the gradients of its objective with respect to each of `wrt`. With
 * `valueAndGradients`, the outputs are read as gradients: ∂/∂u Σ u·o = o for a zero probe u of
 * o's shape, exactly, so one call (one compiled session on ONNX Runtime) yields both.
 * @internal
 */
export async function evaluate<T>(
  ops: Ops<T>,
  host: HostInputs<T>,
  f: (...xs: T[]) => Evaluation<T>,
  wrt: readonly T[],
  shapes: readonly (readonly number[])[],
  gradients: boolean,
): Promise<{ outputs: Float64Array[]; gradients: Float32Array[] }> {
  const { backend } = ops;
  if (backend.valueAndGradients) {
    const probes = shapes.map((shape) => host.input(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape));
    const n = gradients ? wrt.length : 0;
    const run = (...xs: T[]): T => {
      const { outputs, objective } = f(...(gradients ? xs.slice(0, n) : wrt));
      let total = gradients && objective !== undefined ? objective : ops.scalar(0);
      // A zero-weighted sum keeps every differentiated input on the path (tfjs rejects an unused one).
      for (const x of xs.slice(0, n)) total = ops.add(total, ops.mul(flatSum(ops, x), ops.scalar(0)));
      outputs.forEach((o, i) => {
        total = ops.add(total, flatSum(ops, ops.mul(ops.reshape(probes[i]!, [-1]), ops.reshape(o, [-1]))));
      });
      return total;
    };
    const result = await backend.valueAndGradients(run, [...(gradients ? wrt : []), ...probes]);
    return { outputs: result.gradients.slice(n).map((g) => Float64Array.from(g)), gradients: result.gradients.slice(0, n) };
  }
  if (gradients) throw new InvalidBackendError('backend', `backend '${backend.name}' has no valueAndGradients(f, xs); the chunked loss needs it for gradients`);
  if (!backend.readSync) {
    throw new InvalidBackendError(
      'backend',
      `backend '${backend.name}' has neither valueAndGradients(f, xs) nor readSync; the chunked loss cannot read its statistics`,
    );
  }
  const { outputs } = f(...wrt);
  return { outputs: outputs.map((o) => Float64Array.from(backend.readSync!(o))), gradients: [] };
}

/** Σ of every entry, as a scalar. */
function flatSum<T>(ops: Ops<T>, x: T): T {
  return ops.sum(ops.reshape(x, [-1]), 0);
}

/** True when the backend can take gradients the way the chunked loss needs. @internal */
export function canDifferentiate<T>(backend: Backend<T>): boolean {
  return typeof backend.valueAndGradients === 'function';
}
