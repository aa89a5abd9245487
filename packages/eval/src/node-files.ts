/**
 * Node file readers: `.npy` files and 2-D feature matrices from disk, with errors that name the
 * file and the argument. Exported from `@marginkit/eval/node`.
 *
 * @packageDocumentation
 */
import { basename } from 'node:path';
import { EvalInputError } from './errors.js';
import { readInputFile } from './files.js';
import { type Matrix, matrix } from './matrix.js';
import { type NpyArray, readNpy } from './readers.js';

/**
 * Reads a `.npy` file from disk.
 *
 * @param path - the file.
 * @param argument - the argument or option that named it, for errors (default `'path'`).
 * @returns shape, dtype and data; an `EvalFileError` (exported from `@marginkit/eval`) naming the file if it cannot be read.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { writeNpy } from '@marginkit/eval';
 * import { readNpyFile } from '@marginkit/eval/node';
 * const path = join(tmpdir(), 'marginkit-example.npy');
 * writeFileSync(path, writeNpy(new Float32Array([1, 2]), [2]));
 * console.log(readNpyFile(path).shape); // [2]
 * ```
 */
export function readNpyFile(path: string, argument = 'path'): NpyArray {
  return readNpy(readInputFile(path, argument), basename(path)); // a Buffer is a Uint8Array: no copy
}

/**
 * Reads a 2-D float `.npy` file as a {@link Matrix}.
 *
 * @param path - the file.
 * @param argument - the argument or option that named it, for errors (default `'path'`).
 * @returns the matrix.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { writeNpy } from '@marginkit/eval';
 * import { readMatrixFile } from '@marginkit/eval/node';
 * const path = join(tmpdir(), 'marginkit-matrix.npy');
 * writeFileSync(path, writeNpy(new Float32Array([1, 2, 3, 4]), [2, 2]));
 * console.log(readMatrixFile(path).rows); // 2
 * ```
 */
export function readMatrixFile(path: string, argument = 'path'): Matrix {
  const a = readNpyFile(path, argument);
  if (a.shape.length !== 2) throw new EvalInputError(argument, `${path}: expected a 2-D array [N, D], got shape (${a.shape.join(', ')})`);
  if (!(a.data instanceof Float32Array || a.data instanceof Float64Array))
    throw new EvalInputError(argument, `${path}: expected float16, float32 or float64 features, got ${a.dtype}`);
  return matrix(a.data, a.shape[0]!, a.shape[1]!, basename(path));
}
