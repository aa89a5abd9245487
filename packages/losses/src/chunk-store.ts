import { type Backend, createOps } from '@marginkit/core';

/**
 * The centres of a chunked trainer: per chunk, host values (the master copy, updated in place) and
 * the backend tensor the loss reads. On a symbolic backend whose `read` hands back the tensor's own
 * bound values (ONNX Runtime), the two share memory: the update writes the values that the next
 * step feeds, with no copy. Elsewhere (tfjs) the tensor of a chunk is remade from the host values
 * after each of its updates.
 * @internal
 */
export interface ChunkStore<T> {
  /** Rows per chunk (Cc·K), the last chunk possibly fewer. */
  readonly rows: readonly number[];
  /** The first row of each chunk. */
  readonly starts: readonly number[];
  /** D. */
  readonly dim: number;
  /** The host values of each chunk, row-major [rows[k], D]. */
  readonly values: Float32Array[];
  /** The tensor of each chunk. */
  readonly tensors: T[];
  /** Per chunk: its host values are its tensor's own memory. */
  readonly shared: readonly boolean[];
}

/** The row counts of chunks of `chunkRows` rows over `totalRows` rows. @internal */
export function chunkRows(totalRows: number, chunkRows: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < totalRows; start += chunkRows) out.push(Math.min(chunkRows, totalRows - start));
  return out;
}

function makeTensor<T>(backend: Backend<T>, values: Float32Array, shape: readonly number[]): T {
  return backend.variable ? backend.variable(values, shape) : createOps(backend).constant(values, shape);
}

/**
 * The tensor's own host memory when the backend is symbolic and `read` returns the same
 * `Float32Array` object on every call (its bound values, not a copy); otherwise undefined.
 */
async function ownValues<T>(backend: Backend<T>, tensor: T, length: number): Promise<Float32Array | undefined> {
  if (backend.supports.eagerValues || !backend.read) return undefined;
  const a = await backend.read(tensor);
  const b = await backend.read(tensor);
  return a === b && a instanceof Float32Array && a.length === length ? a : undefined;
}

/**
 * Builds the store chunk by chunk from `init(k, rows)`, the values of chunk k, so that at most one
 * chunk exists twice at any time. `place(k)`, where it gives an array and the backend can read host
 * memory in place (`backend.share`), is where chunk k's values live: they are copied there and the
 * tensor reads them there.
 * @internal
 */
export async function createChunkStore<T>(
  backend: Backend<T>,
  rows: readonly number[],
  dim: number,
  init: (k: number, rows: number) => Float32Array,
  place?: (k: number) => Float32Array | undefined,
): Promise<ChunkStore<T>> {
  const values: Float32Array[] = [];
  const tensors: T[] = [];
  const shared: boolean[] = [];
  const starts: number[] = [];
  let start = 0;
  for (const [k, n] of rows.entries()) {
    starts.push(start);
    start += n;
    const v = init(k, n);
    const home = place?.(k);
    if (home !== undefined && backend.share !== undefined) {
      home.set(v);
      values.push(home);
      shared.push(true);
      tensors.push(backend.share(home, [n, dim]));
      continue;
    }
    const t = makeTensor(backend, v, [n, dim]);
    const own = await ownValues(backend, t, v.length);
    values.push(own ?? v);
    shared.push(own !== undefined);
    tensors.push(t);
  }
  return { rows, starts, dim, values, tensors, shared };
}

/** Makes chunk k's tensor see its host values again after they changed (a no-op when they share memory). @internal */
export function refreshChunk<T>(backend: Backend<T>, store: ChunkStore<T>, k: number): void {
  if (store.shared[k]) return;
  backend.disposeTensor?.(store.tensors[k]!);
  store.tensors[k] = makeTensor(backend, store.values[k]!, [store.rows[k]!, store.dim]);
}

/**
 * Calls `fn(k, from, to, at)` for each chunk overlapping rows [first, end): the chunk's local rows
 * [from, to) are the range's rows [at, at + to − from).
 * @internal
 */
export function forEachOverlap(
  store: Pick<ChunkStore<unknown>, 'rows' | 'starts'>,
  first: number,
  end: number,
  fn: (k: number, from: number, to: number, at: number) => void,
): void {
  for (const [k, start] of store.starts.entries()) {
    const lo = Math.max(first, start);
    const hi = Math.min(end, start + store.rows[k]!);
    if (lo < hi) fn(k, lo - start, hi - start, lo - first);
  }
}
