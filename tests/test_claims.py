"""Claims and verdicts on synthetic runs with known effects, stored in a real SQLite database."""

import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from core.claims import CLAIMS, evaluate, summary
from core.experiments import arm_hash, default_label
from core.store import NewRun, open_store

DESIGN_IDS = ("convergence", "vanishing-gradient", "classification-accuracy", "regression",
              "confident-mistakes", "outliers", "label-noise", "calibration", "local-minima",
              "imbalance", "linear-mse", "margin")
DESIGN = Path(__file__).resolve().parents[2] / "shared" / "DESIGN.md"


def _run(experiment: str, loss: str, head: str, dataset: str, lr: float, seed: int,
         metrics: dict[str, list[float]], status: str = "finished", **data) -> NewRun:
    arm = {"loss": loss, "head": head}
    cfg = {"experiment": experiment, "data": {"dataset": dataset, **data}, "model": {"hidden": [8]},
           "train": {"lr": lr, "epochs": len(next(iter(metrics.values()))) - 1}, **arm,
           "label": default_label(arm)}
    now = datetime.now(UTC)
    return NewRun(experiment, arm_hash(cfg), seed, "e1", {**cfg, "seed": seed}, loss, head, dataset, lr,
                  status, None, None, cfg["train"]["epochs"], now, now, 0.1, "0", "1", "3", None,
                  {k: np.asarray(v, dtype=float) for k, v in metrics.items()})


def _save(db: str, runs: list[NewRun]) -> None:
    store = open_store(db)
    for name in sorted({r.experiment for r in runs}):
        store.upsert_experiment(name, "", {})
    store.save_runs(runs)
    store.close()


def _binary(ce_minus_mse: dict[str, float], seeds: int = 10) -> list[NewRun]:
    """ce/sigmoid and mse/sigmoid on one dataset per entry, ce's test accuracy shifted by the entry."""
    rng = np.random.default_rng(0)
    runs = []
    for dataset, shift in ce_minus_mse.items():
        for seed in range(seeds):
            base, noise = 0.8 + rng.normal(0, 0.02), rng.normal(0, 0.02, 2)
            for loss, acc in (("ce", base + shift + noise[0]), ("mse", base + noise[1])):
                runs.append(_run("binary", loss, "sigmoid", dataset, 0.1, seed,
                                 {"test_accuracy": [0.5, acc], "val_accuracy": [0.5, acc]}))
    return runs


@pytest.fixture
def verdict_db(tmp_path) -> str:
    """A database where ce beats mse on breast_cancer, loses on moons and ties on iris (binary only)."""
    db = f"sqlite:///{tmp_path / 'v.db'}"
    _save(db, _binary({"breast_cancer": 0.10, "moons": -0.10, "iris": 0.0}))
    return db


def _rows(db: str, claim: str, experiment: str) -> dict[str, str]:
    store = open_store(db, create=False, read_only=True)
    out = {v.condition: v.verdict for v in evaluate(store) if v.claim == claim and v.experiment == experiment}
    store.close()
    return out


def test_every_design_claim_id_is_declared_once():
    assert tuple(CLAIMS) == DESIGN_IDS


@pytest.mark.skipif(not DESIGN.exists(), reason="the shared DESIGN.md is not next to this checkout")
def test_the_claims_declared_are_exactly_the_rows_of_design_md():
    ids = re.findall(r"^\| ([a-z-]+) \|", DESIGN.read_text(encoding="utf-8"), flags=re.M)
    assert set(CLAIMS) == set(ids) - {"id"}


def test_every_claim_names_its_sources_and_a_primary_test():
    for claim in CLAIMS.values():
        assert claim.sources and claim.experiments and claim.main in claim.tests
        assert len(claim.arms) == 2 and claim.metric


def test_a_clear_effect_in_the_claimed_direction_is_supported(verdict_db):
    assert _rows(verdict_db, "classification-accuracy", "binary")["dataset=breast_cancer"] == "supported"


def test_a_clear_effect_against_the_claim_is_contradicted(verdict_db):
    assert _rows(verdict_db, "classification-accuracy", "binary")["dataset=moons"] == "contradicted"


def test_no_effect_is_inconclusive(verdict_db):
    assert _rows(verdict_db, "classification-accuracy", "binary")["dataset=iris"] == "inconclusive"


def test_an_experiment_without_runs_is_not_run_with_the_command_to_run_it(verdict_db):
    store = open_store(verdict_db, create=False, read_only=True)
    rows = [v for v in evaluate(store) if v.claim == "regression"]
    assert [(v.verdict, v.command) for v in rows] == [("not run", "lossdb run regression")]


def test_the_summary_has_exactly_one_row_per_claim_in_declared_order(verdict_db):
    store = open_store(verdict_db, create=False, read_only=True)
    assert [v.claim for v in summary(evaluate(store))] == list(CLAIMS)


def test_the_headline_follows_the_tests_preferred_condition_and_counts_the_others(verdict_db):
    store = open_store(verdict_db, create=False, read_only=True)
    row = next(v for v in summary(evaluate(store)) if v.claim == "classification-accuracy")
    assert (row.experiment, row.condition, row.verdict) == ("binary", "dataset=breast_cancer", "supported")
    assert "The same comparison in 2 other settings: 1 inconclusive, 1 contradicted." in row.finding
    assert "contradicted at dataset=moons" in row.finding


def test_the_finding_states_the_effect_its_interval_and_the_seeds(verdict_db):
    store = open_store(verdict_db, create=False, read_only=True)
    row = next(v for v in evaluate(store) if v.condition == "dataset=breast_cancer")
    assert row.effect == pytest.approx(0.10, abs=0.03) and row.ci_low < row.effect < row.ci_high
    assert re.search(r"was \d+\.\d points higher than mse/sigmoid's \(95% CI \d+\.\d–\d+\.\d, 10 seeds\)", row.finding)


def test_the_same_database_gives_the_same_verdicts(verdict_db):
    store = open_store(verdict_db, create=False, read_only=True)
    assert evaluate(store) == evaluate(store)


def test_tuned_comparisons_use_each_arms_best_validation_rate(tmp_path):
    db = f"sqlite:///{tmp_path / 't.db'}"
    runs = []
    for seed in range(5):
        for lr, ce_val, mse_val in ((0.1, 0.9, 0.6), (2.0, 0.7, 0.8)):
            runs.append(_run("binary", "ce", "sigmoid", "moons", lr, seed, {"val_accuracy": [0, ce_val],
                             "test_accuracy": [0, ce_val + 0.01 * seed]}))
            runs.append(_run("binary", "mse", "sigmoid", "moons", lr, seed, {"val_accuracy": [0, mse_val],
                             "test_accuracy": [0, mse_val]}))
    _save(db, runs)
    store = open_store(db, create=False, read_only=True)
    rows = {v.lr: v for v in evaluate(store) if v.claim == "classification-accuracy" and v.experiment == "binary"}
    assert set(rows) == {"tuned (0.1 vs 2)", "0.1", "2"}
    assert rows["tuned (0.1 vs 2)"].values == pytest.approx({"ce/sigmoid": 0.92, "mse/sigmoid": 0.8})
    assert (rows["0.1"].verdict, rows["2"].verdict) == ("supported", "contradicted")


def test_a_deterministic_neuron_gives_a_degenerate_interval_called_deterministic(tmp_path):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    a = 1 / (1 + np.exp(-4.0))
    curve = {"ce": [a, 0.6, 0.4, 0.2], "mse": [a, 0.97, 0.96, 0.95]}
    grad = {"ce": a, "mse": a * a * (1 - a)}
    _save(db, [_run("saturation", loss, "sigmoid", "neuron", 0.15, 0,
                    {"output": curve[loss], "grad_norm": [grad[loss]] * 4}) for loss in ("ce", "mse")])
    store = open_store(db, create=False, read_only=True)
    rows = [v for v in evaluate(store) if v.experiment == "saturation"]
    assert {v.metric: v.verdict for v in rows} == {
        "output gradient |∂C/∂z| at the start": "supported", "epochs until the output falls below 0.5": "supported"}
    head = rows[0]
    assert head.ci_low == head.ci_high == head.effect == pytest.approx(1 / (a * (1 - a)))
    assert "(deterministic)" in head.finding


def test_a_threshold_never_reached_counts_as_one_epoch_past_the_end_and_says_so(tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    rng = np.random.default_rng(1)
    runs = []
    for seed in range(6):
        fast = int(rng.integers(2, 4))
        ce = [0.5] * fast + [0.95] * (11 - fast)
        runs.append(_run("convergence", "ce", "softmax", "digits", 0.5, seed, {"train_accuracy": ce}))
        runs.append(_run("convergence", "mse", "softmax", "digits", 0.5, seed, {"train_accuracy": [0.5] * 11}))
    _save(db, runs)
    store = open_store(db, create=False, read_only=True)
    row = next(v for v in evaluate(store) if v.metric == "epochs to 90% training accuracy")
    assert row.values["mse/softmax"] == 11 and row.verdict == "supported" and row.ratio
    assert "6/6 mse/softmax runs never got there in 10 epochs (counted as 11" in row.finding


def test_non_inferiority_is_supported_when_the_loss_is_within_the_margin(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    rng = np.random.default_rng(2)
    runs = []
    for seed in range(10):
        acc = 0.9 + rng.normal(0, 0.01)
        for loss, head, shift in (("hinge", "linear", 0.002), ("ce", "softmax", 0.0)):
            runs.append(_run("margin", loss, head, "digits", 0.1, seed,
                             {"test_accuracy": [0.1, acc + shift + rng.normal(0, 0.002)]}))
    _save(db, runs)
    store = open_store(db, create=False, read_only=True)
    row = next(v for v in summary(evaluate(store)) if v.claim == "margin")
    assert (row.verdict, row.kind, row.arms) == ("supported", "noninferior", ("hinge/linear", "ce/softmax"))


def test_the_analytic_confident_mistakes_verdict_needs_no_runs(tmp_path):
    db = f"sqlite:///{tmp_path / 'e.db'}"
    open_store(db).close()
    store = open_store(db, create=False, read_only=True)
    row = next(v for v in summary(evaluate(store)) if v.claim == "confident-mistakes")
    assert row.verdict == "supported" and row.effect == pytest.approx(-np.log(0.01) / 0.1089)
