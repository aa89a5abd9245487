/**
 * Margins of your own: {@link defineMargin} (the one-line or the wide form) and the one-line
 * constructor the built-in margins share.
 *
 * @packageDocumentation
 */
import { InvalidArgumentError } from './errors.js';
import { FORBIDDEN_KEYS, readChoice, readOptions } from './margin-options.js';
import type {
  FeatureScale,
  JsonValue,
  Margin,
  MarginConfig,
  MarginContext,
  MarginInputSpec,
  MarginResult,
  MarginStateSpec,
  TargetContext,
} from './margin-types.js';

/**
 * A margin from a function of the target cosine: `transform` applies it to `cosTarget` and
 * `targetLogit` exposes it for plots and composition. @internal
 */
export function oneLineMargin(
  type: string,
  config: MarginConfig,
  featureScale: FeatureScale,
  targetLogit: <T>(cosTarget: T, context: TargetContext<T>) => T,
): Margin {
  return {
    type,
    config,
    featureScale,
    targetLogit,
    transform: <T>(context: MarginContext<T>): MarginResult<T> => ({ target: targetLogit(context.cosTarget, context) }),
  };
}

/** What {@link defineMargin} takes: a one-line `targetLogit`, or the wide `transform` (exactly one). */
export interface MarginDefinition<P extends Readonly<Record<string, JsonValue>>> {
  /** The margin's name (used as the config `type`). */
  readonly type: string;
  /** Its parameters, JSON-serialisable (they are stored in the config). */
  readonly params: P;
  /** The one-line form: maps target cosines c_y [B] to target logits [B], with the op set. */
  readonly targetLogit?: <T>(cosTarget: T, context: TargetContext<T>, params: P) => T;
  /** The wide form: sees the whole {@link MarginContext} and returns a {@link MarginResult}. */
  readonly transform?: <T>(context: MarginContext<T>, params: P) => MarginResult<T>;
  /** State carried from step to step (wide form only), e.g. `{ t: { shape: [], initial: () => [0] } }`. */
  readonly state?: Readonly<Record<string, MarginStateSpec>>;
  /** Per-step inputs the caller samples (wide form only). */
  readonly inputs?: Readonly<Record<string, MarginInputSpec>>;
  /** `'norm'` to scale logits by ‖x‖; default `'fixed'`. */
  readonly featureScale?: FeatureScale;
  /** Wide form only: the margin's logits are class-local (see {@link Margin.classLocal}); default false. */
  readonly classLocal?: boolean;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a state or inputs declaration: identifier keys, each entry of the right shape. @internal */
export function checkDeclarations(argument: string, entries: unknown, kind: 'state' | 'inputs'): void {
  if (entries === undefined) return;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
    throw new InvalidArgumentError(argument, `must be an object of ${kind} entries, got ${entries === null ? 'null' : typeof entries}`);
  }
  for (const [key, spec] of Object.entries(entries)) {
    if (!KEY.test(key) || FORBIDDEN_KEYS.has(key)) throw new InvalidArgumentError(`${argument}.${key}`, 'must be an identifier name (letters, digits, _)');
    const s = spec as Partial<MarginStateSpec & MarginInputSpec> | null;
    if (kind === 'state') {
      if (
        typeof s !== 'object' ||
        s === null ||
        !Array.isArray(s.shape) ||
        !s.shape.every((d) => Number.isInteger(d) && d >= 0) ||
        typeof s.initial !== 'function'
      ) {
        throw new InvalidArgumentError(`${argument}.${key}`, 'expected { shape: number[], initial(classes) => number[] }');
      }
    } else if (typeof s !== 'object' || s === null || typeof s.sample !== 'function') {
      throw new InvalidArgumentError(`${argument}.${key}`, 'expected { sample(batch, random) => Float32Array }');
    }
  }
}

/**
 * Defines your own margin, written with the op set: either the one-line form, a function of the
 * target cosine (`targetLogit`), or the wide form (`transform`), which sees the cosines of the
 * whole row, the labels, the embedding norms, its state and the training flag, and may return the
 * whole logit matrix, an auxiliary loss and its next state. Register a factory for it on a
 * registry to build it from JSON configs.
 *
 * @param definition - the type name, parameters, and `targetLogit` or `transform` (with `state`
 *   and `inputs` when it has them).
 * @returns the margin.
 *
 * @example
 * ```ts
 * import { defineMargin } from '@marginkit/core';
 * // One line: a "soft" additive cosine margin that shrinks for hard samples: c − m·(1 + c)/2.
 * const soft = defineMargin({
 *   type: 'soft-cosface',
 *   params: { m: 0.4 },
 *   targetLogit: (c, { ops }, { m }) => ops.sub(c, ops.mul(ops.scalar(m / 2), ops.add(ops.scalar(1), c))),
 * });
 * console.log(soft.config); // { type: 'soft-cosface', m: 0.4 }
 * // Wide: an additive margin that grows with the embedding norm, m·min(‖x‖ / 10, 1).
 * const normAware = defineMargin({
 *   type: 'norm-cosface',
 *   params: { m: 0.4 },
 *   transform: ({ ops, cosTarget, norms }, { m }) => {
 *     const grow = ops.minimum(ops.div(ops.stopGradient(ops.reshape(norms, [-1])), ops.scalar(10)), ops.scalar(1));
 *     return { target: ops.sub(cosTarget, ops.mul(grow, ops.scalar(m))) };
 *   },
 * });
 * console.log(normAware.type); // 'norm-cosface'
 * ```
 */
export function defineMargin<P extends Readonly<Record<string, JsonValue>>>(definition: MarginDefinition<P>): Margin {
  if (typeof definition !== 'object' || definition === null) {
    throw new InvalidArgumentError('definition', 'must be an object with type, params and targetLogit or transform');
  }
  const { type, params, targetLogit, transform } = definition;
  if (typeof type !== 'string' || type.length === 0) throw new InvalidArgumentError('definition.type', 'must be a non-empty string');
  if ((targetLogit === undefined) === (transform === undefined)) {
    throw new InvalidArgumentError('definition.targetLogit', 'give exactly one of targetLogit (c_y → target) and transform (the wide hook)');
  }
  if (targetLogit !== undefined && typeof targetLogit !== 'function') {
    throw new InvalidArgumentError('definition.targetLogit', 'must be a function (cosTarget, context, params) => target');
  }
  if (transform !== undefined && typeof transform !== 'function') {
    throw new InvalidArgumentError('definition.transform', 'must be a function (context, params) => { target } | { logits }');
  }
  if (definition.classLocal !== undefined && typeof definition.classLocal !== 'boolean') {
    throw new InvalidArgumentError('definition.classLocal', `must be a boolean, got ${typeof definition.classLocal}`);
  }
  if (targetLogit !== undefined && (definition.state !== undefined || definition.inputs !== undefined)) {
    throw new InvalidArgumentError('definition.state', 'state and inputs need the wide form: use transform instead of targetLogit');
  }
  const p = readOptions(`${type}.params`, params, Object.keys(params ?? {}));
  if ('type' in p) throw new InvalidArgumentError(`${type}.params.type`, "is reserved for the margin's name");
  for (const [key, value] of Object.entries(p)) {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new InvalidArgumentError(`${type}.params.${key}`, `must be finite, got ${value}`);
  }
  checkDeclarations(`${type}.state`, definition.state, 'state');
  checkDeclarations(`${type}.inputs`, definition.inputs, 'inputs');
  const featureScale = readChoice(`${type}.featureScale`, definition.featureScale, 'fixed', ['fixed', 'norm']);
  const config: MarginConfig = { type, ...params };
  if (targetLogit !== undefined) {
    return oneLineMargin(type, config, featureScale, <T>(c: T, context: TargetContext<T>): T => targetLogit(c, context, params));
  }
  const wide = transform!;
  return {
    type,
    config,
    featureScale,
    ...(definition.state === undefined ? {} : { state: definition.state }),
    ...(definition.inputs === undefined ? {} : { inputs: definition.inputs }),
    ...(definition.classLocal === true ? { classLocal: true } : {}),
    transform: <T>(context: MarginContext<T>): MarginResult<T> => wide(context, params),
  };
}
