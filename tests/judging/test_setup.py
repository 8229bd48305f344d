"""The setup-dependence test: Cochran's Q across setups, family-wise over the claims."""

import math

import numpy as np
from scipy.stats import chi2

from lossdb.core.judging.outcomes import Verdict
from lossdb.core.judging.setup import interaction, setup_dependence


def _row(claim: str, setup: tuple, effect: float, half: float, **kw) -> Verdict:
    keys = (("dataset", "digits"), ("scale", setup[0]), ("init_scale", setup[1]))
    return Verdict(claim, "", "convergence", str(keys), "m", ("a", "b"), {}, "inconclusive", effect,
                   effect - half, effect + half, 10, None, False, condition_keys=keys, lr_mode="tuned", **kw)


SETUPS = [("standard", 1.0), ("standard", 0.5), ("minmax", 1.0), ("minmax", 0.5)]


def test_cochrans_q_matches_its_formula_with_standard_errors_from_the_intervals():
    rows = [_row("c", s, e, 1.96) for s, e in zip(SETUPS, (0.0, 1.0, 2.0, 3.0), strict=True)]  # se = 1
    q, df, p = interaction(rows)
    assert df == 3 and math.isclose(q, 5.0, rel_tol=1e-3) and math.isclose(p, chi2.sf(q, 3))


def test_effects_that_differ_beyond_chance_depend_on_the_setup_and_equal_ones_do_not():
    varied = [_row("v", s, e, 0.2) for s, e in zip(SETUPS, (0.0, 1.0, 0.0, 1.0), strict=True)]
    same = [_row("s", s, 0.5 + d, 0.5) for s, d in zip(SETUPS, (0.0, 0.05, -0.05, 0.02), strict=True)]
    heads = [varied[0], same[0]]
    out = setup_dependence(heads, varied + same)
    assert out["v"].get("depends") and not out["s"].get("depends")
    assert out["v"].get("alpha") == 0.025  # Bonferroni over the two claims tested


def test_the_type_one_error_over_many_null_tables_is_at_most_alpha():
    rng = np.random.default_rng(0)
    false = 0
    for _ in range(400):
        heads, rows = [], []
        for c in range(6):  # six claims, no interaction: every setup's effect is 1 ± its own noise
            rs = [_row(str(c), s, 1.0 + rng.normal(0, 0.1), 1.96 * 0.1) for s in SETUPS]
            heads.append(rs[0])
            rows += rs
        false += any(r.get("depends") for r in setup_dependence(heads, rows).values())
    assert false / 400 <= 0.05 + 0.02


def test_ratios_are_compared_on_the_log_scale_and_a_single_setup_is_not_tested():
    rows = [_row("r", s, e, 0.0, ratio=True) for s, e in zip(SETUPS, (1.0, 2.0, 1.0, 2.0), strict=True)]
    rows = [Verdict(**{**r.__dict__, "ci_low": r.effect / 1.2, "ci_high": r.effect * 1.2}) for r in rows]
    assert setup_dependence([rows[0]], rows)["r"].get("depends")
    assert setup_dependence([rows[0]], rows[:1]) == {}
