"""The built-in catalogue: every experiment of issue 3 loads, validates, expands, tests its claims and runs."""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import pytest

from lossdb.core.experiments import spec as ex
from lossdb.core.store import open_store

# The claim ids of the table in DESIGN.md ("Claims (the rows of the summary comparison table)").
DESIGN_CLAIMS = ("convergence", "vanishing-gradient", "classification-accuracy", "regression",
                 "confident-mistakes", "outliers", "label-noise", "calibration", "local-minima",
                 "imbalance", "linear-mse", "margin")
EXPERIMENTS = ("saturation", "convergence", "binary", "regression", "outliers", "label-noise",
               "imbalance", "calibration", "local-minima", "lr-sensitivity", "margin",
               "confident-mistakes", "softmax-init", "symmetric-noise", "huber-delta",
               "feature-outliers")
DETERMINISTIC = {"saturation"}  # the one-sample neuron: every seed gives the same numbers
CATALOGUE_FILES = sorted(e.name for e in resources.files("lossdb.core.experiments").joinpath("catalogue").iterdir() if e.name.endswith(".toml"))


def _lrs_by_arm(plans: list[ex.RunPlan]) -> dict[str, set[float]]:
    out: dict[str, set[float]] = {}
    for p in plans:
        out.setdefault(p.arm["label"], set()).add(p.arm["train"]["lr"])
    return out


def test_the_catalogue_holds_exactly_the_experiments_of_the_issue():
    assert sorted(ex.catalogue()) == sorted(EXPERIMENTS)


@pytest.mark.parametrize("filename", CATALOGUE_FILES)
def test_every_catalogue_file_parses_and_validates_under_its_own_name(filename):
    text = resources.files("lossdb.core.experiments").joinpath("catalogue", filename).read_text(encoding="utf-8")
    exp = ex.parse(text, f"catalogue:{filename}")
    assert f"{exp.name}.toml" == filename


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_states_its_protocol_and_claims(name):
    exp = ex.catalogue()[name]
    assert len(exp.raw["experiment"].get("protocol", "").split()) >= 30
    assert exp.claims and set(exp.claims) <= set(DESIGN_CLAIMS)


@pytest.mark.parametrize("name", EXPERIMENTS)
@pytest.mark.parametrize("preset", ["quick", "full"])
def test_every_experiment_sets_and_expands_both_presets(name, preset):
    exp = ex.catalogue()[name]
    assert {"data", "model", "train"} & set(exp.raw["presets"][preset])
    plans = ex.expand(exp, preset)
    assert plans and all(p.experiment == name for p in plans)


@pytest.mark.parametrize("name", sorted(set(EXPERIMENTS) - DETERMINISTIC))
def test_the_full_preset_has_at_least_ten_seeds(name):
    seeds = {p.seed for p in ex.expand(ex.catalogue()[name], "full")}
    assert len(seeds) >= (50 if name == "local-minima" else 10)


def test_local_minima_has_at_least_twenty_seeds_in_the_quick_preset():
    assert len({p.seed for p in ex.expand(ex.catalogue()["local-minima"], "quick")}) >= 20


def test_label_noise_trains_at_least_200_epochs_in_the_full_preset():
    plans = ex.expand(ex.catalogue()["label-noise"], "full")
    assert min(p.arm["train"]["epochs"] for p in plans) >= 200


def test_every_design_claim_is_tested_by_at_least_one_experiment():
    tested = {c for e in ex.catalogue().values() for c in e.claims}
    assert set(DESIGN_CLAIMS) <= tested


def test_every_experiment_a_declared_claim_reads_is_in_the_catalogue_and_lists_that_claim():
    from lossdb.core.judging.claims import CLAIMS

    cat = ex.catalogue()
    for claim in CLAIMS.values():
        for name in claim.experiments:
            assert name in cat, f"claim {claim.id} reads unknown experiment {name}"
            assert claim.id in cat[name].claims, f"{name} does not list claim {claim.id}"


@pytest.mark.parametrize("name", EXPERIMENTS)
@pytest.mark.parametrize("preset", ["quick", "full"])
def test_where_an_experiment_has_a_rate_grid_every_arm_runs_at_every_rate(name, preset):
    by_arm = _lrs_by_arm(ex.expand(ex.catalogue()[name], preset))
    grids = {frozenset(v) for v in by_arm.values()}
    if max(len(v) for v in by_arm.values()) > 1:
        assert len(grids) == 1, by_arm


def test_lr_sensitivity_grid_is_at_least_seven_log_spaced_rates_from_0003_to_3():
    for preset in ("quick", "full"):
        grid = sorted(next(iter(_lrs_by_arm(ex.expand(ex.catalogue()["lr-sensitivity"], preset)).values())))
        assert len(grid) >= 7 and grid[0] == pytest.approx(0.003) and grid[-1] == pytest.approx(3.0)
        steps = np.diff(np.log10(grid))
        np.testing.assert_allclose(steps, steps.mean(), atol=0.03)


def test_convergence_compares_both_initialisations_on_every_arm():
    plans = ex.expand(ex.catalogue()["convergence"], "full")
    pairs = {(p.arm["label"], p.arm["model"]["init"]) for p in plans}
    labels = {"ce/softmax", "mse/softmax", "mse/sigmoid", "mse/linear"}
    assert pairs == {(lab, init) for lab in labels for init in ("normal", "glorot")}


def test_saturation_runs_the_books_quadratic_cost_at_half_the_books_rate():
    lrs = {(p.arm["loss"], p.arm["train"]["lr"]) for p in ex.expand(ex.catalogue()["saturation"], "full")}
    assert lrs == {("mse", 0.075), ("ce", 0.15)}
    assert 0.075 == 0.15 / 2  # exactly, in binary floating point: the updates are the book's


def test_imbalance_has_weighted_and_unweighted_ce_and_mse_and_focal_under_their_default_labels():
    labels = {p.arm["label"] for p in ex.expand(ex.catalogue()["imbalance"], "quick")}
    assert labels == {"ce/softmax", "ce/softmax (weighted)", "focal/softmax (gamma=2)",
                      "focal/softmax (gamma=2, weighted)", "mse/softmax", "mse/softmax (weighted)"}


# ---------------------------------------------------------------- the whole quick catalogue, once


@pytest.mark.slow
def test_the_quick_catalogue_runs_every_planned_run_without_failures(quick_catalogue_db):
    db, output = quick_catalogue_db
    with open_store(db) as store:
        runs = store.list_runs()
    by_exp: dict[str, int] = {}
    for r in runs:
        by_exp[r.experiment] = by_exp.get(r.experiment, 0) + 1
    assert by_exp == {n: len(ex.expand(ex.catalogue()[n], "quick")) for n in EXPERIMENTS}
    assert {r.status for r in runs} <= {"finished", "diverged"}
    assert " 0 failed" in output


@pytest.mark.slow
def test_the_quick_catalogue_records_each_claims_metrics(quick_catalogue_db):
    db, _ = quick_catalogue_db
    needed = {"saturation": {"output", "dloss_dz", "grad_norm"},
              "convergence": {"train_accuracy", "test_accuracy", "grad_norm", "step", "step_train_accuracy"},
              "softmax-init": {"step", "step_train_accuracy", "step_train_loss"},
              "feature-outliers": {"test_accuracy"},
              "regression": {"test_rmse", "val_rmse", "test_mae"},
              "outliers": {"test_rmse", "val_rmse"},
              "label-noise": {"test_accuracy", "val_accuracy"},
              "imbalance": {"test_balanced_accuracy", "test_macro_f1", "test_minority_recall"},
              "calibration": {"test_ece", "test_brier", "test_nll", "test_true_class_prob",
                              "test_confident_wrong_loss", "test_confident_wrong_grad"},
              "local-minima": {"train_accuracy", "train_loss"},
              "confident-mistakes": {"test_confident_wrong_share"}}
    with open_store(db) as store:  # only the experiments a claim reads in optimiser steps record them
        label_noise = next(r for r in store.list_runs(experiment="label-noise") if r.status == "finished")
        assert "step" not in label_noise.summary
    with open_store(db) as store:
        for name, metrics in needed.items():
            finished = [r for r in store.list_runs(experiment=name) if r.status == "finished"]
            assert finished, name
            assert metrics <= set(finished[0].summary), (name, metrics - set(finished[0].summary))


@pytest.mark.slow
def test_the_quick_catalogue_keeps_a_reliability_diagram_with_each_finished_calibration_run(quick_catalogue_db):
    db, _ = quick_catalogue_db
    with open_store(db) as store:
        runs = [r for r in store.list_runs(experiment="calibration") if r.status == "finished"]
    if not hasattr(runs[0], "extras"):
        pytest.skip("this store keeps no run extras")
    for r in runs:
        diagram = r.extras["reliability"]
        assert len(diagram["count"]) == len(diagram["confidence"]) == len(diagram["accuracy"]) == 15
        gap = sum(c * abs(a - f) for c, a, f in zip(diagram["count"], diagram["accuracy"],
                                                     diagram["confidence"], strict=True) if c)
        assert math.isclose(gap / sum(diagram["count"]), r.summary["test_ece"], rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("name", ["convergence", "binary"])
def test_the_full_preset_varies_scaling_and_initial_scale_and_the_quick_one_keeps_the_defaults(name):
    setups = {p: {(p_.arm["data"].get("scale", "standard"), p_.arm["model"]["init_scale"])
                  for p_ in ex.expand(ex.catalogue()[name], p)} for p in ("quick", "full")}
    assert setups["quick"] == {("standard", 1.0)}
    assert setups["full"] == {(s, i) for s in ("standard", "minmax") for i in (1.0, 0.5)}
