/**
 * The checks of a loss call's tensors (embeddings, centres, labels), made with the shared input
 * checker: shapes and dtypes always, values where `validate: 'full'` and the backend reads them.
 *
 * @packageDocumentation
 */
import { checkTensor, dtypeOfTensor } from './create-ops.js';
import { InvalidArgumentError } from './errors.js';
import { type Dims, type PairShape, checkDType, checkEmbeddingsAndCenters, checkFinite, checkLabelValues, checkLabelsShape, describe } from './input-checks.js';
import type { MarginResolved, Resolved } from './loss-options.js';
import type { Labels } from './loss-types.js';

/** Checks that `x` is a live float32 tensor and returns its shape. @internal */
export function checkFloatTensor<T>(r: Resolved<T>, argument: string, x: T, what: string): Dims {
  const { backend } = r.ops;
  checkTensor(backend, argument, x, ` ${what}`);
  checkDType(argument, dtypeOfTensor(backend, argument, x, 'float32'), 'float32');
  return backend.shape(x);
}

/**
 * With `validate: 'full'` on a backend that reads values synchronously, checks that `x` is finite:
 * on the device first, as one scalar Σ 0·x (NaN exactly when some entry is not finite), so a GPU
 * backend downloads 4 bytes instead of the whole tensor every step; only when that fails are the
 * values read, for the message naming the first bad entry. @internal
 */
export function checkFiniteValues<T>(r: Resolved<T>, argument: string, x: T, shape: Dims): void {
  const { ops } = r;
  const { backend } = ops;
  if (r.validate !== 'full' || !backend.supports.eagerValues || !backend.readSync) return;
  const made = [ops.scalar(0)];
  made.push(ops.mul(x, made[0]!));
  for (let axis = shape.length - 1; axis >= 0; axis--) made.push(ops.sum(made[made.length - 1]!, axis));
  const ok = Number.isFinite(backend.readSync(made[made.length - 1]!)[0]);
  for (const t of made) backend.disposeTensor?.(t);
  if (!ok) checkFinite(argument, backend.readSync(x), shape);
}

/** Validates embeddings [B, D] and centres [C·K, D]; returns B and C. */
export function checkPair<T>(r: Resolved<T>, embeddings: T, centers: T, subCenters = 1): PairShape {
  const se = checkFloatTensor(r, 'embeddings', embeddings, '[B, D]');
  const sc = checkFloatTensor(r, 'centers', centers, subCenters === 1 ? '[C, D]' : '[C·K, D]');
  const pair = checkEmbeddingsAndCenters(se, sc, subCenters);
  checkFiniteValues(r, 'embeddings', embeddings, se);
  checkFiniteValues(r, 'centers', centers, sc);
  return pair;
}

/** Validates embeddings, centres and labels and returns the labels as an int32 tensor. */
export function checkInputs<T>(r: MarginResolved<T>, embeddings: T, centers: T, labels: Labels<T>): T {
  const { ops } = r;
  const { backend } = ops;
  const { batch, classes } = checkPair(r, embeddings, centers, r.subCenters);
  const valueOptions = { classesFrom: 'centers', ...(r.ignoreIndex === undefined ? {} : { ignoreIndex: r.ignoreIndex }) };
  if (backend.isTensor(labels)) {
    checkTensor(backend, 'labels', labels);
    checkDType('labels', dtypeOfTensor(backend, 'labels', labels, 'int32 class indices'), 'int32', 'int32 class indices');
    checkLabelsShape('labels', backend.shape(labels), batch);
    if (r.validate === 'full' && backend.supports.eagerValues && backend.readSync) checkLabelValues('labels', backend.readSync(labels), classes, valueOptions);
    return labels;
  }
  if (!Array.isArray(labels) && !(labels instanceof Int32Array)) {
    throw new InvalidArgumentError('labels', `expected an int32 tensor, an Int32Array or an array of integers, got ${describe(labels)}`);
  }
  checkLabelsShape('labels', [labels.length], batch);
  checkLabelValues('labels', labels, classes, valueOptions);
  return ops.constant(Int32Array.from(labels), [labels.length], 'int32');
}
