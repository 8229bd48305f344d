"""`--estimator robust`: the median of per-seed differences with the interpolated sign-test interval
(Hettmansperger–Sheather), applied always; coverage, duality and A/A error simulated, vectorised."""

import math

import numpy as np
import pytest
from lossdb.core.judging.decisions import outcomes, seeds_needed
from lossdb.core.judging.estimators import paired_difference
from lossdb.core.judging.intervals import (
    hl_bounds,
    median_bounds,
    median_weights,
    signed_rank_index,
    t_bounds,
)

REPS = 20000  # Monte-Carlo sd of a 95% coverage: √(.95·.05/20000) = 0.15 points
LAWS = ("normal", "lognormal", "t3", "contaminated")
MEDIAN = {"normal": 0.0, "lognormal": 1.0, "t3": 0.0, "contaminated": 0.0}  # each law's population median


def _draw(law: str, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    if law == "normal":
        return rng.standard_normal(shape)
    if law == "lognormal":
        return rng.lognormal(0.0, 1.0, shape)
    if law == "t3":
        return rng.standard_t(3, shape)
    x = rng.standard_normal(shape)  # contaminated: 10% of the draws five times as spread
    return np.where(rng.random(shape) < 0.1, 5 * x, x)


@pytest.mark.parametrize("law", LAWS)
@pytest.mark.parametrize("n", [5, 10, 20, 50])
def test_the_robust_interval_covers_the_median_93_to_97_percent(law, n):
    # Sign intervals are distribution-free; the interpolation lands within about 0.5 points of 95%
    # (exactly 93.75% at 5 seeds: [min, max], the most 5 seeds give). The band's nearest edge is
    # 0.75 points (5 Monte-Carlo sd) from 93.75% and over 1.5 points (10 sd) from the others.
    rng = np.random.default_rng(1000 + n)
    _, low, high = median_bounds(_draw(law, rng, (REPS, n)) + 0.3, 0.05)
    covered = np.mean((low <= MEDIAN[law] + 0.3) & (MEDIAN[law] + 0.3 <= high))
    assert 0.93 <= covered <= 0.97, covered


def test_the_t_interval_misses_the_band_on_lognormal_differences_which_is_why_robust_exists():
    rng = np.random.default_rng(1)
    _, low, high = t_bounds(_draw("lognormal", rng, (REPS, 10)), 0.05)
    mean = float(np.exp(0.5))
    assert np.mean((low <= mean) & (mean <= high)) < 0.9


def test_the_interval_is_the_exact_order_statistics_at_the_binomial_levels():
    x = np.array([4.0, -1.0, 2.5, 0.5, 3.0, 1.0, -2.0, 6.0, 0.0, 2.0])  # sorted: -2 -1 0 .5 1 2 2.5 3 4 6
    gamma = 1 - 2 * math.comb(10, 0) / 2**10 - 2 * math.comb(10, 1) / 2**10  # P(X_(2) ≤ m ≤ X_(9))
    centre, low, high = median_bounds(x, 1 - gamma)
    assert (centre, low, high) == (1.5, -1.0, 4.0)
    _, low, high = median_bounds(x, 0.05)  # between [X_(2), X_(9)] (97.9%) and [X_(3), X_(8)] (89.1%)
    assert -1.0 < low < 0.0 and 2.5 < high < 4.0


def test_too_few_seeds_for_the_level_give_no_interval_but_5_seeds_give_min_to_max_at_95():
    assert median_weights(5, 0.05) == (1, 0.0)  # 2^-4 = 6.25% ≤ 1.3 × 5%: [min, max] at 93.75%
    assert median_weights(4, 0.05)[0] == 0 and median_weights(8, 0.05 / 11)[0] == 0
    assert median_weights(9, 0.05 / 11)[0] == 1
    est = paired_difference(np.arange(8.0), np.zeros(8), resolution=0.0, alpha=0.05 / 11, method="robust")
    assert est.low == -math.inf and est.high == math.inf and est.effect == 3.5


def test_robust_states_its_estimand_and_a_ratio_is_the_median_of_per_seed_ratios():
    d = np.array([0.1, 0.12, 0.09, 0.11, 0.1, 0.13, 0.95, 0.1, 0.12, 0.11])
    est = paired_difference(d, np.zeros(10), resolution=0.0, method="robust")
    assert est.method.startswith("median of per-seed differences") and est.effect == pytest.approx(0.11)
    ratio = paired_difference(np.exp(d), np.ones(10), resolution=0.0, method="robust", ratio=True)
    _, low, high = median_bounds(d, 0.05)
    assert ratio.method.startswith("median of per-seed ratios")
    assert (ratio.effect, ratio.low, ratio.high) == pytest.approx((math.exp(0.11), math.exp(low), math.exp(high)))


@pytest.mark.parametrize("alpha", [0.05, 0.01, 0.05 / 11, 0.001])
def test_the_p_values_are_dual_to_the_interval_at_any_level(alpha):
    rng = np.random.default_rng(7)
    est = paired_difference(rng.lognormal(0, 1, 30), np.zeros(30), resolution=0.0, method="robust")
    at = est.at(alpha)
    for c in np.linspace(0.0, 4.0, 41):
        assert (at.low > c) == (est.p_greater(c) < alpha / 2), c
        assert (at.high < c) == (est.p_less(c) < alpha / 2), c


@pytest.mark.parametrize("law", ["normal", "lognormal difference"])
def test_an_a_a_comparison_decides_wrongly_at_most_alpha(law):
    # Two identical arms: every supported or contradicted is wrong. At the catalogue's family level
    # with no band at all (the worst case) the rate is 1 − coverage ≈ alpha, so the bound allows 3
    # Monte-Carlo sd; with the smallest band a claim declares (0.2 sd) it is far below alpha.
    rng = np.random.default_rng(3)
    for n in (10, 20, 50):
        shape = (REPS, n)
        d = rng.standard_normal(shape) if law == "normal" else rng.lognormal(0, 1, shape) - rng.lognormal(0, 1, shape)
        sd = float(d.std())
        for alpha in (0.05, 0.05 / 11):
            _, low, high = median_bounds(d, alpha)
            wrong = np.isin(outcomes(low, high, 0.2 * sd), ("supported", "contradicted")).mean()
            assert wrong <= alpha, (n, alpha, wrong)
        _, low, high = median_bounds(d, 0.05 / 11)
        worst = np.isin(outcomes(low, high, 0.0), ("supported", "contradicted")).mean()
        assert worst <= 0.05 / 11 + 3 * math.sqrt(0.05 / 11 / REPS), (n, worst)


@pytest.mark.parametrize("law, effect, band, n0", [
    ("lognormal", 0.2, 1.0, 12),      # skewed, median 1.5 [0.83, 2.75] against the band edge 1: supported
    ("t3", 0.0, 1.0, 15),             # heavy tails, centred: equivalent needs both ends inside at once
    ("contaminated", -1.6, 1.0, 25),  # the other side: contradicted
    ("lognormal", -0.5, 1.0, 40),     # skewed, inside the band near its lower edge: equivalent
])
def test_robust_seeds_needed_decides_80_percent_of_resampled_fresh_experiments(law, effect, band, n0):
    observed = _draw(law, np.random.default_rng(n0), n0) + effect
    est = paired_difference(observed, np.zeros(n0), resolution=0.0, alpha=0.05, method="robust")
    n = seeds_needed(est, band)
    assert n is not None and n > n0 // 2
    fresh = observed[np.random.default_rng(5).integers(0, n0, (4000, n))]
    _, low, high = median_bounds(fresh, 0.05)
    decided = np.mean(outcomes(low, high, band) != "inconclusive")
    assert 0.75 <= decided <= 0.95, (n, decided)  # 80% nominal; a little conservative by construction


def test_hodges_lehmann_stays_available_with_its_own_estimand():
    assert signed_rank_index(5, 0.05) == -1 and signed_rank_index(6, 0.05) == 0
    _, low, high = hl_bounds(np.arange(5.0), 0.05)
    assert np.isinf(low) and np.isinf(high)
    est = paired_difference(np.arange(1.0, 11.0), np.zeros(10), resolution=0.0, method="hl")
    assert "pseudo-median" in est.method
