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
import { InternalError, InvalidBackendError } from './errors.js';

/** Input tensors made from host values for one call, released together. @internal */
export interface HostInputs<T> {
  /**
   * A float32 tensor holding `values`: a bound graph input on symbolic backends, not a constant.
   * (A backend without `variable` gets a constant of the values as given: float64 on the reference.)
   */
  input(values: ArrayLike<number>, shape: readonly number[]): T;
  /**
   * A float32 tensor reading `values` in place where the backend can (`share`, ONNX Runtime): the
   * caller keeps `values` unchanged until {@link HostInputs.release}. Elsewhere as `input`.
   */
  shared(values: Float32Array, shape: readonly number[]): T;
  /** Releases every tensor made since the last release. */
  release(): void;
}

/** @internal */
export function hostInputs<T>(ops: Ops<T>): HostInputs<T> {
  const { backend } = ops;
  const made: T[] = [];
  return {
    input(values, shape) {
      // A bound input on ORT (fed, so the graph does not change with the values): the float32 copy
      // made here is the one it reads (`share`; `variable` would copy it again). A tf.Variable on
      // tfjs; a backend with neither (the reference) gets a constant.
      const own = (): Float32Array => new Float32Array(values);
      const t = backend.share ? backend.share(own(), shape) : backend.variable ? backend.variable(own(), shape) : ops.constant(Array.from(values), shape);
      made.push(t);
      return t;
    },
    shared(values, shape) {
      if (!backend.share) return this.input(values, shape);
      const t = backend.share(values, shape);
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
 * `gradients`, the gradients of its objective with respect to each of `wrt`. Without gradients,
 * the backend's `compute` reads the outputs where it has one. With
 * `valueAndGradients`, the outputs are read as gradients: ∂/∂u Σ u·o = o for a zero probe u of
 * o's shape, exactly, so one call (one compiled session on ONNX Runtime) yields both. The last
 * `raw` outputs come back as float32 in `raw` (large ones: no float64 copy), the others in `outputs`.
 * @internal
 */
export async function evaluate<T>(
  ops: Ops<T>,
  host: HostInputs<T>,
  f: (...xs: T[]) => Evaluation<T>,
  wrt: readonly T[],
  shapes: readonly (readonly number[])[],
  gradients: boolean,
  raw = 0,
): Promise<{ outputs: Float64Array[]; gradients: Float32Array[]; raw: Float32Array[] }> {
  const { backend } = ops;
  const kept = shapes.length - raw;
  if (!gradients && backend.compute) {
    const read = await backend.compute((...xs) => f(...xs).outputs, wrt);
    if (read.length !== shapes.length) throw new InternalError(`compute gave ${read.length} outputs, expected ${shapes.length}`);
    read.forEach((o, i) => {
      const size = shapes[i]!.reduce((p, d) => p * d, 1);
      if (o.length !== size) throw new InternalError(`compute gave output ${i} of ${o.length} values, expected ${size}`);
    });
    return { outputs: read.slice(0, kept).map((o) => Float64Array.from(o)), gradients: [], raw: read.slice(kept) };
  }
  if (backend.valueAndGradients) {
    const probes = shapes.map((shape) => host.shared(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape));
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
    const read = result.gradients.slice(n);
    return { outputs: read.slice(0, kept).map((g) => Float64Array.from(g)), gradients: result.gradients.slice(0, n), raw: read.slice(kept) };
  }
  if (gradients) throw new InvalidBackendError('backend', `backend '${backend.name}' has no valueAndGradients(f, xs); the chunked loss needs it for gradients`);
  if (!backend.readSync) {
    throw new InvalidBackendError(
      'backend',
      `backend '${backend.name}' has neither valueAndGradients(f, xs) nor readSync; the chunked loss cannot read its statistics`,
    );
  }
  const { outputs } = f(...wrt);
  const read = outputs.map((o) => backend.readSync!(o));
  return { outputs: read.slice(0, kept).map((o) => Float64Array.from(o)), gradients: [], raw: read.slice(kept).map((o) => Float32Array.from(o)) };
}

/** Σ of every entry, as a scalar. */
function flatSum<T>(ops: Ops<T>, x: T): T {
  return ops.sum(ops.reshape(x, [-1]), 0);
}

/** True when the backend can take gradients the way the chunked loss needs. @internal */
export function canDifferentiate<T>(backend: Backend<T>): boolean {
  return typeof backend.valueAndGradients === 'function';
}
