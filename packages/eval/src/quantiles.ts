/**
 * The normal and beta quantiles behind the confidence intervals, in double precision and with no
 * dependency (a browser bundle of the eval package carries no statistics library):
 * - Φ⁻¹ by Wichura's algorithm AS 241 (PPND16), about 1e-16 relative;
 * - the regularized incomplete beta I_x(a, b) by its continued fraction, with the prefactor
 *   x^a (1−x)^b / B(a, b) from Loader's saddle-point form (deviance and Stirling error), which keeps
 *   full precision for shapes in the millions (the counts of IJB-C impostor pairs);
 * - the beta quantile by Newton's method inside a bracket that bisection keeps.
 */

// AS 241 (Applied Statistics 37 (1988) 477–484), coefficients lowest degree first, each the double
// nearest the published 20 digits.
const A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987, 67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const B = [1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271, 28729.085735721943, 5226.495278852854];
const C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684, 0.2417807251774506, 0.022723844989269184,
  0.0007745450142783414,
];
const D = [1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457, 0.0005475938084995345, 1.0507500716444169e-9];
const E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124, 0.0012426609473880784, 0.000027115555687434876,
  2.0103343992922881e-7,
];
const F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133, 0.000018463183175100548, 1.421511758316446e-7, 2.0442631033899397e-15,
];

function polynomial(coefficients: readonly number[], x: number): number {
  let sum = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) sum = sum * x + coefficients[i]!;
  return sum;
}

/**
 * Φ⁻¹(p), the standard normal quantile, for p in (0, 1) (AS 241). Unchecked.
 * @internal
 */
export function standardNormalQuantile(p: number): number {
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * polynomial(A, r)) / polynomial(B, r);
  }
  const r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  const z = r <= 5 ? polynomial(C, r - 1.6) / polynomial(D, r - 1.6) : polynomial(E, r - 5) / polynomial(F, r - 5);
  return q < 0 ? -z : z;
}

const HALF_LN_2PI = 0.5 * Math.log(2 * Math.PI);

/** δ(z) = ln Γ(z) − ((z − ½) ln z − z + ½ ln 2π), the error of Stirling's formula, for z > 0. */
function stirlingError(z: number): number {
  // δ(z) − δ(z + 1) = (z + ½) ln(1 + 1/z) − 1 carries z up to where the asymptotic series is exact in double.
  let sum = 0;
  let w = z;
  for (; w < 15; w++) sum += (w + 0.5) * Math.log1p(1 / w) - 1;
  const w2 = 1 / (w * w);
  return sum + (1 / 12 - w2 * (1 / 360 - w2 * (1 / 1260 - w2 * (1 / 1680 - w2 * (1 / 1188 - (w2 * 691) / 360360))))) / w;
}

/** k ln(k/m) + m − k ≥ 0 without cancellation (Loader's bd0), for k, m > 0. */
function deviance(k: number, m: number): number {
  const d = k - m;
  if (Math.abs(d) >= 0.1 * (k + m)) return k * Math.log(k / m) + m - k;
  // k ln(k/m) + m − k = d·v + 2k Σ_{j≥1} v^(2j+1) / (2j + 1), v = d / (k + m).
  const v = d / (k + m);
  const v2 = v * v;
  let sum = d * v;
  let term = 2 * k * v;
  for (let j = 1; ; j++) {
    term *= v2;
    const next = sum + term / (2 * j + 1);
    if (next === sum) return sum;
    sum = next;
  }
}

/** x^a (1−x)^b / B(a, b) for x in (0, 1), as exp of −deviances + ½ ln(ab / 2πc) + Stirling errors (c = a + b). */
function betaPowerTerm(x: number, y: number, a: number, b: number): number {
  const c = a + b;
  const log = -deviance(a, c * x) - deviance(b, c * y) + 0.5 * Math.log((a / c) * b) - HALF_LN_2PI + stirlingError(c) - stirlingError(a) - stirlingError(b);
  return Math.exp(log);
}

const TINY = 1e-300;
// The fraction converges in ~600 terms at a = b = 1e6, ~60 000 at 1e12 and ~1e6 at 2^52: this
// bound is not reached for shapes up to 2^53 (counts of trials in a double).
const MAX_TERMS = 10_000_000;

/**
 * x^a y^b / (B(a, b) · I_x(a, b)) as the continued fraction b₀ + a₁/(b₁ + a₂/(b₂ + …)) of Didonato
 * and Morris (ACM TOMS 18 (1992), as in Boost's ibeta_fraction2), by the modified Lentz method. Its
 * terms use x and y = 1 − x apart, so that neither 1 − x nor a·y − b·x + 1 cancels when x or y is
 * tiny; fast for x < (a + 1) / (a + b + 2).
 */
function betaContinuedFraction(x: number, y: number, a: number, b: number): number {
  const guard = (v: number) => (v === 0 ? TINY : v);
  const bTerm = (m: number) => m + (m * (b - m) * x) / (a + 2 * m - 1) + ((a + m) * (a * y - b * x + 1 + m * (2 - x))) / (a + 2 * m + 1);
  let f = guard((a * (a * y - b * x + 1)) / (a + 1)); // b₀ (bTerm(0) would divide 0 by 0 at a = 1)
  let c = f;
  let d = 0;
  for (let m = 1; m <= MAX_TERMS; m++) {
    const denominator = a + 2 * m - 1;
    const aTerm = ((a + m - 1) * (a + b + m - 1) * m * (b - m) * x * x) / (denominator * denominator);
    const bm = bTerm(m);
    d = 1 / guard(bm + aTerm * d);
    c = guard(bm + aTerm / c);
    const step = c * d;
    f *= step;
    if (Math.abs(step - 1) <= Number.EPSILON) break;
  }
  return f;
}

/**
 * The two tails of the beta distribution at x: [I_x(a, b), 1 − I_x(a, b)], each to full relative
 * precision where it is the smaller; and the density x^(a−1) (1−x)^(b−1) / B(a, b). For x in [0, 1], a, b > 0.
 * @internal
 */
export function betaTails(x: number, a: number, b: number): { lower: number; upper: number; density: number } {
  if (x <= 0) return { lower: 0, upper: 1, density: a < 1 ? Number.POSITIVE_INFINITY : a === 1 ? b : 0 };
  if (x >= 1) return { lower: 1, upper: 0, density: b < 1 ? Number.POSITIVE_INFINITY : b === 1 ? a : 0 };
  const y = 1 - x;
  const power = betaPowerTerm(x, y, a, b);
  const density = power / (x * y);
  if (x < (a + 1) / (a + b + 2)) {
    const lower = power / betaContinuedFraction(x, y, a, b);
    return { lower, upper: 1 - lower, density };
  }
  const upper = power / betaContinuedFraction(y, x, b, a);
  return { lower: 1 - upper, upper, density };
}

/**
 * The beta quantile: x with I_x(a, b) = p, for p in (0, 1), a, b > 0. Unchecked. Solves on the
 * smaller tail (p ≤ ½: I_x = p, else 1 − I_x = 1 − p), so that both tails keep their precision.
 * @internal
 */
export function betaQuantile(p: number, a: number, b: number): number {
  const upperTail = p > 0.5;
  const target = upperTail ? 1 - p : p;
  // f(x) = tail(x) − target, increasing in x. Start from the normal approximation, inside (0, 1).
  const mean = a / (a + b);
  const sd = Math.sqrt((mean * (1 - mean)) / (a + b + 1));
  let x = mean + standardNormalQuantile(p) * sd;
  let lo = 0;
  let hi = 1;
  if (!(x > 0 && x < 1)) x = x <= 0 ? mean / 2 : (1 + mean) / 2;
  for (let i = 0; i < 200; i++) {
    const t = betaTails(x, a, b);
    const f = upperTail ? target - t.upper : t.lower - target;
    if (f === 0) return x;
    if (f < 0) lo = x;
    else hi = x;
    let next = x - f / t.density;
    // Newton's step when it stays inside the bracket, else bisection.
    if (!(next > lo && next < hi)) next = lo + (hi - lo) / 2;
    if (Math.abs(next - x) <= 4 * Number.EPSILON * x || hi - lo <= 4 * Number.EPSILON * x) return next;
    x = next;
  }
  return x;
}
