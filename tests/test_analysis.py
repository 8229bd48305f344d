"""core.analysis: derived measures, paired intervals, lr selection and curve aggregates."""

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core import analysis as A
from core.claims import analytic_curves
from core.store import NewRun


def test_epochs_to_is_the_first_epoch_at_or_above_the_threshold():
    assert A.epochs_to(np.array([0.1, 0.5, 0.92, 0.88, 0.95]), 0.9) == 2


def test_epochs_to_is_infinite_when_the_curve_never_gets_there():
    assert A.epochs_to(np.array([0.1, 0.5, 0.6]), 0.9) == math.inf


def test_epochs_to_below_counts_the_first_epoch_at_or_under_the_threshold():
    assert A.epochs_to(np.array([0.98, 0.7, 0.49, 0.3]), 0.5, below=True) == 2


def test_area_under_is_the_mean_over_epochs():
    assert A.area_under(np.array([0.0, 0.5, 1.0])) == pytest.approx(0.5)


def test_area_under_pads_a_diverged_curve_with_its_last_value():
    assert A.area_under(np.array([0.2, 0.4]), epochs=3) == pytest.approx((0.2 + 0.4 * 3) / 4)


def test_best_epoch_takes_the_first_best_finite_value():
    curve = np.array([0.1, 0.9, np.nan, 0.9, 0.3])
    assert A.best_epoch(curve, "max") == 1 and A.best_epoch(curve, "min") == 0


def test_paired_t_interval_equals_scipys_paired_t_test():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 1.0, 10), rng.normal(0.0, 1.0, 10)
    est = A.paired(a, b)
    ci = stats.ttest_rel(a, b).confidence_interval(0.95)
    assert (est.effect, est.ci_low, est.ci_high, est.n) == pytest.approx((np.mean(a - b), ci.low, ci.high, 10))


def test_paired_interval_covers_the_true_difference_95_percent_of_the_time_at_10_seeds():
    rng = np.random.default_rng(2024)
    covered = 0
    for _ in range(1000):
        base = rng.normal(0.0, 1.0, 10)
        a, b = base + 0.3 + rng.normal(0.0, 0.5, 10), base + rng.normal(0.0, 0.5, 10)
        est = A.paired(a, b)
        covered += est.ci_low <= 0.3 <= est.ci_high
    assert 930 <= covered <= 970


def test_paired_gives_the_same_interval_for_the_same_input():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=8), rng.normal(size=8)
    assert A.paired(a, b) == A.paired(a.copy(), b.copy())
    assert A.paired(a, b, method="bca", seed=7) == A.paired(a, b, method="bca", seed=7)


def test_paired_ratio_is_the_geometric_mean_ratio_with_a_log_scale_interval():
    a, b = np.array([6.0, 9.0, 12.0, 8.0]), np.array([2.0, 3.0, 3.0, 4.0])
    logs = np.log(a) - np.log(b)
    ci = stats.t.interval(0.95, 3, loc=logs.mean(), scale=stats.sem(logs))
    est = A.paired(a, b, ratio=True)
    assert est.ratio and (est.effect, est.ci_low, est.ci_high) == pytest.approx(
        (np.exp(logs.mean()), np.exp(ci[0]), np.exp(ci[1])))


def test_paired_leaves_out_pairs_with_a_non_finite_value():
    est = A.paired(np.array([1.0, np.nan, 3.0, np.inf]), np.array([0.0, 1.0, 1.0, 1.0]))
    assert est.n == 2 and est.effect == pytest.approx(1.5)


def test_paired_differences_without_variation_give_the_point_as_interval():
    est = A.paired(np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.0]))
    assert (est.effect, est.ci_low, est.ci_high, est.method) == (2.0, 2.0, 2.0, "no variation")


def test_a_single_deterministic_pair_is_its_own_interval():
    est = A.paired(np.array([0.98]), np.array([0.017]), ratio=True, deterministic=True)
    assert est.ci_low == est.ci_high == est.effect == pytest.approx(0.98 / 0.017) and est.method == "deterministic"


def test_a_single_random_pair_has_an_infinite_interval():
    est = A.paired(np.array([2.0]), np.array([1.0]))
    assert est.ci_low == -math.inf and est.ci_high == math.inf


def _lr_frame() -> pd.DataFrame:
    rows = []
    for lr, val, test in ((0.1, 0.80, 0.95), (0.5, 0.90, 0.85), (2.0, 0.95, 0.99)):
        for seed in range(3):
            diverged = lr == 2.0 and seed == 2
            rows.append({"label": "ce/softmax", "lr": lr, "seed": seed, "val_accuracy": val,
                         "test_accuracy": test, "status": "diverged" if diverged else "finished"})
    return pd.DataFrame(rows)


def test_select_lr_picks_the_best_validation_rate_never_the_test_one():
    frame = _lr_frame()
    frame = frame[frame.lr != 2.0]
    assert A.select_lr(frame) == {"ce/softmax": 0.5}


def test_select_lr_rejects_a_rate_that_diverged_on_any_seed():
    assert A.select_lr(_lr_frame()) == {"ce/softmax": 0.5}


def test_select_lr_minimises_a_regression_metric():
    frame = pd.DataFrame({"label": ["mse/linear"] * 2, "lr": [0.1, 0.01], "val_rmse": [2.0, 1.0],
                          "status": ["finished"] * 2})
    assert A.select_lr(frame, "val_rmse", "min") == {"mse/linear": 0.01}


def test_aggregate_curves_matches_a_direct_numpy_computation():
    rng = np.random.default_rng(0)
    runs = pd.DataFrame({"id": range(6), "label": ["a"] * 3 + ["b"] * 3, "lr": 0.1})
    values = rng.normal(size=(6, 4))
    curves = pd.DataFrame({"run_id": np.repeat(np.arange(6), 4), "epoch": np.tile(np.arange(4), 6),
                           "value": values.ravel()})
    agg = A.aggregate_curves(runs, curves).set_index(["label", "epoch"])
    for label, rows in (("a", values[:3]), ("b", values[3:])):
        for epoch in range(4):
            v = rows[:, epoch]
            half = stats.t.ppf(0.975, 2) * v.std(ddof=1) / np.sqrt(3)
            got = agg.loc[(label, epoch)]
            assert (got["mean"], got["sd"], got["min"], got["max"], got["ci_low"], got["ci_high"], got["n"]) == \
                pytest.approx((v.mean(), v.std(ddof=1), v.min(), v.max(), v.mean() - half, v.mean() + half, 3))


def test_aggregate_curves_counts_only_the_runs_still_alive_at_each_epoch():
    runs = pd.DataFrame({"id": [0, 1], "label": "a", "lr": 0.1})
    curves = pd.DataFrame({"run_id": [0, 0, 0, 1, 1], "epoch": [0, 1, 2, 0, 1],
                           "value": [1.0, 2.0, 3.0, 1.0, np.inf]})
    agg = A.aggregate_curves(runs, curves)
    assert agg["n"].tolist() == [2, 1, 1]


def _saved(store, configs: list[dict]) -> None:
    store.upsert_experiment("binary", "", {})
    now = datetime.now(UTC)
    store.save_runs([NewRun("binary", f"h{i}", 0, "e1", cfg, "ce", "sigmoid", cfg["data"]["dataset"], 0.1,
                            "finished", None, None, 2, now, now, 0.5, "0", "1", "3", None,
                            {"test_accuracy": np.array([0.5, 0.7, 0.9])}) for i, cfg in enumerate(configs)])


def test_runs_frame_names_each_condition_by_the_settings_that_vary(store):
    cfg = {"data": {"dataset": "moons", "noise": 0.2}, "model": {"init": "glorot"}, "train": {"lr": 0.1},
           "loss": "ce", "head": "sigmoid", "label": "ce/sigmoid"}
    other = {**cfg, "data": {"dataset": "moons", "noise": 0.3}, "train": {"lr": 0.5}}
    _saved(store, [cfg, other])
    frame = A.runs_frame(store, ["binary"])
    assert frame["condition"].tolist() == ["dataset=moons, noise=0.2", "dataset=moons, noise=0.3"]
    assert frame["test_accuracy"].tolist() == [0.9, 0.9] and frame["arm"].tolist() == ["ce/sigmoid"] * 2


def test_curves_returns_one_row_per_epoch(store):
    cfg = {"data": {"dataset": "moons"}, "model": {}, "train": {"lr": 0.1}, "loss": "ce", "head": "sigmoid"}
    _saved(store, [cfg])
    run_id = A.runs_frame(store)["id"].iloc[0]
    assert A.curves(store, [run_id], "test_accuracy")["value"].tolist() == [0.5, 0.7, 0.9]


def test_analytic_curves_match_the_closed_forms_of_ce_and_mse():
    p = np.array([0.5, 0.01, 1e-6])
    frame = analytic_curves(p, ("ce", "mse"))
    ce = frame[frame.loss == "ce"]["value"].to_numpy()
    mse = frame[frame.loss == "mse"]["value"].to_numpy()
    assert ce == pytest.approx(-np.log(p))
    assert mse == pytest.approx(((1 - p) ** 2 + 9 * ((1 - p) / 9) ** 2) / 10)
