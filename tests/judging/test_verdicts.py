"""Verdicts on synthetic runs with known effects, stored in a real SQLite database."""

from datetime import UTC, datetime

import numpy as np
import pytest

from lossdb.core import ENGINE_VERSION
from lossdb.core.experiments.arms import default_label
from lossdb.core.judging.claims import CLAIMS
from lossdb.core.experiments.spec import arm_hash
from lossdb.core.store import NewRun, open_store
from lossdb.core.judging.headlines import summary, tally
from lossdb.core.judging.verdicts import evaluate
from lossdb.core.present.findings import finding, fragile_text


def _run(experiment: str, loss: str, head: str, dataset: str, lr: float, seed: int,
         metrics: dict[str, list[float]], status: str = "finished", **extra) -> NewRun:
    arm = {"loss": loss, "head": head, **extra}
    cfg = {"experiment": experiment, "data": {"dataset": dataset}, "model": {"hidden": [8]},
           "train": {"lr": lr, "epochs": len(next(iter(metrics.values()))) - 1}, **arm,
           "label": default_label(arm)}
    now = datetime.now(UTC)
    return NewRun(experiment, arm_hash(cfg), seed, ENGINE_VERSION, {**cfg, "seed": seed}, loss, head, dataset, lr,
                  status, None, None, cfg["train"]["epochs"], now, now, 0.1, "0", "1", "3", None,
                  {k: np.asarray(v, dtype=float) for k, v in metrics.items()})


def _save(db: str, runs: list[NewRun]) -> None:
    store = open_store(db)
    for name in sorted({r.experiment for r in runs}):
        store.upsert_experiment(name, "", {})
    store.save_runs(runs)
    store.close()


def _judge(db: str) -> list:
    store = open_store(db, create=False, read_only=True)
    try:
        return evaluate(store)
    finally:
        store.close()


def _binary(ce_minus_mse: dict[str, float], seeds: int = 10, sd: float = 0.02) -> list[NewRun]:
    """ce/sigmoid and mse/sigmoid on one dataset per entry, ce's test accuracy shifted by the entry."""
    rng = np.random.default_rng(0)
    runs = []
    for dataset, shift in ce_minus_mse.items():
        for seed in range(seeds):
            base, noise = 0.8 + rng.normal(0, 0.02), rng.normal(0, sd, 2)
            for loss, acc in (("ce", base + shift + noise[0]), ("mse", base + noise[1])):
                runs.append(_run("binary", loss, "sigmoid", dataset, 0.1, seed,
                                 {"test_accuracy": [0.5, acc], "val_accuracy": [0.5, acc]}))
    return runs


@pytest.fixture
def verdict_db(tmp_path) -> str:
    """ce beats mse on breast_cancer, loses on moons, ties noisily on iris and tightly on wine."""
    db = f"sqlite:///{tmp_path / 'v.db'}"
    _save(db, _binary({"breast_cancer": 0.10, "moons": -0.10, "iris": 0.0}) +
          _binary({"wine": 0.0}, seeds=20, sd=0.0005))
    return db


def _by_condition(db: str, claim: str, experiment: str) -> dict[str, str]:
    return {v.condition: v.verdict for v in _judge(db) if v.claim == claim and v.experiment == experiment}


def test_a_clear_effect_in_the_claimed_direction_is_supported(verdict_db):
    assert _by_condition(verdict_db, "classification-accuracy", "binary")["dataset=breast_cancer"] == "supported"


def test_a_clear_effect_against_the_claim_is_contradicted(verdict_db):
    assert _by_condition(verdict_db, "classification-accuracy", "binary")["dataset=moons"] == "contradicted"


def test_a_noisy_null_effect_is_inconclusive_and_says_how_many_seeds_would_decide(verdict_db):
    row = next(v for v in _judge(verdict_db) if v.condition == "dataset=iris" and v.metric == "final test accuracy")
    assert row.verdict == "inconclusive" and row.seeds_needed is not None and row.seeds_needed > row.n
    assert "seeds would" in finding(row)


def test_a_designed_equivalent_pair_is_equivalent(verdict_db):
    assert _by_condition(verdict_db, "classification-accuracy", "binary")["dataset=wine"] == "equivalent"


def test_an_experiment_without_runs_is_not_run_with_the_command_to_run_it(verdict_db):
    rows = [v for v in _judge(verdict_db) if v.claim == "regression"]
    assert [(v.verdict, v.command) for v in rows] == [("not run", "lossdb run regression")]


def test_the_summary_has_exactly_one_row_per_claim_in_declared_order(verdict_db):
    assert [v.claim for v in summary(_judge(verdict_db))] == list(CLAIMS)


def test_the_headline_follows_the_tests_preferred_condition_and_counts_the_others(verdict_db):
    row = next(v for v in summary(_judge(verdict_db)) if v.claim == "classification-accuracy")
    assert (row.experiment, row.condition, row.dataset) == ("binary", "dataset=breast_cancer", "breast_cancer")
    assert "The same comparison in 3 other settings" in finding(row) and "contradicted at dataset=moons" in finding(row)


def test_headline_intervals_are_bonferroni_adjusted_over_the_family(tmp_path):
    db = f"sqlite:///{tmp_path / 'f.db'}"
    margin = [_run("margin", loss, head, "digits", 0.1, seed, {"test_accuracy": [0.1, 0.9 + 0.001 * seed + shift]})
              for seed in range(6) for loss, head, shift in (("hinge", "linear", 0.0), ("ce", "softmax", 0.002))]
    _save(db, _binary({"breast_cancer": 0.10}) + margin)
    rows = _judge(db)
    head = next(v for v in rows if v.headline and v.claim == "classification-accuracy")
    family = [v for v in rows if v.headline and v.verdict != "not run" and not v.deterministic]
    assert len(family) == 2 and head.alpha == pytest.approx(0.05 / 2)
    assert all(v.alpha == 0.05 for v in rows if not v.headline and not v.deterministic)
    assert "family-wise over the headlines" in finding(head)


def test_the_effect_its_interval_and_the_seeds_are_in_the_finding(verdict_db):
    row = next(v for v in _judge(verdict_db) if v.condition == "dataset=moons")
    assert row.effect == pytest.approx(-0.10, abs=0.03) and row.ci_low < row.effect < row.ci_high
    assert row.method and "10 seeds" in finding(row) and "points [" in finding(row)


def test_the_same_database_gives_the_same_verdicts(verdict_db):
    assert _judge(verdict_db) == _judge(verdict_db)


def test_tallies_over_all_comparisons_count_every_outcome(verdict_db):
    counts = tally(_judge(verdict_db))
    assert set(counts) == {"supported", "contradicted", "equivalent", "inconclusive"}
    assert counts["supported"] >= 1 and counts["contradicted"] >= 1 and counts["equivalent"] >= 1


def _two_rates(tmp_path, ce_vals: dict[float, list[float]], mse_vals: dict[float, list[float]]) -> str:
    db = f"sqlite:///{tmp_path / 't.db'}"
    runs = []
    for seed in range(len(next(iter(ce_vals.values())))):
        for loss, vals in (("ce", ce_vals), ("mse", mse_vals)):
            for lr, v in vals.items():
                runs.append(_run("binary", loss, "sigmoid", "moons", lr, seed,
                                 {"val_accuracy": [0, v[seed]], "test_accuracy": [0, v[seed] + 0.001 * seed]}))
    _save(db, runs)
    return db


def test_tuned_comparisons_use_each_arms_best_validation_rate_and_equal_rates_each_rate(tmp_path):
    db = _two_rates(tmp_path, {0.1: [0.9] * 6, 2.0: [0.7] * 6}, {0.1: [0.6] * 6, 2.0: [0.8] * 6})
    rows = {v.lr: v for v in _judge(db) if v.claim == "classification-accuracy" and v.experiment == "binary"}
    assert set(rows) == {"tuned (0.1 vs 2)", "0.1", "2"}
    assert rows["tuned (0.1 vs 2)"].lrs == (0.1, 2.0)
    assert (rows["0.1"].verdict, rows["2"].verdict) == ("supported", "contradicted")


def test_the_rate_is_chosen_on_seeds_other_than_those_that_measure(tmp_path):
    # rate 0.1 wins validation on even seeds, rate 2 on odd ones: cross-fitting uses 2 on even, 0.1 on odd
    ce = {0.1: [0.9, 0.5, 0.9, 0.5, 0.9, 0.5], 2.0: [0.5, 0.9, 0.5, 0.9, 0.5, 0.9]}
    db = _two_rates(tmp_path, ce, {0.1: [0.6] * 6})
    row = next(v for v in _judge(db) if v.lr_mode == "tuned" and v.claim == "classification-accuracy")
    assert row.lr == "tuned (0.1|2 vs 0.1)"
    assert row.values["ce/sigmoid"] == pytest.approx(0.5 + 0.0025, abs=0.002)  # measured where it did not win


def test_a_tie_on_validation_that_would_change_the_verdict_is_reported_as_fragile(tmp_path):
    # ce is as good on validation at 0.1 and 2 (tied), but its test accuracy at 2 is far lower
    db = f"sqlite:///{tmp_path / 'f.db'}"
    rng = np.random.default_rng(3)
    runs = []
    for seed in range(8):
        val = 0.9 + rng.normal(0, 0.01)  # the same at both rates: a tie
        for lr, test_acc in ((0.1, 0.9), (2.0, 0.7)):
            runs.append(_run("binary", "ce", "sigmoid", "moons", lr, seed,
                             {"val_accuracy": [0, val], "test_accuracy": [0, test_acc + rng.normal(0, 0.005)]}))
            runs.append(_run("binary", "mse", "sigmoid", "moons", lr, seed,
                             {"val_accuracy": [0, 0.6 if lr == 2.0 else 0.8],
                              "test_accuracy": [0, 0.8 + rng.normal(0, 0.005)]}))
    _save(db, runs)
    row = next(v for v in _judge(db) if v.lr_mode == "tuned" and v.claim == "classification-accuracy")
    assert row.verdict == "supported" and row.lrs[0] == 0.1
    assert "ce/sigmoid at rate 2, tied with the chosen rate on validation, would make it contradicted" in fragile_text(row)
    assert "fragile" in finding(row)


def test_diverged_runs_leave_a_comparison_without_a_failure_value_and_are_counted(tmp_path):
    db = f"sqlite:///{tmp_path / 'd.db'}"
    runs = []
    for seed in range(8):
        runs.append(_run("calibration", "ce", "softmax", "digits", 0.1, seed, {"test_ece": [0.5, 0.02]}))
        status = "diverged" if seed < 3 else "finished"
        runs.append(_run("calibration", "mse", "softmax", "digits", 0.1, seed, {"test_ece": [0.5, 0.2]}, status=status))
    _save(db, runs)
    row = next(v for v in _judge(db) if v.claim == "calibration" and v.metric == "test ECE (15 bins)")
    assert (row.n, row.excluded_diverged, row.diverged) == (5, 3, (0, 3))
    assert "3 of 8 mse/softmax runs diverged" in finding(row)


def test_a_deterministic_neuron_is_labelled_deterministic_without_an_interval(tmp_path):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    a = 1 / (1 + np.exp(-4.0))
    curve = {"ce": [a, 0.6, 0.4, 0.2], "mse": [a, 0.97, 0.96, 0.95]}
    grad = {"ce": a, "mse": 2 * a * a * (1 - a)}
    _save(db, [_run("saturation", loss, "sigmoid", "neuron", 0.15, 0,
                    {"output": curve[loss], "grad_norm": [grad[loss]] * 4}) for loss in ("ce", "mse")])
    rows = [v for v in _judge(db) if v.experiment == "saturation"]
    head = next(v for v in rows if v.metric == "output gradient |∂C/∂z| at the start")
    assert (head.verdict, head.deterministic, head.n, head.ci_low, head.ci_high) == ("supported", True, 1, None, None)
    assert head.effect == pytest.approx(1 / (2 * a * (1 - a)))
    assert "(deterministic)" in finding(head) and "Nielsen" in finding(head)


def test_a_threshold_never_reached_is_censored_not_counted_past_the_end(tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    rng = np.random.default_rng(1)
    runs = []
    for seed in range(6):
        fast = int(rng.integers(2, 4))
        ce = [0.5] * fast + [0.95] * (11 - fast)
        runs.append(_run("convergence", "ce", "softmax", "digits", 0.5, seed, {"train_accuracy": ce}))
        runs.append(_run("convergence", "mse", "softmax", "digits", 0.5, seed, {"train_accuracy": [0.5] * 11}))
    _save(db, runs)
    row = next(v for v in _judge(db) if v.metric == "epochs to 90% training accuracy")
    assert row.values["mse/softmax"] == 10 and row.ratio
    assert "6 of 6 mse/softmax runs never got there in 10 epochs (censored" in finding(row)


def test_non_inferiority_is_supported_when_the_loss_is_within_the_margin(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    rng = np.random.default_rng(2)
    runs = []
    for seed in range(10):
        acc = 0.9 + rng.normal(0, 0.01)
        for loss, head, shift in (("hinge", "linear", 0.002), ("ce", "softmax", 0.0)):
            runs.append(_run("margin", loss, head, "digits", 0.1, seed,
                             {"test_accuracy": [0.1, acc + shift + rng.normal(0, 0.001)]}))
    _save(db, runs)
    row = next(v for v in summary(_judge(db)) if v.claim == "margin")
    assert (row.verdict, row.kind, row.arms) == ("supported", "noninferior", ("hinge/linear", "ce/softmax"))
    assert "margin is 1 accuracy point" in finding(row)


def test_the_analytic_curve_is_an_illustration_never_the_headline(tmp_path):
    db = f"sqlite:///{tmp_path / 'e.db'}"
    open_store(db).close()
    rows = [v for v in _judge(db) if v.claim == "confident-mistakes"]
    analytic = [v for v in rows if v.lr_mode == "analytic"]
    assert analytic and all(v.illustration and not v.headline and v.deterministic for v in analytic)
    assert analytic[0].effect == pytest.approx(-np.log(0.01) / 0.1089, rel=0.01)
    head = next(v for v in summary(rows) if v.claim == "confident-mistakes")
    assert (head.verdict, head.command) == ("not run", "lossdb run calibration")


def test_imbalance_compares_weighted_with_weighted(tmp_path):
    db = f"sqlite:///{tmp_path / 'w.db'}"
    runs = []
    for seed in range(4):
        for loss, extra, acc in (("ce", {"class_weights": "balanced"}, 0.9), ("mse", {"class_weights": "balanced"}, 0.88),
                                 ("ce", {}, 0.7), ("mse", {}, 0.7)):
            runs.append(_run("imbalance", loss, "softmax", "blobs", 0.1, seed,
                             {"test_balanced_accuracy": [0.5, acc + 0.001 * seed]}, **extra))
    _save(db, runs)
    head = next(v for v in summary(_judge(db)) if v.claim == "imbalance")
    assert head.arms == ("ce/softmax (weighted)", "mse/softmax (weighted)")


def test_a_comparison_whose_every_pair_diverged_is_not_measurable_and_never_open(tmp_path):
    from lossdb.core.runner.rounds import open_experiments

    db = f"sqlite:///{tmp_path / 'nm.db'}"
    runs = []
    for seed in range(4):  # ECE has no failure value (accuracy would count a diverged run at chance)
        runs.append(_run("calibration", "ce", "softmax", "digits", 0.1, seed, {"test_ece": [0.5, 0.02]}))
        runs.append(_run("calibration", "mse", "softmax", "digits", 0.1, seed, {"test_ece": [0.5, 0.2]},
                         status="diverged"))
    _save(db, runs)
    rows = _judge(db)
    row = next(v for v in rows if v.claim == "calibration" and v.metric == "test ECE (15 bins)")
    assert (row.verdict, row.n, row.seeds_needed) == ("not measurable", 0, None)
    assert row.reason("not_measurable").figures == (("why", "diverged"), ("seeds", 4))
    assert "every one of the 4 paired seeds had a diverged run" in finding(row)
    assert sum(tally([row]).values()) == 0  # neither evidence nor inconclusive
    assert "calibration" not in open_experiments([row], ["calibration"], all_conditions=True)


def test_neither_arm_reaching_the_threshold_is_not_measurable(tmp_path):
    db = f"sqlite:///{tmp_path / 'nr.db'}"
    runs = [_run("convergence", loss, "softmax", "digits", 0.5, seed, {"train_accuracy": [0.5] * 11})
            for seed in range(5) for loss in ("ce", "mse")]
    _save(db, runs)
    row = next(v for v in _judge(db) if v.metric == "epochs to 90% training accuracy")
    assert (row.verdict, row.effect, row.ci_low) == ("not measurable", None, None)
    assert row.reason("not_measurable").get("why") == "never_reached"
    assert "neither ce/softmax nor mse/softmax reached the threshold within 10 epochs" in finding(row)


def test_an_interval_never_leaves_the_measures_range_and_says_when_the_seeds_cannot_bound_it(tmp_path):
    from lossdb.core.present.effects import effect_ci

    db = f"sqlite:///{tmp_path / 'r.db'}"
    runs = []
    for seed, (ce, mse) in enumerate(((0.95, 0.2), (0.5, 0.45))):  # two seeds, wildly different gaps
        runs.append(_run("binary", "ce", "sigmoid", "moons", 0.1, seed, {"test_accuracy": [0.5, ce]}))
        runs.append(_run("binary", "mse", "sigmoid", "moons", 0.1, seed, {"test_accuracy": [0.5, mse]}))
    _save(db, runs)
    row = next(v for v in _judge(db) if v.claim == "classification-accuracy" and v.experiment == "binary")
    assert -1.0 <= row.ci_low and row.ci_high <= 1.0  # ±100 points at most (raw t interval: about ±4.5)
    assert row.reason("too_few_seeds").get("n") == 2
    assert effect_ci(row) == "+40.0 points (too few seeds to bound it: 2)"


def test_a_ratio_interval_stays_positive_and_finite_or_is_not_shown():
    from lossdb.core.judging.verdicts import RATIO_LIMIT, in_range

    assert in_range(0.0, 3.0, True, None) == (None, 3.0, False)
    assert in_range(1e-13, 1.78e16, True, None) == (None, None, False)
    assert in_range(0.5, 2.0, True, None) == (0.5, 2.0, True)
    assert in_range(1 / RATIO_LIMIT / 2, 2.0, True, None)[2] is False
    assert in_range(-1.406, 1.706, False, 1.0) == (-1.0, 1.0, False)
    assert in_range(-3.0, 5.0, False, None) == (-3.0, 5.0, True)  # a loss difference has no bound
    assert in_range(float("-inf"), 5.0, False, None) == (None, 5.0, False)


def test_a_sequential_rows_seeds_needed_is_computed_at_the_level_its_interval_is_shown_at(tmp_path):
    # The look's nominal level is stricter than the fixed design's 5%, so the same 20 pairs need
    # more seeds; N computed at the overall level decided only ~65% of fresh experiments judged as
    # the row is (bench/power.py on full.db).
    from lossdb.core.judging.adaptive import Design

    db = f"sqlite:///{tmp_path / 's.db'}"
    _save(db, _binary({"iris": 0.012}, seeds=20, sd=0.03))
    store = open_store(db, create=False, read_only=True)
    try:
        fixed = next(v for v in evaluate(store) if v.condition == "dataset=iris" and v.metric == "final test accuracy")
        looked = next(v for v in evaluate(store, designs={"binary": Design(5, 5, 20)})
                      if v.condition == "dataset=iris" and v.metric == "final test accuracy")
    finally:
        store.close()
    assert fixed.verdict == looked.verdict == "inconclusive" and looked.n == fixed.n == 20
    assert looked.alpha < fixed.alpha and looked.seeds_needed > fixed.seeds_needed
