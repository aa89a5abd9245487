import { EvalInputError } from './errors.js';

/** `'wilson'` (score interval) or `'clopper-pearson'` (exact, conservative). */
export type IntervalMethod = 'wilson' | 'clopper-pearson';

/** A confidence interval for a binomial proportion k / n. */
export interface BinomialInterval {
  /** The method used. */
  readonly method: IntervalMethod;
  /** The confidence level, e.g. 0.95. */
  readonly confidence: number;
  /** k / n. */
  readonly estimate: number;
  /** Lower bound. */
  readonly lower: number;
  /** Upper bound. */
  readonly upper: number;
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). @internal */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

/** The regularised incomplete beta I_x(a, b). @internal */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(x, a, b)) / a : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** The p-quantile of Beta(a, b), by bisection to full double precision. @internal */
export function betaQuantile(p: number, a: number, b: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-17; i++) {
    const mid = (lo + hi) / 2;
    if (regularizedBeta(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** erfc(x), via the regularised upper incomplete gamma Q(1/2, x²). @internal */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  const a = 0.5;
  const y = x * x;
  if (y === 0) return 1;
  const gln = lnGamma(a);
  if (y < a + 1) {
    let sum = 1 / a;
    let del = sum;
    let ap = a;
    for (let n = 0; n < 10000; n++) {
      ap += 1;
      del *= y / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-17) break;
    }
    return 1 - sum * Math.exp(-y + a * Math.log(y) - gln);
  }
  const tiny = 1e-300;
  let b = y + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-17) break;
  }
  return Math.exp(-y + a * Math.log(y) - gln) * h;
}

/**
 * The standard normal quantile Φ⁻¹(p): Acklam's approximation refined by Halley steps on erfc,
 * accurate to ~1e-15.
 *
 * @param p - a probability in (0, 1).
 * @returns z with Φ(z) = p.
 *
 * @example
 * ```ts
 * import { normalQuantile } from '@marginkit/eval';
 * console.log(normalQuantile(0.975).toFixed(6)); // '1.959964'
 * ```
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new EvalInputError('p', `must be in (0, 1), got ${p}`);
  let x = acklam(p);
  for (let i = 0; i < 2; i++) {
    const e = 0.5 * erfc(-x / Math.SQRT2) - p;
    const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
    x -= u / (1 + (x * u) / 2);
  }
  return x;
}

/** Acklam's rational approximation of Φ⁻¹ (relative error < 1.2e-9): enough to place a pixel. @internal */
export function acklam(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  return x;
}

/**
 * A confidence interval for a proportion of k successes in n trials: Wilson's score interval
 * (default) or the exact Clopper–Pearson interval. Use it for TAR (k accepted genuine pairs of n)
 * and FAR (k accepted impostor pairs of n).
 *
 * @param k - successes, an integer in [0, n].
 * @param n - trials, a positive integer.
 * @param options - method (default `'wilson'`) and confidence (default 0.95).
 * @returns the interval.
 *
 * @example
 * ```ts
 * import { binomialInterval } from '@marginkit/eval';
 * const ci = binomialInterval(0, 1000, { method: 'clopper-pearson' });
 * console.log(ci.upper.toFixed(5)); // '0.00368' (the "rule of three": about 3/n)
 * ```
 */
export function binomialInterval(k: number, n: number, options: { readonly method?: IntervalMethod; readonly confidence?: number } = {}): BinomialInterval {
  const method = options.method ?? 'wilson';
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(n) || n < 1) throw new EvalInputError('n', `must be a positive integer, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new EvalInputError('k', `must be an integer in [0, ${n}], got ${k}`);
  if (!(confidence > 0 && confidence < 1)) throw new EvalInputError('confidence', `must be in (0, 1), got ${confidence}`);
  if (method !== 'wilson' && method !== 'clopper-pearson')
    throw new EvalInputError('method', `must be 'wilson' or 'clopper-pearson', got ${JSON.stringify(method)}`);
  const alpha = 1 - confidence;
  const estimate = k / n;
  if (method === 'clopper-pearson') {
    const lower = k === 0 ? 0 : betaQuantile(alpha / 2, k, n - k + 1);
    const upper = k === n ? 1 : betaQuantile(1 - alpha / 2, k + 1, n - k);
    return { method, confidence, estimate, lower, upper };
  }
  const z = normalQuantile(1 - alpha / 2);
  const z2 = z * z;
  const centre = (k + z2 / 2) / (n + z2);
  const half = (z / (n + z2)) * Math.sqrt((k * (n - k)) / n + z2 / 4);
  return { method, confidence, estimate, lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}
