"""core.judging.sequential: alpha-spending boundaries against published values and a Brownian-motion Monte
Carlo, the sequential procedure's error and power on simulated paired outcomes, and the plan record."""

import json

import numpy as np
import pytest

from lossdb.core.judging import decisions as D
from lossdb.core.judging import intervals as I
from lossdb.core.judging import sequential as S
from lossdb.core.judging.decisions import outcome
from lossdb.core.judging.estimators import paired_difference

ROUNDS_OF_5 = tuple(range(5, 55, 5))
SEQUENCES = 2000


@pytest.mark.parametrize("spending", S.SPENDING)
def test_spending_reaches_alpha_at_the_full_seed_count_and_grows_with_it(spending):
    levels = [S.spent(t, 0.05, spending) for t in (0.0, 0.1, 0.3, 0.6, 1.0)]
    assert levels[0] == 0.0 and levels[-1] == pytest.approx(0.05) and levels == sorted(levels)


@pytest.mark.parametrize("spending,published", [
    # Two-sided alpha 0.05, five equally spaced looks, Lan–DeMets spending of 0.025 per side
    # (Jennison & Turnbull 2000, table 7.x; the same figures from R's ldbounds, gsDesign and rpact).
    ("obrien-fleming", (4.8769, 3.3570, 2.6803, 2.2898, 2.0310)),
    ("pocock", (2.4380, 2.4268, 2.4102, 2.3966, 2.3860)),
])
def test_boundaries_equal_the_published_ones_for_five_equal_looks(spending, published):
    assert S.boundaries((1, 2, 3, 4, 5), 5, 0.05, spending) == pytest.approx(published, abs=1e-4)


@pytest.mark.parametrize("spending", S.SPENDING)
def test_unequal_looks_cross_their_boundaries_as_often_as_the_spending_allows(spending):
    # An independent check: Brownian motion observed at the looks (200,000 seeded paths).
    looks = (5, 8, 20, 35, 50)
    c = np.array(S.boundaries(looks, 50, 0.05, spending))
    steps = np.random.default_rng(1).normal(size=(200_000, len(looks))) * np.sqrt(np.diff((0, *looks)))
    z = np.cumsum(steps, axis=1) / np.sqrt(looks)
    crossed = np.abs(z) >= c
    first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), -1)
    spent = np.diff([0.0, *(S.spent(n / 50, 0.05, spending) for n in looks)])
    observed = np.array([np.mean(first == k) for k in range(len(looks))])
    assert np.all(np.abs(observed - spent) <= 4 * np.sqrt(spent / 200_000) + 1e-5)  # 4 Monte Carlo sd


def test_a_looks_boundary_depends_only_on_the_looks_before_it():
    full = S.boundaries((5, 9, 22, 31, 50), 50, 0.05)
    assert S.boundaries((5, 9, 22), 50, 0.05) == pytest.approx(full[:3])


def test_a_lone_look_at_the_last_seed_is_the_fixed_design():
    assert S.nominal_alphas((50,), 50, 0.05) == (0.05,)


@pytest.mark.parametrize("looks", [(5, 5), (0, 5), ()])
def test_looks_must_be_increasing_positive_seed_counts(looks):
    with pytest.raises(ValueError, match="increasing positive"):
        S.boundaries(looks, 50, 0.05)


# ---------------------------------------------------------------- the procedure on simulated outcomes


def _run(effect, sd, band, alpha, sequences=SEQUENCES, seed=0, spending="obrien-fleming"):
    d = np.random.default_rng(seed).normal(effect, sd, (sequences, 50))
    return S.simulate(d, ROUNDS_OF_5, band, alpha, spending=spending)


@pytest.mark.parametrize("spending", S.SPENDING)
@pytest.mark.parametrize("band", [0.0, 1.0])
def test_aa_sequences_for_one_claim_declare_a_difference_in_at_most_5_percent(band, spending):
    final, _ = _run(0.0, 1.0, band, 0.05, spending=spending)
    assert np.mean(np.isin(final, ("supported", "contradicted"))) <= 0.05


def test_aa_family_of_12_sequential_claims_errs_in_at_most_5_percent_with_bonferroni():
    # 12 independent A/A claims without a band (the worst case), each spending 0.05/12.
    final, _ = _run(0.0, 1.0, 0.0, 0.05 / 12, sequences=12 * SEQUENCES, seed=1)
    wrong = np.isin(final, ("supported", "contradicted")).reshape(12, SEQUENCES).any(axis=0)
    assert wrong.mean() <= 0.05


def test_on_the_band_edge_sequences_declare_anything_in_at_most_5_percent():
    final, _ = _run(1.0, 1.0, 1.0, 0.05, seed=2)
    assert np.mean(final != "inconclusive") <= 0.05


def test_a_true_effect_of_one_and_a_half_bands_is_supported_in_80_percent_by_50_seeds():
    # sd = the band, like classification accuracy at 10 seeds (sd 0.98 points, 1-point band).
    # Shown with -s; bench/sequential.py prints the full table.
    final, used = _run(1.5, 1.0, 1.0, 0.05, seed=3)
    aa_final, aa_used = _run(0.0, 1.0, 1.0, 0.05, seed=4)
    print(f"\nsequential O'Brien-Fleming, rounds of 5 to 50: effect 1.5 bands supported in "
          f"{np.mean(final == 'supported'):.1%}, mean seeds {used.mean():.1f}; A/A mean seeds "
          f"{aa_used.mean():.1f} ({np.mean(aa_final == 'equivalent'):.1%} equivalent)")
    assert np.mean(final == "supported") >= 0.8 and used.mean() < 40


def test_sequential_stops_a_clear_effect_early():
    _, used = _run(4.0, 1.0, 1.0, 0.05, seed=5)
    assert used.mean() < 20


# ---------------------------------------------------------------- the plan record


def _estimates(effect, sd, counts, seed=6):
    d = np.random.default_rng(seed).normal(effect, sd, max(counts))
    return [paired_difference(d[:n], np.zeros(n), resolution=0.0) for n in counts]


def test_a_plan_records_each_look_until_one_decides():
    plan = S.Plan(alpha=0.05, n_max=50).replay(_estimates(3.0, 1.0, ROUNDS_OF_5), 1.0)
    levels = S.nominal_alphas([lk.n for lk in plan.looks], 50, 0.05)
    assert plan.decided and plan.looks[-1].outcome == "supported"
    assert [lk.outcome for lk in plan.looks[:-1]] == ["inconclusive"] * (len(plan.looks) - 1)
    assert [lk.alpha for lk in plan.looks] == pytest.approx(levels)


def test_a_look_uses_the_interval_at_its_nominal_level():
    est = _estimates(0.8, 1.0, (10,))[0]
    plan, at = S.Plan(alpha=0.05, n_max=50).look(est, 0.5)
    assert at.alpha == plan.looks[0].alpha == S.nominal_alphas((10,), 50, 0.05)[0]
    assert (plan.looks[0].low, plan.looks[0].high) == (at.low, at.high) and at.high - at.low > est.high - est.low
    assert plan.looks[0].outcome == outcome(at, 0.5)


def test_a_decided_plan_takes_no_more_looks():
    plan = S.Plan(alpha=0.05, n_max=50).replay(_estimates(3.0, 0.5, (5, 10, 20, 40, 50)), 1.0)
    with pytest.raises(ValueError, match="decided"):
        plan.look(_estimates(3.0, 0.5, (50,))[0], 1.0)


def test_a_plan_at_the_last_seed_is_exhausted_and_its_record_is_json():
    plan = S.Plan(alpha=0.05, n_max=20).replay(_estimates(1.0, 1.0, (5, 10, 20)), 1.0)
    record = json.loads(json.dumps(plan.to_dict()))
    assert plan.exhausted and [lk["n"] for lk in record["looks"]] == [5, 10, 20]
    assert record["looks"][-1]["spent"] == pytest.approx(0.05 * S.T_MARGIN)


@pytest.mark.parametrize("measure", ["shares", "times"])
def test_aa_sequences_of_shares_and_times_declare_a_difference_in_at_most_5_percent(measure):
    # Any estimator takes the looks' nominal levels: Newcombe on paired failures (20% in each arm),
    # Fieller on restricted epochs-to-threshold; no band (the worst case). 20,000 sequences: the
    # rounded times err in 4.5-4.9% over seeds (Monte Carlo sd 0.15 points), shares in 3.9-4.3%.
    rng, sequences = np.random.default_rng(0), 20_000
    levels = S.nominal_alphas(ROUNDS_OF_5, 50, 0.05)
    if measure == "shares":
        fa, fb = rng.random((sequences, 50)) < 0.2, rng.random((sequences, 50)) < 0.2
    else:
        u = rng.normal(size=(sequences, 50))
        fa, fb = (np.minimum(np.ceil(np.exp(np.log(15) + 0.4 * (0.5 * u + 0.87 * rng.normal(size=u.shape)))), 30)
                  for _ in range(2))
    decided = np.zeros(sequences, dtype=bool)
    for n, level in zip(ROUNDS_OF_5, levels, strict=True):
        a, b = fa[:, :n], fb[:, :n]
        if measure == "shares":
            _, low, high = I.newcombe_bounds((a & b).sum(1), (a & ~b).sum(1), (~a & b).sum(1), (~a & ~b).sum(1), level)
            now = D.outcomes(low, high, 0.0)
        else:
            _, low, high = I.fieller_bounds(a, b, level, resolution=1.0)
            now = D.outcomes(low, high, 1.0, ratio=True)
        decided |= now != "inconclusive"
    assert decided.mean() <= 0.05
