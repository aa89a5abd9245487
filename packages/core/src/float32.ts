/**
 * The one place that knows float32's limits, and the option bounds that follow from them. Every
 * backend computes in float32, so an option that is a fine float64 number can still overflow or
 * underflow there; the readers reject such values with a message that says why.
 *
 * @packageDocumentation
 */

/**
 * The largest finite float32, (2 − 2⁻²³)·2¹²⁷ ≈ 3.4028e38.
 *
 * @example
 * ```ts
 * import { FLOAT32_MAX } from '@marginkit/core';
 * console.log(Math.fround(FLOAT32_MAX) === FLOAT32_MAX); // true
 * ```
 */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The smallest normal float32, 2⁻¹²⁶ ≈ 1.1755e-38 (below it precision is lost, then everything is 0).
 *
 * @example
 * ```ts
 * import { FLOAT32_MIN_NORMAL } from '@marginkit/core';
 * console.log(FLOAT32_MIN_NORMAL === 2 ** -126); // true
 * ```
 */
export const FLOAT32_MIN_NORMAL = 2 ** -126;

/**
 * The bounds of options that float32 limits, each with the reason given in error messages.
 *
 * @example
 * ```ts
 * import { FLOAT32_LIMITS } from '@marginkit/core';
 * console.log(FLOAT32_LIMITS.scale.max); // 1000000
 * ```
 */
export const FLOAT32_LIMITS = {
  /**
   * The logit scale s. The loss subtracts the max, so exp cannot overflow, but the logits s·c and
   * their differences (up to 2s, more with ψ's −2k) must stay finite, and a cosine's float32
   * rounding (≈ 6e-8) times s must stay far below one logit unit; past 1e6 it does not.
   */
  scale: {
    /** The largest accepted value. */
    max: 1e6,
    /** Why, as the error message gives it. */
    why: "the logits s·cos (differences up to 2s) must stay finite in float32 and a cosine's rounding error (≈ 6e-8) times s well below 1",
  },
  /**
   * The angular multiplier m (SphereFace's m, the combined margin's m1). m·θ with θ ≤ π, and
   * ψ's offset −2k with k = ⌊mθ/π⌋ ≤ m, must be representable to well under one period 2π in
   * float32 (ulp(m·π) < 2π/1000 needs m·π < 2²⁴·2π/1000, ≈ 3e4); integer m ≤ 16 use Chebyshev
   * polynomials, whose T_m grows like 2^(m−1) off [−1, 1] and stays finite there.
   */
  angularMultiplier: {
    /** The largest accepted value. */
    max: 1e4,
    /** Why, as the error message gives it. */
    why: 'm·θ (θ ≤ π) must keep float32 precision well under one period 2π, so that cos(m·θ) and ψ are not rounding noise',
  },
  /** SphereFace's annealing λ: (λ·c + f)/(1 + λ) needs λ·c, 1 + λ and their gradients finite in float32. */
  lambda: {
    /** The largest accepted value. */
    max: 1e30,
    /** Why, as the error message gives it. */
    why: 'λ·c and 1 + λ (and their gradients) must stay finite in float32 (max ≈ 3.4e38)',
  },
  /**
   * The L2 normalisation ε: it enters as ε² (x / √max(‖x‖², ε²)), and ε² must be a normal float32
   * (≥ 2⁻¹²⁶ ≈ 1.18e-38), so ε ≥ 2⁻⁶³ ≈ 1.08e-19; ε² below 1.4e-45 is 0 and a zero row gives 0/0.
   */
  normEpsilon: {
    /** The smallest accepted value. */
    min: 2 ** -63,
    /** Why, as the error message gives it. */
    why: 'its square must be a normal float32 (ε² ≥ 1.18e-38, so ε ≥ 2⁻⁶³ ≈ 1.08e-19); smaller squares underflow towards 0',
  },
} as const;
