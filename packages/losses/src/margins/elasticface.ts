import {
  InvalidArgumentError,
  type Margin,
  type MarginContext,
  type MarginResult,
  type RandomSource,
  readChoice,
  readNumber,
  readOptions,
} from '@marginkit/core';
import { rankCounts } from './rank.js';

/** Options of {@link elasticface}. */
export interface ElasticFaceOptions {
  /** `'arc'` (ElasticFace-Arc: cos(θ_y + mᵢ), default) or `'cos'` (ElasticFace-Cos: c_y − mᵢ). */
  readonly variant?: 'arc' | 'cos';
  /** The mean margin (radians for `'arc'`, unitless for `'cos'`). Default 0.5 for `'arc'`, 0.35 for `'cos'`. */
  readonly m?: number;
  /** The standard deviation of the margins, ≥ 0. Default as the reference config: 0.05 (arc, cos), 0.0175 (arc+), 0.02 (cos+). */
  readonly std?: number;
  /** ElasticFace+: sort the margins so that the row with the k-th largest c_y gets the k-th smallest margin. Default false. */
  readonly plus?: boolean;
}

/**
 * ElasticFace (Boutros et al., CVPRW 2022): ArcFace or CosFace with a margin drawn per sample from
 * N(m, σ²) on every step, so that the decision boundary is elastic. The margins are a per-step
 * input (`inputs.margins`, [B]): a head draws them from its seeded generator, which it saves and
 * restores, and a test can feed them. ElasticFace+ (`plus`) assigns them by rank: the easiest
 * counted row (largest c_y, detached) gets the smallest margin, the hardest the largest.
 *
 * Where the reference differs: its ElasticFace+ indexes the sorted margins with the argsort of
 * the cosines (`margin[idicate_cosie]`), which gives row i the margin of rank π(i) where the
 * stated rule needs π⁻¹(i); the two agree only when that permutation is its own inverse. marginkit
 * implements the stated rule. The reference's ElasticFace+ also fails on label −1 (a shape
 * mismatch); here ignored rows take no part in the ranking.
 *
 * Reference code: fdbtrs/ElasticFace `utils/losses.py` (`ElasticArcFace`, `ElasticCosFace`),
 * checked at 5496ec0643bfdcd5e6b53b885aa4e919e26ce442.
 *
 * @param options - `variant`, `m`, `std`, `plus`; see {@link ElasticFaceOptions}.
 * @returns the margin (with the per-step input `margins`).
 *
 * @example
 * ```ts
 * import { elasticface, seededGenerator } from '@marginkit/losses';
 * const margin = elasticface({ variant: 'cos', plus: true });
 * console.log(margin.config, margin.inputs!['margins']!.sample(3, seededGenerator(1)).length); // { type: 'elasticface', variant: 'cos', m: 0.35, std: 0.02, plus: true } 3
 * ```
 */
export function elasticface(options?: ElasticFaceOptions): Margin {
  return elasticfaceFrom(options);
}

/** Builds the margin from unchecked options (a parsed config). @internal */
export function elasticfaceFrom(options: unknown): Margin {
  const o = readOptions('elasticface', options, ['variant', 'm', 'std', 'plus']);
  const variant = readChoice('elasticface.variant', o['variant'], 'arc', ['arc', 'cos']);
  const arc = variant === 'arc';
  const m = readNumber(
    'elasticface.m',
    o['m'],
    arc ? 0.5 : 0.35,
    arc ? { min: 0, max: Math.PI / 2, maxOpen: true, text: '[0, π/2)', radians: true } : { min: 0, max: 2, text: '[0, 2]' },
  );
  const plus = o['plus'] ?? false;
  if (typeof plus !== 'boolean') throw new InvalidArgumentError('elasticface.plus', `must be a boolean, got ${typeof plus}`);
  const std = readNumber('elasticface.std', o['std'], plus ? (arc ? 0.0175 : 0.02) : 0.05, { min: 0, max: 1, text: '[0, 1]' });
  return {
    type: 'elasticface',
    config: { type: 'elasticface', variant, m, std, plus },
    featureScale: 'fixed',
    inputs: {
      margins: {
        sample: (batch: number, random: RandomSource): Float32Array => Float32Array.from({ length: batch }, () => m + std * random.normal()),
      },
    },
    transform<T>(context: MarginContext<T>): MarginResult<T> {
      const { ops, cosTarget, epsilon } = context;
      const margins = plus ? byRank(context) : context.inputs['margins']!;
      if (!arc) return { target: ops.sub(cosTarget, margins) };
      const theta = ops.acos(ops.clip(cosTarget, -1 + epsilon, 1 - epsilon));
      return { target: ops.cos(ops.add(theta, margins)) };
    },
  };
}

/** The k-th smallest margin for the counted row with the k-th largest c_y. */
function byRank<T>({ ops, cosTarget, valid, inputs }: MarginContext<T>): T {
  const margins = inputs['margins']!;
  const rowRank = rankCounts(ops, ops.stopGradient(cosTarget), valid).above; // 0 for the largest c_y
  const marginRank = rankCounts(ops, margins, valid).below; // 0 for the smallest margin
  const diff = ops.sub(ops.reshape(rowRank, [-1, 1]), ops.reshape(marginRank, [1, -1])); // [B, B]
  const same = ops.mul(ops.cast(ops.less(ops.mul(diff, diff), ops.scalar(0.25)), 'float32'), ops.reshape(valid, [1, -1]));
  return ops.sum(ops.mul(same, ops.reshape(margins, [1, -1])), 1);
}
