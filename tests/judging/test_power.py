"""'About N seeds would decide it' is a power statement: at N seeds, at least 75% of fresh
experiments whose true effect and spread are the observed ones decide (80% nominal). Vectorised."""

import numpy as np
import pytest
from lossdb.core.judging.decisions import outcomes, seeds_needed
from lossdb.core.judging.estimators import paired_difference
from lossdb.core.judging.intervals import t_bounds

FRESH = 20000


def _observed(effect: float, sd: float, n: int) -> np.ndarray:
    """n differences whose mean and sd are exactly `effect` and `sd`."""
    z = np.random.default_rng(n).standard_normal(n)
    return effect + sd * (z - z.mean()) / z.std(ddof=1)


@pytest.mark.parametrize("effect, sd, band, alpha, n0", [
    (0.015, 0.01, 0.01, 0.05, 5),          # 1.5× the band, sd = band: supported
    (0.030, 0.02, 0.01, 0.05 / 11, 10),    # at the catalogue's family level
    (0.000, 0.004, 0.01, 0.05, 4),         # a null effect inside the band: equivalent
    (-0.02, 0.015, 0.01, 0.05 / 11, 3),    # the other side: contradicted
])
def test_at_the_seeds_needed_most_fresh_experiments_decide(effect, sd, band, alpha, n0):
    est = paired_difference(_observed(effect, sd, n0), np.zeros(n0), resolution=0.0, alpha=alpha)
    n = seeds_needed(est, band, alpha=alpha)
    assert n is not None and n > 2
    fresh = effect + sd * np.random.default_rng(1).standard_normal((FRESH, n))
    _, low, high = t_bounds(fresh, alpha)
    decided = np.mean(outcomes(low, high, band) != "inconclusive")
    assert 0.75 <= decided <= 0.97, (n, decided)
    fewer = fresh[:, : max(n - max(n // 4, 1), 2)]
    _, low, high = t_bounds(fewer, alpha)
    assert np.mean(outcomes(low, high, band) != "inconclusive") < decided  # N is not needlessly many


def test_a_ratio_is_projected_on_the_log_scale_with_the_same_power():
    log_ratio, sd, factor, alpha = np.log(1.3), 0.12, 1.1, 0.05
    d = _observed(log_ratio, sd, 6)
    est = paired_difference(np.exp(d), np.ones(6), resolution=0.0, alpha=alpha, ratio=True)
    n = seeds_needed(est, factor, alpha=alpha)
    fresh = log_ratio + sd * np.random.default_rng(2).standard_normal((FRESH, n))
    _, low, high = t_bounds(fresh, alpha)
    decided = np.mean(outcomes(np.exp(low), np.exp(high), factor, ratio=True) != "inconclusive")
    assert 0.75 <= decided <= 0.97, (n, decided)


def _decided_share(draws: np.ndarray, alpha: float, band: float, kind: str = "superior", ratio: bool = False) -> float:
    _, low, high = t_bounds(draws, alpha)
    if ratio:
        low, high = np.exp(low), np.exp(high)
    return float(np.mean(outcomes(low, high, band, kind, ratio) != "inconclusive"))


@pytest.mark.parametrize("shift, band, kind, alpha, n0", [
    (-0.3, 1.0, "superior", 0.05, 12),         # skewed (lognormal) differences, mean 1.4 [0.5, 2.3]: supported
    (-1.6, 0.5, "superior", 0.05 / 11, 15),    # mean 0.05 inside ±0.5 at the family level: equivalent
    (-1.5, 0.5, "noninferior", 0.001, 20),     # a sequential look's nominal level, non-inferiority
])
def test_the_stated_n_decides_fresh_experiments_resampled_from_skewed_differences(shift, band, kind, alpha, n0):
    observed = np.random.default_rng(n0).lognormal(0.0, 1.0, n0) + shift
    est = paired_difference(observed, np.zeros(n0), resolution=0.0, alpha=alpha)
    n = seeds_needed(est, band, kind)
    assert n is not None and n > 2
    fresh = observed[np.random.default_rng(3).integers(0, n0, (4000, n))]
    assert 0.75 <= _decided_share(fresh, alpha, band, kind) <= 0.97, n


def test_the_stated_n_decides_fresh_experiments_resampled_from_skewed_ratio_pairs():
    rng = np.random.default_rng(4)
    second = rng.gamma(2.0, 10.0, 10)  # times, right-skewed; the first arm about 1.35× and noisy
    first = second * 1.35 * rng.lognormal(0.0, 0.25, 10) ** 2
    est = paired_difference(first, second, resolution=0.0, alpha=0.05 / 11, ratio=True)
    n = seeds_needed(est, 1.1)
    assert n is not None and n > 10
    idx = np.random.default_rng(5).integers(0, 10, (4000, n))
    fresh = np.log(first[idx]) - np.log(second[idx])
    assert 0.75 <= _decided_share(fresh, 0.05 / 11, 1.1, ratio=True) <= 0.97, n


def test_an_equivalence_needs_both_ends_inside_so_its_n_counts_the_joint_chance():
    # An effect in the middle of the band: each end alone passes 80% of the time well before both
    # do at once; the stated N must be the joint one.
    est = paired_difference(_observed(0.0, 0.01, 8), np.zeros(8), resolution=0.0, alpha=0.05)
    n = seeds_needed(est, 0.01)
    fresh = 0.01 * np.random.default_rng(6).standard_normal((FRESH, n))
    assert 0.75 <= _decided_share(fresh, 0.05, 0.01) <= 0.9, n
