/**
 * The centres' row norms taken on the host. A chunk graph that computes them itself makes four
 * passes over [Cc·K, D] forward (the overflow-safe norm: max|w|, w/m, ‖w/m‖²) and three backward;
 * given the norms as a [Cc·K] input it makes none, and the norm's term of the centre gradient is
 * added in one pass on the host, or left to the caller's optimizer (`normTerm: 'defer'`), which
 * passes over the chunk anyway. The norms come from the caller (`centerNorms`, e.g. a trainer that
 * computes them as it updates the centres) or, on backends whose chunk tensors are host memory
 * (ONNX Runtime's bound inputs), from one float64 pass over the chunk here.
 *
 * @packageDocumentation
 */
import type { Backend } from './backend.js';
import { InvalidArgumentError, ShapeError } from './errors.js';
import { checkFinite, checkNumber } from './input-checks.js';
import type { ChunkedStepCallOptions } from './chunked-loss.js';

/**
 * Row norms are used only inside this range: below it x̂·w loses digits to float32 subnormals,
 * above it x̂·w could overflow. A call with a row outside it keeps the in-graph, overflow-safe norm.
 */
const SAFE = { low: 1e-30, high: 1e30 } as const;

/** One chunk's reciprocal norms, and its values where the norm's term is applied here. @internal */
export interface ChunkNorms {
  /** ρ_j = 1 / max(‖w_j‖, eps), rounded to float32: the column scale of the chunk's cosines. */
  readonly reciprocal: Float32Array;
  /** ρ_j³ in float64 where ‖w_j‖ ≥ eps (d ρ_j / d w_j = −ρ_j³·w_j), else 0 (ρ_j = 1/eps is constant there). */
  readonly cube: Float64Array;
  /** The chunk's values, row-major [rows, D], when they are host memory or the term is applied here (read, never written). */
  readonly values?: ArrayLike<number>;
}

/** What {@link resolveNorms} is given. @internal */
export interface NormRequest<T> {
  readonly backend: Backend<T>;
  readonly centers: readonly T[];
  /** The rows of each chunk (Cc·K). */
  readonly rows: readonly number[];
  readonly dim: number;
  readonly eps: number;
  /** The caller's norms (`centerNorms`), unchecked. */
  readonly given: unknown;
  /** The norm's term is applied here (`'apply'`), so the values are needed. */
  readonly apply: boolean;
}

/**
 * Checks the caller's `centerNorms`: one Float64Array per chunk with the chunk's row count, every
 * value finite and ≥ 0. @internal
 */
export function checkCenterNorms(given: unknown, rows: readonly number[]): readonly Float64Array[] | undefined {
  if (given === undefined) return undefined;
  if (!Array.isArray(given) || given.length !== rows.length) {
    throw new InvalidArgumentError('options.centerNorms', `expected one Float64Array of row norms per chunk (${rows.length} chunks)`);
  }
  return given.map((n: unknown, k) => {
    const name = `options.centerNorms[${k}]`;
    if (!(n instanceof Float64Array)) throw new InvalidArgumentError(name, 'expected a Float64Array of the chunk’s row norms');
    if (n.length !== rows[k]) throw new ShapeError(name, `has ${n.length} norms, expected ${rows[k]} (the chunk’s rows, Cc·K)`);
    for (let j = 0; j < n.length; j++) {
      if (!(n[j]! >= 0) || n[j] === Number.POSITIVE_INFINITY) throw new InvalidArgumentError(name, `[${j}] is ${n[j]}: norms are finite and ≥ 0`);
    }
    return n;
  });
}

/**
 * The norms of every chunk's rows, or undefined when the graphs must compute them: no norms given
 * and a backend whose chunks are not host memory (tfjs keeps tensors on its device; reading is a
 * copy or a download), or a row norm outside the safe range.
 * @internal
 */
export async function resolveNorms<T>(q: NormRequest<T>): Promise<ChunkNorms[] | undefined> {
  const given = checkCenterNorms(q.given, q.rows);
  // Host chunks are read (not copied) even with given norms: the lean backward pass gathers target rows from them.
  const own = await hostValues(q.backend, q.centers);
  if (given === undefined && own === undefined) return undefined;
  const out: ChunkNorms[] = [];
  for (const [k, chunk] of q.centers.entries()) {
    const values = own?.[k] ?? (q.apply ? await q.backend.read!(chunk) : undefined);
    const norms = given?.[k] ?? rowNorms(values!, q.dim);
    // A float64 sum of float32 squares cannot overflow: a non-finite norm is a non-finite value,
    // which this names exactly (also where the backend does not check its feeds).
    if (given === undefined && !norms.every(Number.isFinite)) checkFinite(`centers[${k}]`, values!, [q.rows[k]!, q.dim]);
    const scales = reciprocals(norms, q.eps);
    if (scales === undefined) return undefined;
    out.push(values === undefined ? scales : { ...scales, values });
  }
  return out;
}

/**
 * Each chunk's own memory when `read` hands it back (the same Float32Array on every call), not a
 * copy; undefined for any other backend.
 */
async function hostValues<T>(backend: Backend<T>, centers: readonly T[]): Promise<Float32Array[] | undefined> {
  if (backend.supports.eagerValues || typeof backend.read !== 'function') return undefined;
  const out: Float32Array[] = [];
  try {
    for (const chunk of centers) {
      const a = await backend.read(chunk);
      if (!(a instanceof Float32Array) || (await backend.read(chunk)) !== a) return undefined;
      out.push(a);
    }
    return out;
  } catch {
    return undefined; // a traced (symbolic) chunk has no values: the graph computes its norms
  }
}

/**
 * The L2 norm of each row of a row-major matrix, summed in float64 (exact for every finite float32
 * row: no overflow or underflow), as {@link ChunkedStepCallOptions.centerNorms} takes them.
 *
 * @param values - row-major [rows, dim] values.
 * @param dim - the row length D (≥ 1, dividing `values.length`).
 * @returns ‖row_j‖ for each row.
 *
 * @example
 * ```ts
 * import { centerNorms } from '@marginkit/core';
 * console.log(Array.from(centerNorms(new Float32Array([3, 4, 0, 0, 1e30, 1e30]), 2))); // [5, 0, 1.414213583653426e+30]
 * ```
 */
export function centerNorms(values: ArrayLike<number>, dim: number): Float64Array {
  checkNumber('dim', dim, { min: 1, integer: true });
  if (values.length % dim !== 0) throw new ShapeError('values', `has ${values.length} entries, not a multiple of dim ${dim}`);
  return rowNorms(values, dim);
}

/** ‖w_j‖ of each row, summed in float64. */
function rowNorms(values: ArrayLike<number>, dim: number): Float64Array {
  const out = new Float64Array(values.length / dim);
  for (let j = 0, at = 0; j < out.length; j++) {
    // Four partial sums: the loop runs about twice as fast as with one.
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const end = at + dim;
    for (; at + 3 < end; at += 4) {
      const a = values[at]!;
      const b = values[at + 1]!;
      const c = values[at + 2]!;
      const d = values[at + 3]!;
      s0 += a * a;
      s1 += b * b;
      s2 += c * c;
      s3 += d * d;
    }
    for (; at < end; at++) s0 += values[at]! * values[at]!;
    out[j] = Math.sqrt(s0 + s1 + s2 + s3);
  }
  return out;
}

function reciprocals(norms: Float64Array, eps: number): Omit<ChunkNorms, 'values'> | undefined {
  const reciprocal = new Float32Array(norms.length);
  const cube = new Float64Array(norms.length);
  for (let j = 0; j < norms.length; j++) {
    const norm = norms[j]!;
    if (norm > SAFE.high || (norm > 0 && norm < SAFE.low)) return undefined;
    const rho = 1 / Math.max(norm, eps);
    reciprocal[j] = rho;
    cube[j] = norm >= eps ? rho * rho * rho : 0;
  }
  return { reciprocal, cube };
}

/**
 * The coefficients c_j = ρ_j³·u_j of the norm's term of a chunk's centre gradient: the graph gives
 * g_direct (ρ held constant) and u_j = Σ_b ∂L/∂cos_bj·(x̂_b·w_j); the full gradient is
 * g_direct,j − c_j·w_j. @internal
 */
export function normCoefficients(u: ArrayLike<number>, norms: ChunkNorms): Float64Array {
  const { cube } = norms;
  const out = new Float64Array(cube.length);
  for (let j = 0; j < out.length; j++) out[j] = cube[j]! * u[j]!;
  return out;
}

/** g_direct − c_j·w_j, written into `direct` in place. @internal */
export function addNormTerm(direct: Float32Array, coefficients: Float64Array, values: ArrayLike<number>, dim: number): Float32Array {
  for (let j = 0, at = 0; j < coefficients.length; j++) {
    const c = coefficients[j]!;
    const end = at + dim;
    if (c === 0) {
      at = end;
      continue;
    }
    for (; at < end; at++) direct[at] = direct[at]! - c * values[at]!;
  }
  return direct;
}
