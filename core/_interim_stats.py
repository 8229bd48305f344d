"""TEMPORARY stand-ins for core.estimators / core.decisions while they are written (removed on merge)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import stdtrit


@dataclass(frozen=True)
class Estimate:
    effect: float
    low: float
    high: float
    n: int
    method: str
    ratio: bool
    alpha: float = 0.05
    sd: float = math.nan


def paired_mean(first, second, *, ratio=False, alpha=0.05, resolution=0.0):
    x, y = np.asarray(first, float), np.asarray(second, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log(x) - np.log(y) if ratio else x - y
    d = d[np.isfinite(d)]
    n = d.size
    back = np.exp if ratio else (lambda v: v)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, "paired t", ratio, alpha)
    m = float(d.mean())
    if n == 1:
        return Estimate(float(back(m)), math.nan, math.nan, 1, "paired t", ratio, alpha)
    sd = max(float(d.std(ddof=1)), resolution / math.sqrt(12) * math.sqrt(2))
    half = float(stdtrit(n - 1, 1 - alpha / 2)) * sd / math.sqrt(n)
    return Estimate(float(back(m)), float(back(m - half)), float(back(m + half)), n, "paired t", ratio, alpha, sd)


def restricted_mean(first, second, *, horizon, ratio=True, alpha=0.05):
    e = paired_mean(np.minimum(first, horizon), np.minimum(second, horizon), ratio=ratio, alpha=alpha, resolution=0.0)
    return Estimate(e.effect, e.low, e.high, e.n, f"restricted mean to {horizon:g} epochs, paired t", ratio, alpha, e.sd)


def paired_binary(first, second, *, alpha=0.05):
    e = paired_mean(first, second, ratio=False, alpha=alpha, resolution=1.0 / max(len(first), 1))
    lo = max(-1.0, e.low) if math.isfinite(e.low) else e.low
    hi = min(1.0, e.high) if math.isfinite(e.high) else e.high
    return Estimate(e.effect, lo, hi, e.n, "paired shares (interim)", False, alpha, e.sd)


def deterministic(first, second, *, ratio=False):
    x, y = float(np.ravel(first)[0]), float(np.ravel(second)[0])
    eff = x / y if ratio else x - y
    return Estimate(eff, math.nan, math.nan, 1, "deterministic", ratio, 0.0)


def outcome(est, min_effect, kind="superior"):
    if est.method == "deterministic":
        lo = hi = est.effect
    else:
        lo, hi = est.low, est.high
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "inconclusive"
    if est.ratio:
        lo, hi, m = math.log(max(lo, 1e-300)), math.log(max(hi, 1e-300)), math.log(min_effect)
    else:
        m = min_effect
    if kind == "noninferior":
        return "supported" if lo > -m else "contradicted" if hi < -m else "inconclusive"
    if lo > m:
        return "supported"
    if hi < -m:
        return "contradicted"
    if lo > -m and hi < m:
        return "equivalent"
    return "inconclusive"


def bonferroni_alpha(alpha, m):
    return alpha / max(m, 1)


def bh_reject(p, q):
    p = np.asarray(p, float)
    order = np.argsort(p)
    ranked = p[order] <= q * (np.arange(1, p.size + 1) / p.size)
    k = np.flatnonzero(ranked).max() + 1 if ranked.any() else 0
    out = np.zeros(p.size, bool)
    out[order[:k]] = True
    return out


def seeds_needed(est, min_effect, alpha, kind="superior", cap=1000):
    if not math.isfinite(est.sd) or est.n < 2:
        return None, False
    d = math.log(est.effect) if est.ratio else est.effect
    m = math.log(min_effect) if est.ratio else min_effect
    gap = min(abs(d - m), abs(d + m)) if kind != "noninferior" else abs(d + m)
    if gap <= 1e-12:
        return cap, True
    z = 1.96
    n = math.ceil((z * est.sd / gap) ** 2)
    return (cap, True) if n > cap else (max(n, est.n + 1), False)
