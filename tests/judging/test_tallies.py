"""Honest tallies: Benjamini–Hochberg over exactly the comparisons counted, each distinct comparison
once, and what cannot be measured left apart (verdict records built directly: no judging needed)."""

from dataclasses import replace

from lossdb.core.judging.headlines import counted, summary, tally, uncounted
from lossdb.core.judging.outcomes import Verdict
from lossdb.core.present.findings import finding


def _v(condition: str, verdict: str, p: float, lr: str = "0.1", lr_mode: str = "equal", effect: float = 0.05,
       headline: bool = False) -> Verdict:
    return Verdict("classification-accuracy", "s", "binary", condition, "final test accuracy", ("a", "b"),
                   {"a": 0.9, "b": 0.85}, verdict, effect, effect - 0.01, effect + 0.01, 10, None, headline,
                   lr=lr, lr_mode=lr_mode, p_value=p, min_effect=0.01, scale=100.0, unit=" points")


def test_a_tuned_row_identical_to_an_equal_rate_row_is_counted_once():
    equal = _v("dataset=moons", "supported", 1e-4)
    tuned = replace(equal, lr="tuned (0.1 vs 0.1)", lr_mode="tuned")
    other = _v("dataset=iris", "supported", 1e-4, effect=0.07)
    assert counted([tuned, equal, other]) == [tuned, other]
    assert tally([tuned, equal, other])["supported"] == 2
    assert uncounted([tuned, equal, other]) == {"duplicates": 1, "not measurable": 0}


def test_the_counts_hold_the_false_discovery_rate_over_exactly_the_rows_counted():
    # p = 0.04 survives alone (0.04 ≤ 0.05) but not among five where the others are 0.9: 0.04 > 0.05·1/5
    weak = _v("dataset=wine", "supported", 0.04, effect=0.03)
    nulls = [_v(f"dataset=d{i}", "inconclusive", 0.9, effect=0.001 * i) for i in range(4)]
    assert tally([weak])["supported"] == 1
    assert tally([weak, *nulls]) == {"supported": 0, "contradicted": 0, "equivalent": 0, "inconclusive": 5}


def test_a_summary_row_says_what_it_counted_and_leaves_unmeasurable_rows_apart():
    head = _v("dataset=moons", "supported", 1e-6, lr="tuned (0.1 vs 0.3)", lr_mode="tuned", headline=True)
    same = [_v("dataset=moons", "supported", 1e-6, effect=0.06), _v("dataset=iris", "supported", 0.04, effect=0.02)]
    twin = replace(same[0], lr="tuned (0.1 vs 0.1)", lr_mode="tuned")
    lost = replace(_v("dataset=wine", "not measurable", 1.0), metric="epochs to 90% training accuracy",
                   effect=None, ci_low=None, ci_high=None, n=0)
    other = replace(_v("dataset=moons", "inconclusive", 1.0), metric="final test loss")
    row = summary([head, *same, twin, lost, other], {})[0]
    text = finding(row)
    assert ("The same comparison in 2 other settings, counted with the false discovery rate held at 5% "
            "(Benjamini–Hochberg): 2 supported.") in text
    assert ("All 4 distinct comparisons of this claim (every measure and pair of arms), counted the same way: "
            "2 supported, 2 inconclusive; left apart: 1 identical to another row and 1 not measurable.") in text  # raw: 3 supported
