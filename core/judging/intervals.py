"""Confidence-interval formulas on arrays: each vectorised over leading axes, so a simulation computes
thousands of intervals at once (the coverage tests, the sequential design's simulations) and
core.judging.estimators computes one. Two-sided (1 − alpha) intervals; alpha may be an array.

- `t_bounds`: Student-t for a mean, with the sd floored at resolution/√12.
- `fieller_bounds`: Fieller's interval for a ratio of paired means.
- `wilson_bounds`, `newcombe_bounds`: Wilson's score interval of a proportion; Newcombe's paired
  square-and-add interval of a difference of proportions.
- `bca_bounds`: the BCa bootstrap interval of a mean.
- `hl_bounds`: the Hodges–Lehmann pseudo-median with the exact signed-rank interval.
- `median_bounds`: the median with the sign-test (order-statistic) interval, interpolated as
  Hettmansperger & Sheather (1986): `--estimator robust`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.special import bdtr, ndtr, ndtri, stdtrit

Array = np.ndarray


def t_bounds(d: Array, alpha: float | Array, resolution: float = 0.0) -> tuple[Array, Array, Array]:
    """(mean, low, high) of the Student-t interval of the mean of d (..., n) along the last axis.

    The sd is floored at resolution/√12: a measure on a grid of step h cannot show a spread below
    the sd of a rounding error uniform on one grid cell, h/√12 (Sheppard), so seeds that agree
    exactly give an interval of honest width, never zero. n < 2 (or no spread and no resolution)
    gives an infinite interval."""
    d = np.asarray(d, dtype=np.float64)
    n = d.shape[-1]
    mean = d.mean(axis=-1)
    if n < 2:
        return mean, np.full_like(mean, -np.inf), np.full_like(mean, np.inf)
    sd = np.maximum(d.std(axis=-1, ddof=1), resolution / math.sqrt(12.0))
    half = stdtrit(n - 1, 1.0 - np.asarray(alpha) / 2.0) * sd / math.sqrt(n)
    half = np.where(sd > 0, half, np.inf)
    return mean, mean - half, mean + half


def fieller_bounds(ya: Array, yb: Array, alpha: float | Array,
                   resolution: float = 0.0) -> tuple[Array, Array, Array]:
    """(ratio, low, high): Fieller's interval for mean(ya)/mean(yb) of paired rows (..., n).

    The set {R : (ȳa − R ȳb)² ≤ t² var(ya − R yb)/n} (Fieller 1954), exact under bivariate
    normality; var(ya − R yb) is floored at (1 + R²) h²/12, the rounding variance of a − R b, by
    taking the hull with the interval of that floor. Unbounded sets give (0, inf) or (low, inf)."""
    ya, yb = np.asarray(ya, dtype=np.float64), np.asarray(yb, dtype=np.float64)
    n = ya.shape[-1]
    ma, mb = ya.mean(axis=-1), yb.mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = ma / mb
    if n < 2:
        return ratio, np.zeros_like(ratio), np.full_like(ratio, np.inf)
    va, vb = ya.var(axis=-1, ddof=1), yb.var(axis=-1, ddof=1)
    cov = ((ya - ma[..., None]) * (yb - mb[..., None])).sum(axis=-1) / (n - 1)
    q = stdtrit(n - 1, 1.0 - np.asarray(alpha) / 2.0) ** 2 / n
    floor = resolution**2 / 12.0
    lo1, hi1 = fieller_roots(ma, mb, va, vb, cov, q)
    lo2, hi2 = fieller_roots(ma, mb, np.full_like(va, floor), np.full_like(vb, floor), np.zeros_like(cov), q)
    return ratio, np.maximum(np.minimum(lo1, lo2), 0.0), np.maximum(hi1, hi2)


def fieller_roots(ma: Array, mb: Array, va: Array, vb: Array, cov: Array, q: Array) -> tuple[Array, Array]:
    """Roots of (ma − R mb)² − q (va − 2R cov + R² vb) = 0; (−inf, inf) where the set is unbounded
    (including q = inf, a look at level 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = mb**2 - q * vb
        b = ma * mb - q * cov
        c = ma**2 - q * va
        disc = b**2 - a * c
        bounded = (a > 0) & (disc >= 0)
        root = np.sqrt(np.maximum(disc, 0.0))
        lo, hi = (b - root) / a, (b + root) / a
    return np.where(bounded, lo, -np.inf), np.where(bounded, hi, np.inf)


def wilson_bounds(x: Array, n: Array, z: Array) -> tuple[Array, Array]:
    """The Wilson score interval (low, high) of a proportion x/n at normal quantile z (Wilson 1927)."""
    x, n = np.asarray(x, dtype=np.float64), np.asarray(n, dtype=np.float64)
    p = x / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return centre - half, centre + half


def newcombe_bounds(a: Array, b: Array, c: Array, d: Array,
                    alpha: float | Array) -> tuple[Array, Array, Array]:
    """(effect, low, high): Newcombe's (1998, method 10) interval for p_first − p_second of paired
    binary outcomes; a = both fail, b = first only, c = second only, d = neither (counts, may be
    fractional for projections). Square-and-add of the two Wilson intervals with the correlation φ
    of the table (φ = max(ad − bc − n/2, 0)/√(efgh) when ad > bc, as in the paper). Inside [−1, 1]."""
    a, b, c, d = (np.asarray(v, dtype=np.float64) for v in (a, b, c, d))
    n = a + b + c + d
    z = np.minimum(ndtri(1.0 - np.asarray(alpha) / 2.0), 1e8)  # alpha 0: Wilson bounds 0 and 1
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_bounds(a + b, n, z)
    l2, u2 = wilson_bounds(a + c, n, z)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    cross = np.where(cross > n / 2, cross - n / 2, np.where(cross >= 0, 0.0, cross))
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(margins > 0, cross / np.sqrt(margins), 0.0)
    effect = p1 - p2
    low = effect - np.sqrt(np.maximum((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    high = effect + np.sqrt(np.maximum((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return effect, np.maximum(low, -1.0), np.minimum(high, 1.0)


def bca_bounds(d: Array, alpha: float, rng: np.random.Generator,
               n_boot: int = 9999) -> tuple[Array, Array, Array]:
    """(mean, low, high): BCa bootstrap interval of the mean of d (..., n) (Efron 1987).

    One multinomial resampling matrix serves every row; the acceleration of the mean has the
    closed jackknife form Σ(x − x̄)³ / (6 (Σ(x − x̄)²)^1.5)."""
    d = np.asarray(d, dtype=np.float64)
    boot, z0, acc = bca_parts(d, rng, n_boot)
    alphas = np.array([alpha / 2.0, 1.0 - alpha / 2.0])
    pct = bca_percentiles(z0[..., None], acc[..., None], ndtri(alphas))
    idx = np.clip(np.floor(pct * (n_boot - 1) + 0.5).astype(np.int64), 0, n_boot - 1)
    ends = np.take_along_axis(boot, idx, axis=-1)
    return d.mean(axis=-1), ends[..., 0], ends[..., 1]


def bca_parts(d: Array, rng: np.random.Generator, n_boot: int) -> tuple[Array, Array, Array]:
    """Sorted bootstrap means (..., B), bias correction z0 (...,) and acceleration (...,)."""
    n = d.shape[-1]
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)  # (B, n)
    boot = np.sort(d @ counts.T / n, axis=-1)
    mean = d.mean(axis=-1, keepdims=True)
    below = ((boot < mean).sum(axis=-1) + 0.5 * (boot == mean).sum(axis=-1)) / n_boot
    z0 = ndtri(np.clip(below, 0.5 / n_boot, 1 - 0.5 / n_boot))
    dev = d - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = np.nan_to_num((dev**3).sum(axis=-1) / (6.0 * (dev**2).sum(axis=-1) ** 1.5))
    return boot, z0, acc


def bca_percentiles(z0: Array, acc: Array, z: Array) -> Array:
    """The BCa-adjusted percentile Φ(z0 + (z0 + z)/(1 − a(z0 + z))) of the nominal quantile z."""
    w = z0 + z
    return ndtr(z0 + w / (1.0 - acc * w))


@lru_cache(maxsize=128)
def signed_rank_cdf(n: int) -> tuple[float, ...]:
    """P(W⁺ ≤ w) for w = 0 … n(n+1)/2 under the null (exact, by counting subsets of ranks)."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for k in range(1, n + 1):
        shifted = counts.copy()
        shifted[k:] += counts[:-k]
        counts = shifted
    return tuple(np.cumsum(counts) / counts.sum())


def signed_rank_index(n: int, alpha: float) -> int:
    """The 0-based index k of the Walsh average that bounds the (1 − alpha) Hodges–Lehmann interval
    below (w_(k), w_(M−1−k)): the largest k with P(W⁺ ≤ k) ≤ alpha/2; −1 when no interval of this
    level exists at n seeds (2·2⁻ⁿ > alpha)."""
    return int(np.searchsorted(np.asarray(signed_rank_cdf(n)), alpha / 2, side="right")) - 1


def walsh(d: Array) -> Array:
    """The sorted Walsh averages (d_i + d_j)/2, i ≤ j, along the last axis (..., n(n+1)/2)."""
    d = np.asarray(d, dtype=np.float64)
    i, j = np.triu_indices(d.shape[-1])
    return np.sort((d[..., i] + d[..., j]) / 2, axis=-1)


def hl_bounds(d: Array, alpha: float) -> tuple[Array, Array, Array]:
    """(Hodges–Lehmann estimate, low, high) along the last axis: the median of the Walsh averages and
    the exact Wilcoxon signed-rank interval (distribution-free for a symmetric law; its estimand is
    the pseudo-median). ±inf when n seeds cannot reach the level."""
    w = walsh(d)
    k = signed_rank_index(np.asarray(d).shape[-1], alpha)
    centre = np.median(w, axis=-1)
    if k < 0:
        return centre, np.full_like(centre, -np.inf), np.full_like(centre, np.inf)
    return centre, w[..., k], w[..., w.shape[-1] - 1 - k]


def skewness(d: Array) -> Array:
    """The sample skewness g1 along the last axis (0 when there is no spread)."""
    d = np.asarray(d, dtype=np.float64)
    c = d - d.mean(axis=-1, keepdims=True)
    m2 = (c**2).mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (c**3).mean(axis=-1) / m2**1.5
    return np.where(m2 > 0, g, 0.0)


@lru_cache(maxsize=256)
def sign_coverage(n: int) -> tuple[float, ...]:
    """γ_k = P(X_(k) ≤ median ≤ X_(n+1−k)) = 1 − 2 P(B ≤ k − 1), B ~ Bin(n, ½), for k = 1 … ⌊n/2⌋ + 1:
    the exact coverage of the order-statistic interval of the median for any continuous law (the
    last entry, 0, is the interval shrunk to the sample median)."""
    k = np.arange(1, n // 2 + 1)
    return (*np.maximum(1.0 - 2.0 * bdtr(k - 1, n, 0.5), 0.0).tolist(), 0.0)


# When no sign interval reaches the level, the widest one, [min, max], is still given if its error
# rate 2^(1−n) is at most REACH × alpha: at 5 seeds and 95% that is [min, max] at 93.75% (the most 5
# seeds can give); at the family levels (≤ 0.5%) it changes nothing (2^(1−n) jumps by halves).
REACH = 1.3


def median_weights(n: int, alpha: float) -> tuple[int, float]:
    """(k, λ): the (1 − alpha) interpolated sign interval's lower end is (1 − λ) X_(k) + λ X_(k+1)
    (1-based order statistics; the upper end mirrors it), by Hettmansperger & Sheather's (1986)
    λ = (n − k) I / (k + (n − 2k) I), I = (γ_k − (1 − alpha)) / (γ_k − γ_{k+1}), with γ_k ≥ 1 − alpha
    > γ_{k+1} (`sign_coverage`). k = 0 when n seeds cannot reach the level (1 − alpha > γ_1 = 1 − 2^(1−n)),
    except that [min, max] (k = 1, λ = 0) stands in when 2^(1−n) ≤ REACH · alpha."""
    gamma = sign_coverage(n) if n >= 1 else (0.0,)
    level = 1.0 - alpha
    if n < 2 or level > gamma[0]:
        return (1, 0.0) if n >= 2 and 1.0 - gamma[0] <= REACH * alpha else (0, 0.0)
    k = next((i for i in range(1, len(gamma)) if gamma[i] < level), len(gamma) - 1)  # γ_k ≥ level > γ_{k+1}
    g_k, g_next = gamma[k - 1], gamma[k]
    share = min(max((g_k - level) / (g_k - g_next), 0.0), 1.0)
    if k + 1 > (n + 1) / 2:  # past the two middle order statistics: towards the sample median
        return k, share
    return k, (n - k) * share / (k + (n - 2 * k) * share)


def median_bounds(d: Array, alpha: float, centre: bool = True) -> tuple[Array, Array, Array]:
    """(median, low, high) along the last axis: the sample median with the sign-test interval of the
    population median, interpolated between order statistics (`median_weights`). Distribution-free:
    for any continuous law its coverage lies between γ_{k+1} and γ_k, and the interpolation brings it
    within about a point of the nominal level (bench/coverage.py); ±inf when n seeds cannot reach
    the level. Only the order statistics it needs are placed (np.partition), so a simulation of
    many samples is linear in n; `centre=False` skips the median (NaN) unless the ends need it."""
    x = np.asarray(d, dtype=np.float64)
    n = x.shape[-1]
    k, lam = median_weights(n, alpha)
    middle = k + 1 > (n + 1) / 2  # between the middle pair and the median itself
    if centre or middle or k == 0:
        x = np.sort(x, axis=-1)
        mid = np.median(x, axis=-1)
    else:
        x = np.partition(x, sorted({k - 1, k, n - k - 1, n - k}), axis=-1)
        mid = np.full(x.shape[:-1], np.nan)
    if k == 0:
        return mid, np.full_like(mid, -np.inf), np.full_like(mid, np.inf)
    if middle:
        low = (1 - lam) * x[..., k - 1] + lam * mid
        high = (1 - lam) * x[..., n - k] + lam * mid
        return mid, low, high
    low = (1 - lam) * x[..., k - 1] + lam * x[..., k]
    high = (1 - lam) * x[..., n - k] + lam * x[..., n - k - 1]
    return mid, low, high
