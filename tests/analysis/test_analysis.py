"""core.analysis.frame: derived measures, runs frames and curve aggregates."""

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lossdb.core import ENGINE_VERSION
from lossdb.core.analysis import engines
from lossdb.core.analysis import frame as A
from lossdb.core.store import NewRun
from lossdb.core.judging.verdicts import analytic_curves


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


def _saved(store, configs: list[dict], engines: list[str] | None = None) -> None:
    store.upsert_experiment("binary", "", {})
    now = datetime.now(UTC)
    engines = engines or [ENGINE_VERSION] * len(configs)
    store.save_runs([NewRun("binary", f"h{i}", 0, engine, cfg, "ce", "sigmoid", cfg["data"]["dataset"], 0.1,
                            "finished", None, None, 2, now, now, 0.5, "0", "1", "3", None,
                            {"test_accuracy": np.array([0.5, 0.7, 0.9])})
                     for i, (cfg, engine) in enumerate(zip(configs, engines, strict=True))])


def test_runs_of_another_engine_version_are_set_aside_and_counted(store):
    cfg = {"data": {"dataset": "moons", "noise": 0.2}, "model": {}, "train": {"lr": 0.1},
           "loss": "ce", "head": "sigmoid"}
    old = {**cfg, "data": {"dataset": "moons", "noise": 0.3}}  # its noise would otherwise name conditions
    _saved(store, [cfg, cfg, old, old, cfg], [ENGINE_VERSION, f"{ENGINE_VERSION}+array-api-strict", "2",
                                               "2+torch-cuda", "1"])
    frame = A.runs_frame(store)
    assert sorted(frame["condition"]) == ["dataset=moons, backend=array-api-strict", "dataset=moons, backend=numpy"]
    assert engines.set_aside(store) == {"1": 1, "2": 2}
    assert engines.current_engine(ENGINE_VERSION) and engines.current_engine(f"{ENGINE_VERSION}+torch-cuda")
    assert not engines.current_engine("2") and not engines.current_engine(f"{ENGINE_VERSION}1")


def test_nothing_is_set_aside_when_every_run_is_the_current_engines(store):
    _saved(store, [{"data": {"dataset": "moons"}, "model": {}, "train": {"lr": 0.1}, "loss": "ce", "head": "sigmoid"}])
    assert engines.set_aside(store) == {} and len(A.runs_frame(store)) == 1


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
