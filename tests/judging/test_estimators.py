"""core.judging.estimators: each interval against an independent reference, its p-values against its interval,
and its coverage in vectorised simulations at our seed counts (5, 10, 20, 50)."""

import functools
import math

import numpy as np
import pytest
from scipy import stats

from lossdb.core.judging import estimators as E
from lossdb.core.judging import intervals as I

REPS = 4000  # repetitions per coverage cell: the coverage's Monte Carlo sd is 0.34 points at 95%
SIZES = (5, 10, 20, 50)


def _covered(low: np.ndarray, high: np.ndarray, truth: float) -> float:
    return float(np.mean((low <= truth) & (truth <= high)))


# ---------------------------------------------------------------- continuous: Student-t


@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_t_interval_equals_scipys_paired_t_test(alpha):
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 1.0, 10), rng.normal(0.0, 1.0, 10)
    est = E.paired_difference(a, b, resolution=0.0, alpha=alpha)
    ci = stats.ttest_rel(a, b).confidence_interval(1 - alpha)
    d = a - b
    t_ci = stats.t.interval(1 - alpha, 9, loc=d.mean(), scale=stats.sem(d))
    assert (est.effect, est.low, est.high, est.n) == pytest.approx((d.mean(), ci.low, ci.high, 10))
    assert (est.low, est.high) == pytest.approx(t_ci)


def test_t_p_values_equal_scipys_one_sided_t_tests_against_a_shifted_mean():
    rng = np.random.default_rng(4)
    a, b = rng.normal(0.4, 1.0, 12), rng.normal(0.0, 1.0, 12)
    est = E.paired_difference(a, b, resolution=0.0)
    for c in (-0.5, 0.0, 0.3, 1.0):
        assert est.p_greater(c) == pytest.approx(stats.ttest_1samp(a - b, c, alternative="greater").pvalue)
        assert est.p_less(c) == pytest.approx(stats.ttest_1samp(a - b, c, alternative="less").pvalue)


def test_ratio_is_the_geometric_mean_with_a_t_interval_on_the_log_ratios():
    rng = np.random.default_rng(5)
    a, b = rng.lognormal(1.0, 0.3, 8), rng.lognormal(0.5, 0.3, 8)
    est = E.paired_difference(a, b, resolution=0.0, ratio=True)
    ci = stats.ttest_1samp(np.log(a / b), 0.0).confidence_interval(0.95)
    assert (est.effect, est.low, est.high) == pytest.approx((np.exp(np.log(a / b).mean()), np.exp(ci.low), np.exp(ci.high)))


def _accuracy_differences(rng, n):
    """Paired test accuracies on 360 samples: a shared seed effect plus per-arm binomial noise."""
    p = 0.9 + rng.normal(0, 0.01, (REPS, n))
    return (rng.binomial(360, np.clip(p, 0, 1)) - rng.binomial(360, np.clip(p - 0.02, 0, 1))) / 360


T_CASES = {  # name: (sampler of a (REPS, n) array of paired differences, true mean, resolution)
    "normal": (lambda rng, n: rng.normal(0.3, 1.0, (REPS, n)), 0.3, 0.0),
    "skewed (gamma, skewness 1)": (lambda rng, n: rng.gamma(4.0, 1.0, (REPS, n)), 4.0, 0.0),
    "discrete (accuracy on 360 samples)": (_accuracy_differences, 0.02, 1 / 360),
}


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("case", T_CASES)
def test_t_interval_covers_the_true_mean_95_percent_of_the_time(case, n):
    sample, truth, resolution = T_CASES[case]
    _, low, high = I.t_bounds(sample(np.random.default_rng(100 + n), n), 0.05, resolution)
    assert 0.93 <= _covered(low, high, truth) <= 0.97


def test_seeds_that_agree_exactly_get_an_interval_of_the_resolutions_width():
    est = E.paired_difference(np.full(5, 0.90), np.full(5, 0.85), resolution=1 / 360)
    half = stats.t.ppf(0.975, 4) * (1 / 360) / math.sqrt(12) / math.sqrt(5)
    assert est.high - est.low == pytest.approx(2 * half) and est.high > est.low


def test_agreeing_log_ratios_get_a_width_from_the_log_resolution():
    est = E.paired_difference(np.full(4, 31.0), np.full(4, 1.0), resolution=0.05, ratio=True)
    assert est.low < 31.0 < est.high and math.log(est.high / est.low) == pytest.approx(
        2 * stats.t.ppf(0.975, 3) * 0.05 / math.sqrt(12) / 2)


@pytest.mark.parametrize("n", (5, 10))
def test_the_resolution_floor_restores_coverage_on_nearly_constant_discrete_differences(n):
    # 19 of 20 seeds give a difference of 0 grid steps, 1 in 20 gives 1 step: most samples agree exactly
    d = (np.random.default_rng(7 + n).random((REPS, n)) < 0.05).astype(float)
    _, low0, high0 = I.t_bounds(d, 0.05, resolution=1e-9)  # a floor far below the grid: zero widths
    _, low, high = I.t_bounds(d, 0.05, resolution=1.0)
    assert _covered(low0, high0, 0.05) < 0.5 and _covered(low, high, 0.05) >= 0.93


def test_a_single_pair_gives_an_infinite_interval():
    est = E.paired_difference(np.array([0.9]), np.array([0.8]), resolution=1 / 360)
    assert (est.n, est.low, est.high, est.method) == (1, -math.inf, math.inf, "single pair")


def test_pairs_with_a_nan_are_left_out():
    est = E.paired_difference(np.array([1.0, 2.0, np.nan, 4.0]), np.array([0.0, 1.0, 1.0, np.nan]), resolution=0.0)
    assert est.n == 2 and est.effect == pytest.approx(1.0)


def test_an_estimate_at_another_level_equals_one_computed_at_that_level():
    rng = np.random.default_rng(8)
    a, b = rng.normal(1, 1, 9), rng.normal(0, 1, 9)
    est = E.paired_difference(a, b, resolution=0.0)
    direct = E.paired_difference(a, b, resolution=0.0, alpha=0.05 / 12)
    assert (est.at(0.05 / 12).low, est.at(0.05 / 12).high, est.at(0.05 / 12).alpha) == pytest.approx(
        (direct.low, direct.high, 0.05 / 12))


# ---------------------------------------------------------------- continuous: BCa bootstrap


def test_bca_interval_matches_scipys_bca_bootstrap():
    rng = np.random.default_rng(9)
    d = rng.gamma(2.0, 1.0, 15)
    est = E.paired_difference(d, np.zeros(15), resolution=0.0, method="bca", seed=1, n_boot=20000)
    ref = stats.bootstrap((d,), np.mean, method="BCa", n_resamples=20000, rng=np.random.default_rng(2))
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert est.low == pytest.approx(ref.confidence_interval.low, abs=0.03 * width)
    assert est.high == pytest.approx(ref.confidence_interval.high, abs=0.03 * width)


def test_bca_covers_the_true_mean_95_percent_of_the_time_at_50_seeds():
    # Bootstrap intervals undercover with few seeds (measured 85% at 5, 90% at 10, 93% at 20 on
    # normal data); BCa is an option for 50 seeds or more, Student-t stays the default.
    rng = np.random.default_rng(10)
    _, low, high = I.bca_bounds(rng.gamma(4.0, 1.0, (2000, 50)), 0.05, rng, n_boot=1999)
    assert 0.93 <= _covered(low, high, 4.0) <= 0.97


def test_bca_p_values_are_dual_to_its_interval():
    rng = np.random.default_rng(11)
    est = E.paired_difference(rng.gamma(2.0, 1.0, 20), np.zeros(20), resolution=0.0, method="bca")
    assert est.p_greater(est.low * 0.999) == pytest.approx(0.025, abs=0.003)
    assert est.p_less(est.high * 1.001) == pytest.approx(0.025, abs=0.003)


# ---------------------------------------------------------------- times to a threshold


def _times(rng, shape, medians, sigma, rho, horizon):
    """Paired epochs-to-threshold: log-normal with a shared seed effect, rounded up, censored."""
    u = rng.normal(size=shape)
    arms = [np.ceil(np.exp(math.log(m) + sigma * (rho * u + math.sqrt(1 - rho**2) * rng.normal(size=shape))))
            for m in medians]
    return [np.where(t > horizon, np.inf, t) for t in arms]


TIME_CASES = {  # name: (medians of the two arms, sigma, correlation, horizon)
    "little censoring": ((25, 10), 0.4, 0.6, 40),
    "a third censored": ((30, 12), 0.6, 0.3, 40),
    "fast and coarse": ((3, 2), 0.5, 0.5, 20),
}


@functools.cache
def _true_restricted_means(case: str) -> tuple[float, float]:
    """The two arms' restricted mean times, from 400,000 simulated seeds (Monte Carlo sd < 0.1%)."""
    medians, sigma, rho, horizon = TIME_CASES[case]
    big = _times(np.random.default_rng(99), (400_000,), medians, sigma, rho, horizon)
    return float(np.minimum(big[0], horizon).mean()), float(np.minimum(big[1], horizon).mean())


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("case", TIME_CASES)
def test_restricted_mean_ratio_and_difference_cover_95_percent(case, n):
    medians, sigma, rho, horizon = TIME_CASES[case]
    big = _true_restricted_means(case)
    a, b = (np.minimum(t, horizon) for t in _times(np.random.default_rng(200 + n), (REPS, n), medians, sigma, rho, horizon))
    _, low, high = I.fieller_bounds(a, b, 0.05, resolution=1.0)
    assert 0.93 <= _covered(low, high, big[0] / big[1]) <= 0.97
    _, low, high = I.t_bounds(a - b, 0.05, resolution=1.0)
    assert 0.93 <= _covered(low, high, big[0] - big[1]) <= 0.97


def test_a_run_that_never_gets_there_counts_as_the_horizon_not_one_more():
    est = E.restricted_mean(np.array([30.0, np.inf, 20.0]), np.array([10.0, 12.0, np.inf]), horizon=30)
    assert est.effect == pytest.approx((30 + 30 + 20) / (10 + 12 + 30))
    assert est.censored == (1, 1) and est.method == "restricted mean to 30 epochs (Fieller ratio)"


def test_fieller_interval_is_where_the_t_test_of_a_minus_r_b_does_not_reject():
    rng = np.random.default_rng(12)
    a, b = rng.normal(20, 3, 8), rng.normal(10, 2, 8)
    est = E.restricted_mean(a, b, horizon=100, resolution=0.0)
    grid = np.linspace(1.0, 3.5, 25_001)
    z = a[None, :] - grid[:, None] * b[None, :]
    t = z.mean(axis=1) / (z.std(axis=1, ddof=1) / math.sqrt(8))
    keep = grid[np.abs(t) <= stats.t.ppf(0.975, 7)]
    assert est.low == pytest.approx(keep.min(), abs=2e-4) and est.high == pytest.approx(keep.max(), abs=2e-4)


def test_equal_times_on_every_seed_still_give_a_ratio_interval_of_honest_width():
    est = E.restricted_mean(np.array([12.0, 15.0, 9.0, 20.0]), np.array([12.0, 15.0, 9.0, 20.0]), horizon=40)
    # the rounding floor alone: (ȳ(1 − R))² ≤ t² (1 + R²)/12 / n, so |1 − R| ≈ t √(2/12) / (ȳ √n) near R = 1
    half = stats.t.ppf(0.975, 3) * math.sqrt(2 / 12) / (14.0 * 2)
    assert est.effect == 1.0 and est.low == pytest.approx(1 - half, abs=0.003) and est.high == pytest.approx(1 + half, abs=0.003)


def test_restricted_mean_difference_is_a_paired_t_on_the_restricted_times():
    a, b = np.array([5.0, 9.0, np.inf, 7.0]), np.array([3.0, 4.0, 8.0, 6.0])
    est = E.restricted_mean(a, b, horizon=10, ratio=False)
    ref = stats.ttest_rel([5, 9, 10, 7], b).confidence_interval(0.95)
    assert (est.effect, est.low, est.high) == pytest.approx((2.5, ref.low, ref.high)) and est.censored == (1, 0)


@pytest.mark.parametrize("make", ["t", "fieller", "newcombe"])
def test_p_values_are_dual_to_the_interval(make):
    rng = np.random.default_rng(13)
    est = {"t": lambda: E.paired_difference(rng.normal(1, 1, 7), rng.normal(0, 1, 7), resolution=0.0),
           "fieller": lambda: E.restricted_mean(rng.normal(20, 3, 7), rng.normal(10, 2, 7), horizon=99),
           "newcombe": lambda: E.paired_shares(rng.random(40) < 0.4, rng.random(40) < 0.2)}[make]()
    for alpha in (0.05, 0.01):
        at = est.at(alpha)
        assert at.p_greater(at.low) == pytest.approx(alpha / 2, rel=1e-4)
        assert at.p_less(at.high) == pytest.approx(alpha / 2, rel=1e-4)


# ---------------------------------------------------------------- paired shares of failures


def test_newcombe_reproduces_the_published_worked_example():
    # Fagerland, Lydersen & Laake (2017), "Statistical Analysis of Contingency Tables", ch. 8:
    # complete response before/after consolidation (Cavo et al. 2012), table [[59, 6], [16, 80]];
    # Newcombe square-and-add: estimate −0.0621, 95% CI −0.1186 to −0.0046.
    first = np.r_[np.ones(59 + 6), np.zeros(16 + 80)]
    second = np.r_[np.ones(59), np.zeros(6), np.ones(16), np.zeros(80)]
    est = E.paired_shares(first, second)
    assert (round(est.effect, 4), round(est.low, 4), round(est.high, 4)) == (-0.0621, -0.1186, -0.0046)


@pytest.mark.parametrize("x,n", [(0, 50), (3, 50), (25, 50), (50, 50), (1, 5)])
def test_wilson_interval_equals_scipys(x, n):
    ci = stats.binomtest(x, n).proportion_ci(0.95, method="wilson")
    assert I.wilson_bounds(x, n, stats.norm.ppf(0.975)) == pytest.approx((ci.low, ci.high))


def test_no_failures_in_either_arm_gives_a_finite_interval_around_zero():
    est = E.paired_shares(np.zeros(50), np.zeros(50))
    z2 = stats.norm.ppf(0.975) ** 2
    assert (est.effect, est.low, est.high) == pytest.approx((0.0, -z2 / (50 + z2), z2 / (50 + z2)))


@pytest.mark.parametrize("first,second", [(1, 0), (0, 1), (1, 1)])
def test_shares_intervals_stay_inside_minus_one_to_one(first, second):
    est = E.paired_shares(np.full(5, first), np.full(5, second))
    assert -1.0 <= est.low <= est.effect <= est.high <= 1.0


SHARE_CASES = [  # (share failing in first, in second, in both)
    (0.5, 0.2, 0.15), (0.3, 0.1, 0.05), (0.2, 0.15, 0.1), (0.1, 0.1, 0.02), (0.05, 0.0, 0.0)]


@pytest.mark.parametrize("n", SIZES)
def test_newcombe_never_undercovers_and_covers_95_percent_at_moderate_shares(n):
    covered = []
    for pa, pb, both in SHARE_CASES:
        counts = np.random.default_rng(300 + n).multinomial(n, [both, pa - both, pb - both, 1 - pa - pb + both], REPS)
        _, low, high = I.newcombe_bounds(*counts.T, 0.05)
        covered.append(_covered(low, high, pa - pb))
    # With rare failures and few seeds a share takes few values, so coverage is conservative (≈ 99%).
    assert min(covered) >= 0.93 and 0.93 <= covered[0] <= 0.97


def test_shares_reject_outcomes_that_are_not_zero_or_one():
    with pytest.raises(ValueError, match="0 or 1"):
        E.paired_shares(np.array([0.0, 0.5]), np.array([1.0, 0.0]))


# ---------------------------------------------------------------- deterministic


def test_a_deterministic_comparison_has_no_interval_and_one_observation():
    est = E.deterministic(28.0, 1.0, ratio=True)
    assert (est.effect, est.n, est.method, est.deterministic) == (28.0, 1, "deterministic", True)
    assert math.isnan(est.low) and math.isnan(est.high)
    assert est.p_greater(2.0) == 0.0 and est.p_less(2.0) == 1.0
