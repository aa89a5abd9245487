import { EvalInputError } from './errors.js';
import { describe } from './input.js';

/** A row-major matrix of embeddings: `rows` vectors of `cols` values. */
export interface Matrix {
  /** Row-major values. */
  readonly data: Float32Array | Float64Array;
  /** Number of rows (vectors). */
  readonly rows: number;
  /** Number of columns (dimensions). */
  readonly cols: number;
}

/**
 * Wraps row-major values as a matrix, checking the size and that every value is finite.
 *
 * @param data - row-major values.
 * @param rows - number of rows.
 * @param cols - number of columns.
 * @param argument - the argument name for errors.
 * @returns the matrix.
 *
 * @example
 * ```ts
 * import { matrix } from '@marginkit/eval';
 * const m = matrix(new Float32Array([1, 0, 0, 1]), 2, 2);
 * console.log(m.rows, m.cols); // 2 2
 * ```
 */
export function matrix(data: Float32Array | Float64Array | readonly number[], rows: number, cols: number, argument = 'matrix'): Matrix {
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array) && !Array.isArray(data)) {
    throw new EvalInputError(argument, `expected a Float32Array, Float64Array or number[], got ${describe(data)}`);
  }
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 1) throw new EvalInputError(argument, `invalid shape [${rows}, ${cols}]`);
  if (data.length !== rows * cols) throw new EvalInputError(argument, `has ${data.length} values but shape [${rows}, ${cols}] needs ${rows * cols}`);
  const d = Array.isArray(data) ? Float64Array.from(data) : (data as Float32Array | Float64Array);
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) throw new EvalInputError(argument, `has a non-finite value ${d[i]} at row ${Math.floor(i / cols)}, column ${i % cols}`);
  }
  return { data: d, rows, cols };
}

/** Checks that a value is a matrix of consistent shape, without scanning its values. @internal */
export function checkShape(m: Matrix, argument: string): Matrix {
  if (typeof m !== 'object' || m === null || !('data' in m))
    throw new EvalInputError(argument, `expected a matrix { data, rows, cols } (see matrix()), got ${describe(m)}`);
  if (!(m.data instanceof Float32Array) && !(m.data instanceof Float64Array))
    throw new EvalInputError(argument, `expected Float32Array or Float64Array data, got ${describe(m.data)}`);
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.cols < 1 || m.data.length !== m.rows * m.cols) {
    throw new EvalInputError(argument, `has ${m.data.length} values but shape [${m.rows}, ${m.cols}]`);
  }
  return m;
}

/** Checks that a value is a matrix with finite values. @internal */
export function checkMatrix(m: Matrix, argument: string): Matrix {
  if (typeof m !== 'object' || m === null || !('data' in m))
    throw new EvalInputError(argument, `expected a matrix { data, rows, cols } (see matrix()), got ${describe(m)}`);
  return matrix(m.data, m.rows, m.cols, argument);
}

/**
 * L2-normalises every row (as scikit-learn's `normalize`: a zero row stays zero), in float64.
 *
 * @param m - the matrix.
 * @returns a new float64 matrix with unit rows.
 *
 * @example
 * ```ts
 * import { matrix, normalizeRows } from '@marginkit/eval';
 * console.log(Array.from(normalizeRows(matrix([3, 4], 1, 2)).data, (v) => v.toFixed(2))); // ['0.60', '0.80']
 * ```
 */
export function normalizeRows(m: Matrix): Matrix {
  const out = new Float64Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let c = 0; c < m.cols; c++) s += m.data[r * m.cols + c]! ** 2;
    // Divide, as scikit-learn's normalize does (x / ‖x‖, not x · (1/‖x‖)), so results match bit for bit.
    const norm = Math.sqrt(s) || 1;
    for (let c = 0; c < m.cols; c++) out[r * m.cols + c] = m.data[r * m.cols + c]! / norm;
  }
  return { data: out, rows: m.rows, cols: m.cols };
}

/**
 * Flip fusion: the embeddings of the images and of their horizontal flips are summed and the sum
 * is L2-normalised, as insightface's verification and IJB scripts do.
 *
 * @param original - embeddings of the images [N, D].
 * @param flipped - embeddings of the flipped images [N, D].
 * @returns the fused, normalised embeddings.
 *
 * @example
 * ```ts
 * import { flipFusion, matrix } from '@marginkit/eval';
 * const fused = flipFusion(matrix([1, 0], 1, 2), matrix([0, 1], 1, 2));
 * console.log(Array.from(fused.data).map((v) => v.toFixed(4))); // ['0.7071', '0.7071']
 * ```
 */
export function flipFusion(original: Matrix, flipped: Matrix): Matrix {
  const a = checkMatrix(original, 'original');
  const b = checkMatrix(flipped, 'flipped');
  if (a.rows !== b.rows || a.cols !== b.cols) throw new EvalInputError('flipped', `has shape [${b.rows}, ${b.cols}] but original has [${a.rows}, ${a.cols}]`);
  const sum = new Float64Array(a.data.length);
  for (let i = 0; i < sum.length; i++) sum[i] = a.data[i]! + b.data[i]!;
  return normalizeRows({ data: sum, rows: a.rows, cols: a.cols });
}
