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
