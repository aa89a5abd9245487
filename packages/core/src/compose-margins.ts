/**
 * {@link composeMargins}: margins applied first to last, their state, scales and auxiliary
 * losses merged.
 *
 * @packageDocumentation
 */
import { InvalidArgumentError } from './errors.js';
import type { Margin, MarginContext, MarginResult, TargetContext } from './margin-types.js';

/**
 * Composes margins, first to last. Each sees the previous one's output as its input: the target
 * logit as `cosTarget` and, when the previous one returned a whole logit matrix, that matrix as
 * `cosines`. So ArcFace then CosFace is cos(θ_y + m2) − m3, the combined margin. Each margin keeps its
 * own gradient policy and its own state entries (names must not collide); auxiliary losses add up;
 * a later scale replaces an earlier one. The composition scales by ‖x‖ if any part does, and is
 * `classLocal` when some part is and every other part is class-local or one-line.
 *
 * @param margins - one or more margins, applied first to last.
 * @returns the composed margin, whose config is `{ type: 'compose', margins: [...] }`.
 *
 * @example
 * ```ts
 * import { arcface, composeMargins, cosface } from '@marginkit/core';
 * const margin = composeMargins(arcface({ m: 0.3 }), cosface({ m: 0.2 }));
 * console.log(margin.config.type); // 'compose'
 * ```
 */
export function composeMargins(...margins: readonly Margin[]): Margin {
  if (margins.length === 0) throw new InvalidArgumentError('margins', 'composeMargins needs at least one margin');
  margins.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || typeof m.transform !== 'function' || typeof m.config !== 'object') {
      throw new InvalidArgumentError(`margins[${i}]`, 'is not a margin (expected an object from arcface(), defineMargin(), ...)');
    }
  });
  // Bounded like registry configs, so that no composition overflows the stack when it runs.
  const depth = 1 + margins.reduce((d, m) => Math.max(d, COMPOSED.get(m)?.depth ?? 0), 0);
  const size = margins.reduce((n, m) => n + (COMPOSED.get(m)?.size ?? 1), 1);
  if (depth > MAX_COMPOSE_DEPTH) {
    throw new InvalidArgumentError('margins', `compositions nest deeper than ${MAX_COMPOSE_DEPTH} levels (composeMargins inside composeMargins); flatten them`);
  }
  if (size > MAX_COMPOSE_SIZE) throw new InvalidArgumentError('margins', `the composition holds ${size} margins in all; at most ${MAX_COMPOSE_SIZE}`);
  const state = mergeDeclarations(margins, (m) => m.state, 'state');
  const inputs = mergeDeclarations(margins, (m) => m.inputs, 'inputs');
  const targets = margins.map((m) => m.targetLogit);
  const oneLine = targets.every((t) => t !== undefined);
  const checks = margins.flatMap((m) => (m.checkLossOptions ? [m.checkLossOptions] : []));
  // Class-local when some part is and every other part is class-local or one-line (see Margin.classLocal).
  const classLocal = margins.some((m) => m.classLocal === true) && margins.every((m) => m.classLocal === true || m.targetLogit !== undefined);
  const composed: Margin = {
    type: 'compose',
    ...(checks.length === 0
      ? {}
      : {
          checkLossOptions: (options: { readonly scale: number }) => {
            for (const check of checks) check(options);
          },
        }),
    config: { type: 'compose', margins: margins.map((m) => m.config) },
    featureScale: margins.some((m) => m.featureScale === 'norm') ? 'norm' : 'fixed',
    ...(classLocal ? { classLocal } : {}),
    ...(state === undefined ? {} : { state }),
    ...(inputs === undefined ? {} : { inputs }),
    transform: <T>(context: MarginContext<T>): MarginResult<T> => composeTransforms(margins, context),
  };
  const out: Margin = oneLine
    ? { ...composed, targetLogit: <T>(c: T, context: TargetContext<T>): T => targets.reduce<T>((t, f) => f!(t, context), c) }
    : composed;
  COMPOSED.set(out, { depth, size });
  return out;
}

/** How deeply compositions may nest and how many margins they may hold (as registry configs). */
const MAX_COMPOSE_DEPTH = 32;
const MAX_COMPOSE_SIZE = 1000;
/** The nesting depth and size of each composition made here. */
const COMPOSED = new WeakMap<Margin, { readonly depth: number; readonly size: number }>();

function mergeDeclarations<S>(
  margins: readonly Margin[],
  pick: (m: Margin) => Readonly<Record<string, S>> | undefined,
  kind: string,
): Record<string, S> | undefined {
  const out: Record<string, S> = {};
  let any = false;
  margins.forEach((m, i) => {
    for (const [key, spec] of Object.entries(pick(m) ?? {})) {
      if (key in out) throw new InvalidArgumentError(`margins[${i}].${kind}.${key}`, `collides with an earlier margin's ${kind} entry of the same name`);
      out[key] = spec;
      any = true;
    }
  });
  return any ? out : undefined;
}

function composeTransforms<T>(margins: readonly Margin[], context: MarginContext<T>): MarginResult<T> {
  const { ops } = context;
  let cosines = context.cosines;
  let cosTarget = context.cosTarget;
  let logits: T | undefined;
  let scale: T | undefined;
  let auxiliaryLoss: T | undefined;
  const state: Record<string, T> = {};
  for (const m of margins) {
    const r = m.transform({ ...context, cosines, cosTarget });
    if (r.logits !== undefined) cosines = logits = r.logits;
    cosTarget = r.target ?? ops.gatherPerRow(r.logits!, context.labels);
    if (r.scale !== undefined) scale = r.scale;
    if (r.auxiliaryLoss !== undefined) auxiliaryLoss = auxiliaryLoss === undefined ? r.auxiliaryLoss : ops.add(auxiliaryLoss, r.auxiliaryLoss);
    Object.assign(state, r.state ?? {});
  }
  return {
    target: cosTarget,
    ...(logits === undefined ? {} : { logits }),
    ...(scale === undefined ? {} : { scale }),
    ...(auxiliaryLoss === undefined ? {} : { auxiliaryLoss }),
    ...(Object.keys(state).length === 0 ? {} : { state }),
  };
}
