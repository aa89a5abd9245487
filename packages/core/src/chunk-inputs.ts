/**
 * The checks of a chunked loss call (embeddings, centre chunks, labels, state and inputs) and the
 * tensors every chunk computation shares.
 *
 * @packageDocumentation
 */
import type { ChunkSetup } from './chunk-graphs.js';
import type { HostInputs } from './chunk-run.js';
import { checkTensor, dtypeOfTensor } from './create-ops.js';
import { InvalidArgumentError, InvalidBackendError, ShapeError } from './errors.js';
import { checkDType, checkLabelValues, checkLabelsShape, checkMatrixShape, describe } from './input-checks.js';
import { checkFiniteValues, checkFloatTensor } from './loss-inputs.js';
import type { MarginResolved } from './loss-options.js';
import type { Labels } from './loss-types.js';
import { readOptions } from './margin-options.js';
import { initialStateOf } from './margin-parts.js';

/** The checked shapes of a call: B, D, the first class of each chunk, and C. @internal */
export interface ChunkLayout {
  readonly batch: number;
  readonly dim: number;
  /** The first class of chunk k; `starts[k + 1] − starts[k]` classes in it. */
  readonly starts: readonly number[];
  /** C, the number of classes over all chunks. */
  readonly classes: number;
}

/**
 * Checks embeddings [B, D] and the chunks: chunk k is [Cc·K, D] with Cc = `classChunk` for every
 * chunk but the last, which may hold fewer (whole) classes. @internal
 */
export function checkChunks<T>(r: MarginResolved<T>, classChunk: number, embeddings: T, centers: unknown): ChunkLayout {
  const k = r.subCenters;
  const [batch, dim] = checkMatrixShape('embeddings', checkFloatTensor(r, 'embeddings', embeddings, '[B, D]'), { what: '[B, D]' });
  if (!Array.isArray(centers) || centers.length === 0) {
    throw new InvalidArgumentError('centers', `expected a non-empty array of centre chunks ([classChunk·K, D] tensors), got ${describe(centers)}`);
  }
  const starts = [0];
  centers.forEach((chunk: unknown, i) => {
    const name = `centers[${i}]`;
    const [rows, d] = checkMatrixShape(name, checkFloatTensor(r, name, chunk as T, '[Cc·K, D]'), { what: '[Cc·K, D]' });
    if (d !== dim) throw new ShapeError(name, `has dimension ${d} but embeddings have ${dim} (chunks [Cc·K, D], embeddings [B, D])`);
    const last = i === centers.length - 1;
    const full = classChunk * k;
    if (last ? rows < k || rows > full || rows % k !== 0 : rows !== full) {
      const want = last ? `a multiple of K = ${k} in [${k}, ${full}] (the last chunk may hold fewer classes)` : `${full} (classChunk ${classChunk} × K ${k})`;
      throw new ShapeError(name, `has ${rows} rows, expected ${want}`);
    }
    checkFiniteValues(r, name, chunk as T, [rows, d]);
    starts.push(starts[i]! + rows / k);
  });
  checkFiniteValues(r, 'embeddings', embeddings, [batch, dim]);
  const classes = starts[starts.length - 1]!;
  // Labels are fed as float32 (a bound input on ORT, not a constant), exact up to 2²⁴.
  if (classes > 2 ** 24) throw new InvalidArgumentError('centers', `hold ${classes} classes; the chunked loss takes at most 2²⁴ = 16,777,216`);
  return { batch, dim, starts, classes };
}

/** Checks the labels and returns their values. @internal */
export async function readLabels<T>(r: MarginResolved<T>, labels: Labels<T>, layout: ChunkLayout): Promise<Int32Array> {
  const { backend } = r.ops;
  let values: ArrayLike<number>;
  if (backend.isTensor(labels)) {
    checkTensor(backend, 'labels', labels);
    checkDType('labels', dtypeOfTensor(backend, 'labels', labels, 'int32 class indices'), 'int32', 'int32 class indices');
    checkLabelsShape('labels', backend.shape(labels), layout.batch);
    if (backend.readSync) values = backend.readSync(labels);
    else if (backend.read) values = await backend.read(labels);
    else throw new InvalidBackendError('backend', `backend '${backend.name}' can read no tensor values; pass the labels as an Int32Array`);
  } else {
    if (!Array.isArray(labels) && !(labels instanceof Int32Array)) {
      throw new InvalidArgumentError('labels', `expected an int32 tensor, an Int32Array or an array of integers, got ${describe(labels)}`);
    }
    checkLabelsShape('labels', [labels.length], layout.batch);
    values = labels;
  }
  const ignore = r.ignoreIndex === undefined ? {} : { ignoreIndex: r.ignoreIndex };
  checkLabelValues('labels', values, layout.classes, { classesFrom: 'the centre chunks', ...ignore });
  return Int32Array.from(values);
}

/** State or per-step input values: a tensor of the backend, or row-major float32 values. */
export type ChunkValue<T> = T | Float32Array;

function tensorOf<T>(r: MarginResolved<T>, host: HostInputs<T>, argument: string, value: unknown, shape: readonly number[]): T {
  const { backend } = r.ops;
  const size = shape.reduce((p, d) => p * d, 1);
  if (value instanceof Float32Array) {
    if (value.length !== size) throw new ShapeError(argument, `has ${value.length} values, expected ${size} (shape [${shape.join(', ')}])`);
    return host.input(value, shape);
  }
  checkTensor(backend, argument, value, ' or Float32Array');
  const got = backend.shape(value);
  if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
    throw new ShapeError(argument, `expected shape [${shape.join(', ')}], got [${got.join(', ')}]`);
  }
  return value;
}

/** The tensors every chunk computation of one call shares. @internal */
export function chunkSetup<T>(
  r: MarginResolved<T>,
  host: HostInputs<T>,
  layout: ChunkLayout,
  labels: Int32Array,
  options: { readonly state?: unknown; readonly inputs?: unknown; readonly training: boolean },
): ChunkSetup<T> {
  const { margin } = r;
  const declared = margin.state ?? {};
  const given = readOptions('options.state', options.state, Object.keys(declared));
  const initial = Object.keys(declared).some((key) => given[key] === undefined) ? initialStateOf(margin, layout.classes) : {};
  const state: Record<string, T> = {};
  for (const [key, spec] of Object.entries(declared)) {
    state[key] = tensorOf(r, host, `options.state.${key}`, given[key] ?? initial[key]!.data, spec.shape);
  }
  const wanted = margin.inputs ?? {};
  const givenInputs = readOptions('options.inputs', options.inputs, Object.keys(wanted));
  const inputs: Record<string, T> = {};
  for (const key of Object.keys(wanted)) {
    if (givenInputs[key] === undefined)
      throw new InvalidArgumentError(`options.inputs.${key}`, `is required by margin '${margin.type}' (a float32 [B] tensor per step)`);
    inputs[key] = tensorOf(r, host, `options.inputs.${key}`, givenInputs[key], [layout.batch]);
  }
  const index = Float32Array.from(labels, (y) => Math.max(y, 0));
  const valid = Float32Array.from(labels, (y) => (y >= 0 ? 1 : 0));
  return {
    r,
    classLocal: margin.classLocal === true,
    classes: layout.classes,
    labels: host.input(index, [layout.batch]),
    valid: host.input(valid, [layout.batch]),
    state,
    inputs,
    training: options.training,
  };
}
