#!/usr/bin/python3
"""Reference quantiles for @marginkit/eval's quantiles.ts, in 60-digit arithmetic (mpmath):

- the standard normal quantile Φ⁻¹(p), by Newton's method on mpmath's ncdf;
- the beta tails I_x(a, b) and 1 − I_x(a, b) and the beta quantile for the integer shapes of the
  Clopper–Pearson bounds of k successes in n trials (lower: a = k, b = n − k + 1; upper: a = k + 1,
  b = n − k), from the binomial identity I_x(a, b) = P(Bin(a + b − 1, x) ≥ a), summed exactly over
  the min(a, b) terms of the smaller side — no incomplete-beta code, so the reference shares no
  numerics with the TypeScript (and is exact where scipy's beta.ppf is not: at a = 7, b = 1e9 it
  is off by 1.5e-8 relative);
- a few non-integer shapes, from mpmath's hypergeometric betainc.

Run with Debian's interpreter (python3-mpmath, python3-scipy):  /usr/bin/python3 tools/make_quantile_fixtures.py
Writes fixtures/quantiles.json. CI does not run this; the file is committed.
"""
import json
import os

import mpmath as mp
from scipy import stats

mp.mp.dps = 60
OUT = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'quantiles.json')

NORMAL_P = [1e-300, 1e-100, 1e-20, 1e-10, 1e-6, 1e-4, 0.001, 0.01, 0.02425, 0.025, 0.05, 0.075, 0.1, 0.2, 0.3, 0.4, 0.45,
            0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999, 1 - 1e-6, 1 - 1e-10, 1 - 2 ** -52]
BETA_P = [1e-10, 1e-6, 5e-4, 0.005, 0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975, 0.995, 0.9995, 1 - 1e-6]
# (k, n): rule-of-three counts, half and near-full proportions, FAR counts of IJB-C's 15.6M
# impostor pairs, TAR counts of its ~20k genuine pairs, and n = 1e9.
COUNTS = [(0, 1), (1, 1), (1, 2), (3, 7), (0, 1000), (1, 1000), (10, 1000), (500, 1000), (999, 1000), (1000, 1000), (1, 10 ** 6),
          (3, 10 ** 6), (156, 15_600_000), (1560, 15_600_000), (15600, 15_600_000), (18000, 20000), (19990, 20000), (7, 10 ** 9),
          (10 ** 9 - 3, 10 ** 9)]
REAL_SHAPES = [(0.5, 0.5), (2.5, 3.75), (0.3, 40.0), (120.5, 7.25)]


def normal_quantile(p):
    p = mp.mpf(p)
    z = mp.mpf(float(stats.norm.ppf(float(p))))
    for _ in range(100):
        step = (mp.ncdf(z) - p) / mp.npdf(z)
        z -= step
        if abs(step) <= abs(z) * mp.mpf(10) ** -35 + mp.mpf(10) ** -300:
            break
    return z


def integer_tails(x, a, b):
    """(I_x(a, b), 1 − I_x(a, b)) for integer a, b: the binomial tails of Bin(a + b − 1, x)."""
    n = a + b - 1
    if a <= b:  # 1 − I = P(X < a): a terms, by the ratio of consecutive terms
        term, small = (1 - x) ** n, mp.mpf(0)
        for j in range(a):
            small += term
            term *= (n - j) * x / ((j + 1) * (1 - x))
        return 1 - small, small
    term, small = x ** n, mp.mpf(0)  # I = P(n − X < b), with n − X ~ Bin(n, 1 − x)
    for j in range(b):
        small += term
        term *= (n - j) * (1 - x) / ((j + 1) * x)
    return small, 1 - small


def density(x, a, b):
    return mp.exp((a - 1) * mp.log(x) + (b - 1) * mp.log1p(-x) - mp.log(mp.beta(a, b)))


def beta_quantile(p, a, b, tails):
    """Newton on the smaller tail from scipy's value, to 1e-30 relative."""
    p = mp.mpf(p)
    x = mp.mpf(float(stats.beta.ppf(float(p), float(a), float(b))))
    for _ in range(200):
        lower, upper = tails(x, a, b)
        f = lower - p if p <= 0.5 else (1 - p) - upper
        step = f / density(x, a, b)
        x = min(max(x - step, x / 2), (1 + x) / 2)
        if abs(step) <= x * mp.mpf(10) ** -30:
            return x
    raise RuntimeError(f'no convergence at p={p}, a={a}, b={b}')


def real_tails(x, a, b):
    lower = mp.betainc(a, b, 0, x, regularized=True)
    upper = mp.betainc(a, b, x, 1, regularized=True)
    return lower, upper


def main():
    normal = [{'p': p, 'z': float(normal_quantile(p))} for p in NORMAL_P]
    shapes = []
    for k, n in COUNTS:
        if k > 0:
            shapes.append((k, n - k + 1, integer_tails))
        if k < n:
            shapes.append((k + 1, n - k, integer_tails))
    shapes += [(mp.mpf(a), mp.mpf(b), real_tails) for a, b in REAL_SHAPES]
    beta = []
    for a, b, tails in shapes:
        for p in BETA_P:
            x = beta_quantile(p, a, b, tails)
            beta.append({'p': p, 'a': float(a), 'b': float(b), 'x': float(x)})
            # The tails at the double nearest the quantile, for the incomplete beta itself.
            xd = mp.mpf(float(x))
            lower, upper = tails(xd, a, b)
            beta[-1]['tails'] = {'x': float(xd), 'lower': float(lower), 'upper': float(upper)}
    with open(OUT, 'w') as f:  # one row a line
        rows = lambda xs: ',\n'.join('  ' + json.dumps(x) for x in xs)
        f.write(f'{{\n "normal": [\n{rows(normal)}\n ],\n "beta": [\n{rows(beta)}\n ]\n}}\n')
    print(f'wrote {OUT}: {len(normal)} normal and {len(beta)} beta quantiles')


if __name__ == '__main__':
    main()
