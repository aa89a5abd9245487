/**
 * The maths of the angular margins: the gradient policy, SphereFace's ψ, the shared target
 * cos(m1·θ + m2) − m3 with its fallback policies (Chebyshev polynomials for integer m1), and the
 * degrees-to-radians helper.
 *
 * @packageDocumentation
 */
import type { Ops } from './create-ops.js';
import { NonFiniteError } from './errors.js';
import type { FallbackPolicy, GradientPolicy, TargetContext } from './margin-types.js';

/**
 * Applies a gradient policy: `'exact'` returns `target`; `'straight-through'` returns
 * `c + stopGradient(target − c)` (the value of `target`, the gradient of `c`).
 *
 * @example
 * ```ts
 * import { applyGradientPolicy, createOps } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * const ops = createOps(tfjsBackend(tf));
 * const c = ops.constant([0.5], [1]);
 * const t = applyGradientPolicy(ops, c, ops.sub(c, ops.scalar(0.35)), 'straight-through');
 * ```
 */
export function applyGradientPolicy<T>(ops: Ops<T>, cosTarget: T, target: T, policy: GradientPolicy): T {
  return policy === 'exact' ? target : ops.add(cosTarget, ops.stopGradient(ops.sub(target, cosTarget)));
}

/**
 * ψ(u) = (−1)ᵏ cos(u) − 2k with k = ⌊u/π⌋: SphereFace's monotone extension of cos past π,
 * continuous and decreasing on [0, ∞). Equal to cos(u) on [0, π].
 *
 * @example
 * ```ts
 * import { psi, createOps } from '@marginkit/core';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * const ops = createOps(tfjsBackend(tf));
 * const y = psi(ops, ops.constant([0, Math.PI, 1.5 * Math.PI], [3]));
 * console.log(Array.from((y as tf.Tensor).dataSync()).map((v) => v.toFixed(3))); // ['1.000', '-1.000', '-2.000']
 * ```
 */
export function psi<T>(ops: Ops<T>, u: T): T {
  const k = ops.floor(ops.div(u, ops.scalar(Math.PI)));
  const parity = ops.sub(k, ops.mul(ops.scalar(2), ops.floor(ops.div(k, ops.scalar(2))))); // k mod 2
  const sign = ops.sub(ops.scalar(1), ops.mul(ops.scalar(2), parity));
  return ops.sub(ops.mul(sign, ops.cos(u)), ops.mul(ops.scalar(2), k));
}

/** The parameters of the shared angular margin cos(m1·θ + m2) − m3. @internal */
export interface AngularParams {
  readonly m1: number;
  readonly m2: number;
  readonly m3: number;
  readonly fallback: FallbackPolicy;
}

/**
 * The shared base of the built-in margins: cos(m1·θ_y + m2) − m3 with a fallback policy.
 * CosFace (m1 = 1, m2 = 0) needs no angle and is computed as c_y − m3 directly; integer m1
 * (ArcFace, SphereFace m = 4, …) uses Chebyshev polynomials; other m1 use acos and cos.
 * @internal
 */
export function angularTarget<T>(cosTarget: T, { ops, epsilon }: TargetContext<T>, p: AngularParams): T {
  const { m1, m2, m3, fallback } = p;
  const c = cosTarget;
  let target: T;
  if (m1 === 1 && m2 === 0) {
    target = ops.sub(c, ops.scalar(m3));
  } else if (Number.isInteger(m1) && m1 <= MAX_POLYNOMIAL_M1) {
    target = polynomialAngular(ops, c, epsilon, p);
  } else {
    // Non-integer m1 (no 'linear' here: the factories allow it for m1 = 1 only).
    const theta = ops.acos(ops.clip(c, -1 + epsilon, 1 - epsilon));
    const u = ops.add(ops.mul(ops.scalar(m1), theta), ops.scalar(m2));
    const angular = fallback === 'psi' ? psi(ops, u) : ops.cos(u);
    target = m3 === 0 ? angular : ops.sub(angular, ops.scalar(m3));
  }
  if (fallback === 'easy') target = ops.where(ops.greater(c, ops.scalar(0)), target, c);
  return target;
}

/** Integer m1 up to this use the Chebyshev path of {@link angularTarget}. */
const MAX_POLYNOMIAL_M1 = 16;

/**
 * cos(m1·θ + m2) − m3 (and its ψ extension) for integer m1 without acos or cos on tensors:
 * cos(m1θ) = T_m1(c) and sin(m1θ) = sin θ·U_{m1−1}(c) (Chebyshev polynomials, sin θ = √(1 − c²)),
 * so cos(m1θ + m2) = T·cos m2 − sin θ·U·sin m2; for ψ, k = ⌊(m1θ + m2)/π⌋ counts the j with
 * θ ≥ (jπ − m2)/m1, i.e. comparisons of c with fixed cosines. Same values and derivatives as
 * the trigonometric form (the original SphereFace computed cos(mθ) this way), exact to float32
 * rounding on every backend (WebGL's GLSL acos/cos are not), and cheaper.
 */
function polynomialAngular<T>(ops: Ops<T>, c: T, epsilon: number, { m1, m2, m3, fallback }: AngularParams): T {
  const cc = ops.clip(c, -1 + epsilon, 1 - epsilon);
  const one = ops.scalar(1);
  const twoC = ops.mul(ops.scalar(2), cc);
  let [tPrev, t] = [one, cc]; // T0, T1
  let [uPrev, u] = [ops.scalar(0), one]; // U−1, U0
  for (let n = 1; n < m1; n++) {
    [tPrev, t] = [t, ops.sub(ops.mul(twoC, t), tPrev)];
    [uPrev, u] = [u, ops.sub(ops.mul(twoC, u), uPrev)];
  }
  let angular = t;
  if (m2 !== 0) {
    const sinTheta = ops.sqrt(ops.sub(one, ops.mul(cc, cc)));
    angular = ops.sub(ops.mul(t, ops.scalar(Math.cos(m2))), ops.mul(ops.mul(sinTheta, u), ops.scalar(Math.sin(m2))));
  }
  if (fallback === 'psi') {
    // k = #{j ≥ 1 : θ ≥ (jπ − m2)/m1}, θ ∈ [0, π]: always for (jπ − m2)/m1 ≤ 0, never past π.
    let always = 0;
    let k: T | undefined;
    for (let j = 1; (j * Math.PI - m2) / m1 <= Math.PI; j++) {
      const phi = (j * Math.PI - m2) / m1;
      if (phi <= 0) always++;
      else {
        const step = ops.cast(ops.less(cc, ops.scalar(Math.cos(phi))), 'float32');
        k = k === undefined ? step : ops.add(k, step);
      }
    }
    if (k !== undefined || always > 0) {
      const kk = k === undefined ? ops.scalar(always) : always > 0 ? ops.add(k, ops.scalar(always)) : k;
      const parity = ops.sub(kk, ops.mul(ops.scalar(2), ops.floor(ops.div(kk, ops.scalar(2)))));
      angular = ops.sub(ops.mul(ops.sub(one, ops.mul(ops.scalar(2), parity)), angular), ops.mul(ops.scalar(2), kk));
    }
  }
  let target = m3 === 0 ? angular : ops.sub(angular, ops.scalar(m3));
  if (fallback === 'linear') {
    // Past θ > π − m2, continue linearly: c − m2·sin(m2) − m3 (insightface's th / mm).
    const linear = ops.sub(c, ops.scalar(m2 * Math.sin(m2) + m3));
    target = ops.where(ops.greater(c, ops.scalar(Math.cos(Math.PI - m2))), target, linear);
  }
  return target;
}

/**
 * Converts degrees to radians, for people coming from pytorch-metric-learning, whose ArcFace
 * takes its margin in degrees (28.6° ≈ 0.5 rad).
 *
 * @param value - an angle in degrees.
 * @returns the angle in radians.
 *
 * @example
 * ```ts
 * import { arcface, degrees } from '@marginkit/core';
 * const margin = arcface({ m: degrees(28.6) });
 * console.log(margin.config.m); // 0.4991641660703783
 * ```
 */
export function degrees(value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new NonFiniteError('degrees.value', `must be a finite number, got ${String(value)}`);
  return (value * Math.PI) / 180;
}
