/**
 * What a margin loss call is made of before its cross-entropy: the checked inputs, the cosines,
 * the one-hot of the labels, the margin's state and inputs, and the margin's result.
 *
 * @packageDocumentation
 */
import { checkTensor } from './create-ops.js';
import { InvalidArgumentError, ShapeError } from './errors.js';
import { cosines } from './cosines.js';
import { checkInputs } from './loss-inputs.js';
import type { MarginResolved } from './loss-options.js';
import type { Labels, MarginStepOptions } from './loss-types.js';
import { readOptions } from './margin-options.js';
import type { Margin, MarginContext, MarginResult } from './margin-types.js';

/** The pieces both the logits and the loss are made of. */
export interface MarginParts<T> {
  /** The non-target logits before scaling [B, C]: the cosines, or the margin's whole-row logits. */
  readonly base: T;
  /** Target logits before scaling [B]. */
  readonly target: T;
  /** One-hot of the labels [B, C]. */
  readonly oneHot: T;
  /** 1 for counted rows, 0 for ignored [B]. */
  readonly valid: T;
  /** The scale: a scalar, or [B, 1]. */
  readonly scale: T;
  /** The margin's result. */
  readonly result: MarginResult<T>;
  /** The state the margin saw. */
  readonly state: Readonly<Record<string, T>>;
}

/** The margin's initial state for `classes` classes, as plain values. @internal */
export function initialStateOf(margin: Margin, classes: number): Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }> {
  const out: Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }> = {};
  for (const [key, spec] of Object.entries(margin.state ?? {})) {
    const data = Float32Array.from(spec.initial(classes));
    const size = spec.shape.reduce((p, d) => p * d, 1);
    if (data.length !== size) throw new ShapeError(`${margin.type}.state.${key}`, `initial() gave ${data.length} values for shape [${spec.shape.join(', ')}]`);
    out[key] = { shape: spec.shape, data };
  }
  return out;
}

function stepTensors<T>(
  r: MarginResolved<T>,
  batch: number,
  classes: number,
  options: MarginStepOptions<T>,
): { state: Record<string, T>; inputs: Record<string, T> } {
  const { ops, margin } = r;
  const declared = margin.state ?? {};
  const given = readOptions('options.state', options.state, Object.keys(declared));
  const state: Record<string, T> = {};
  const initial = Object.keys(declared).some((k) => given[k] === undefined) ? initialStateOf(margin, classes) : {};
  for (const [key, spec] of Object.entries(declared)) {
    const t = given[key];
    if (t === undefined) {
      state[key] = ops.constant(initial[key]!.data, spec.shape);
      continue;
    }
    checkTensor(ops.backend, `options.state.${key}`, t);
    const shape = ops.backend.shape(t as T);
    if (shape.length !== spec.shape.length || shape.some((d, i) => d >= 0 && d !== spec.shape[i])) {
      throw new ShapeError(`options.state.${key}`, `expected shape [${spec.shape.join(', ')}] for margin '${margin.type}', got [${shape.join(', ')}]`);
    }
    state[key] = t as T;
  }
  const wanted = margin.inputs ?? {};
  const givenInputs = readOptions('options.inputs', options.inputs, Object.keys(wanted));
  const inputs: Record<string, T> = {};
  for (const key of Object.keys(wanted)) {
    const t = givenInputs[key];
    if (t === undefined) throw new InvalidArgumentError(`options.inputs.${key}`, `is required by margin '${margin.type}' (a float32 [B] tensor per step)`);
    checkTensor(ops.backend, `options.inputs.${key}`, t);
    const shape = ops.backend.shape(t as T);
    if (shape.length !== 1 || (shape[0]! >= 0 && batch >= 0 && shape[0] !== batch)) {
      throw new ShapeError(`options.inputs.${key}`, `expected shape [${batch}] (one value per row), got [${shape.join(', ')}]`);
    }
    inputs[key] = t as T;
  }
  return { state, inputs };
}

/** Checks a call's inputs and builds its {@link MarginParts}. @internal */
export function marginParts<T>(r: MarginResolved<T>, embeddings: T, centers: T, labels: Labels<T>, options: MarginStepOptions<T> = {}): MarginParts<T> {
  const { ops, margin } = r;
  const raw = checkInputs(r, embeddings, centers, labels);
  const batch = ops.shape(embeddings)[0]!;
  const classes = ops.shape(centers)[0]! / r.subCenters;
  const { state, inputs } = stepTensors(r, batch, classes, options);
  const { cos, norm } = cosines(r, embeddings, centers, r.subCenters);
  const labelsF = ops.cast(raw, 'float32');
  const valid = ops.cast(ops.greater(labelsF, ops.scalar(-0.5)), 'float32');
  const idx = r.ignoreIndex === undefined ? raw : ops.cast(ops.maximum(labelsF, ops.scalar(0)), 'int32');
  const oneHot = ops.oneHot(idx, classes);
  const cosTarget = ops.gatherPerRow(cos, idx);
  const context: MarginContext<T> = {
    ops,
    epsilon: r.epsilon,
    cosines: cos,
    cosTarget,
    labels: idx,
    oneHot,
    valid,
    norms: norm,
    classes,
    state,
    inputs,
    training: options.training ?? true,
  };
  const result = margin.transform(context);
  if (typeof result !== 'object' || result === null || (result.target === undefined && result.logits === undefined)) {
    throw new InvalidArgumentError(`${margin.type}.transform`, 'must return { target } or { logits } (tensors written with the ops)');
  }
  const base = result.logits ?? cos;
  const target = result.target ?? ops.gatherPerRow(result.logits!, idx);
  const scale = result.scale ?? (margin.featureScale === 'norm' ? norm : ops.scalar(r.scale));
  return { base, target, oneHot, valid, scale, result, state };
}
