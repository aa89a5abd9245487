/**
 * Reading the losses' options: defaults, bounds (float32 limits among them) and the typed errors
 * that name each option.
 *
 * @packageDocumentation
 */
import { type Backend, assertBackend } from './backend.js';
import { type Ops, createOps } from './create-ops.js';
import { InvalidArgumentError } from './errors.js';
import { FLOAT32_LIMITS } from './float32.js';
import { checkNumber, describe } from './input-checks.js';
import { readChoice, readOptions } from './margin-options.js';
import type { Margin } from './margin-types.js';
import { DEFAULT_EPSILON, type MarginStepOptions, type Validation } from './loss-types.js';

/** Options every loss function reads, resolved. @internal */
export interface Resolved<T> {
  readonly ops: Ops<T>;
  readonly normEpsilon: number;
  readonly validate: Validation;
}

/** The option names of {@link cosineLogits} (besides `subCenters`). @internal */
export const LOGITS_KEYS = ['normEpsilon', 'validate'] as const;
/** The option names of {@link marginLogits}. @internal */
export const MARGIN_KEYS = [...LOGITS_KEYS, 'margin', 'scale', 'epsilon', 'subCenters', 'ignoreIndex'] as const;
/** The option names {@link marginSoftmaxLoss} accepts. @internal */
export const LOSS_OPTION_KEYS: readonly string[] = [...MARGIN_KEYS, 'reduction'];

/** Reads the options every loss function takes. @internal */
export function resolveBase<T>(owner: string, backend: Backend<T>, o: Readonly<Record<string, unknown>>): Resolved<T> {
  assertBackend<T>(backend);
  const normEpsilon = positive(`${owner}.normEpsilon`, o['normEpsilon'], 1e-12, 1e-3, FLOAT32_LIMITS.normEpsilon);
  const validate = readChoice(`${owner}.validate`, o['validate'], 'full', ['full', 'shapes']);
  return { ops: createOps(backend), normEpsilon, validate };
}

/**
 * A number in (0, max] (or > 0 without `max`), or the default; `limit` adds a float32 bound (a
 * minimum and/or a maximum) and the reason for it, from {@link FLOAT32_LIMITS}.
 */
function positive(
  argument: string,
  value: unknown,
  fallback: number,
  max = Number.POSITIVE_INFINITY,
  limit: { readonly min?: number; readonly max?: number; readonly why: string } | undefined = undefined,
): number {
  if (value === undefined) return fallback;
  const v = checkNumber(argument, value, { min: 0, minOpen: true, max });
  return limit === undefined ? v : checkNumber(argument, v, limit);
}

/** The options of the margin losses, resolved. @internal */
export interface MarginResolved<T> extends Resolved<T> {
  readonly margin: Margin;
  readonly scale: number;
  readonly epsilon: number;
  readonly subCenters: number;
  readonly ignoreIndex: -1 | undefined;
}

/** Reads the options of the margin losses (`extra`: further keys the caller reads). @internal */
export function resolveMargin<T>(
  owner: string,
  backend: Backend<T>,
  options: unknown,
  extra: readonly string[],
): { r: MarginResolved<T>; o: Readonly<Record<string, unknown>> } {
  if (options === undefined) throw new InvalidArgumentError(`${owner}.options`, 'are required: at least { margin }');
  const o = readOptions(owner, options, [...MARGIN_KEYS, ...extra]);
  const base = resolveBase(owner, backend, o);
  const margin = o['margin'];
  if (typeof margin !== 'object' || margin === null || typeof (margin as Margin).transform !== 'function') {
    throw new InvalidArgumentError(`${owner}.margin`, `expected a margin such as arcface() or defineMargin(...), got ${describe(margin)}`);
  }
  const scale = positive(`${owner}.scale`, o['scale'], 64, Number.POSITIVE_INFINITY, FLOAT32_LIMITS.scale);
  const epsilon = positive(`${owner}.epsilon`, o['epsilon'], DEFAULT_EPSILON, 0.1);
  const subCenters = readSubCenters(`${owner}.subCenters`, o['subCenters']);
  const ignoreIndex = o['ignoreIndex'];
  if (ignoreIndex !== undefined && ignoreIndex !== -1) {
    throw new InvalidArgumentError(`${owner}.ignoreIndex`, `must be -1 (or absent), got ${describe(ignoreIndex)}`);
  }
  (margin as Margin).checkLossOptions?.({ scale });
  return { r: { ...base, margin: margin as Margin, scale, epsilon, subCenters, ignoreIndex }, o };
}

/** Reads K, the sub-centres per class (default 1). @internal */
export function readSubCenters(argument: string, value: unknown): number {
  return value === undefined ? 1 : checkNumber(argument, value, { min: 1, integer: true });
}

/** Rejects margins with state or per-step inputs where only stateless ones work. @internal */
export function statelessOnly(owner: string, margin: Margin): void {
  const state = Object.keys(margin.state ?? {});
  const inputs = Object.keys(margin.inputs ?? {});
  if (state.length > 0 || inputs.length > 0) {
    throw new InvalidArgumentError(
      `${owner}.margin`,
      `margin '${margin.type}' carries ${state.length > 0 ? `state (${state.join(', ')})` : `per-step inputs (${inputs.join(', ')})`}; ` +
        'use marginSoftmaxStep (state in, state out) or a head from @marginkit/losses, which keeps it',
    );
  }
}

/** Reads the per-call options of a step. @internal */
export function readStepOptions<T>(options: unknown): MarginStepOptions<T> {
  const o = readOptions('options', options, ['state', 'inputs', 'training']);
  if (o['training'] !== undefined && typeof o['training'] !== 'boolean') {
    throw new InvalidArgumentError('options.training', `must be a boolean, got ${describe(o['training'])}`);
  }
  return o as MarginStepOptions<T>;
}
