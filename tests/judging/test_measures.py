"""Measures that can fail: a time comparison its grid or horizon cannot resolve is 'not measurable'."""

import numpy as np
import pytest

from lossdb.core.judging import estimators, measures
from lossdb.core.judging.decisions import outcome
from lossdb.core.present.findings import finding
from tests.judging.test_verdicts import _judge, _run, _save


def _censored_pair(seeds: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Exponential times with means 300 and 3000 epochs (ten times apart), cut at a 30-epoch horizon:
    both arms mostly never get there (P(T > 30) = 0.90 and 0.99)."""
    rng = np.random.default_rng(2)
    fast, slow = rng.exponential(300.0, seeds), rng.exponential(3000.0, seeds)
    return np.where(fast > 30, np.inf, np.ceil(fast)), np.where(slow > 30, np.inf, np.ceil(slow))


def test_the_restricted_mean_alone_calls_two_censored_arms_ten_times_apart_equivalent():
    first, second = _censored_pair()  # the failure the rule exists for: the estimator sees a ratio ≈ 1
    est = estimators.restricted_mean(second, first, horizon=30.0)
    assert outcome(est, 1.1) == "equivalent"


def test_two_mostly_censored_arms_ten_times_apart_are_censored_with_their_shares():
    first, second = _censored_pair()
    reason = measures.unmeasurable(second, first, 30.0, 1.0)
    assert reason is not None and (reason.code, reason.get("why")) == ("not_measurable", "censored")
    assert reason.get("share_first") > 0.5 and reason.get("share_second") > 0.5
    assert reason.get("horizon") == 30.0


def test_one_arm_mostly_reaching_the_threshold_keeps_the_restricted_mean():
    fast = np.array([3.0, 4.0, 5.0, 3.0, np.inf, 4.0])
    never = np.full(6, np.inf)
    assert measures.unmeasurable(fast, never, 30.0, 1.0) is None


def test_both_arms_at_the_first_measurement_are_on_the_floor():
    reason = measures.unmeasurable(np.array([1.0, 1.0, 1.0, 2.0]), np.array([1.0, 1.0, 2.0, 1.0]), 30.0, 1.0)
    assert reason is not None and reason.get("why") == "floor" and reason.get("share_first") == 0.75


def test_a_verdict_on_two_censored_arms_is_not_measurable_never_equivalent(tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    first, second = _censored_pair()
    runs = []
    for seed, (t_ce, t_mse) in enumerate(zip(first, second, strict=True)):
        for loss, t in (("ce", t_ce), ("mse", t_mse)):
            curve = [0.5 if e < t else 0.95 for e in range(31)]
            runs.append(_run("convergence", loss, "softmax", "digits", 0.5, seed, {"train_accuracy": curve}))
    _save(db, runs)
    row = next(v for v in _judge(db) if v.metric == "epochs to 90% training accuracy")
    assert row.verdict == "not measurable" and row.seeds_needed is None
    reason = next(r for r in row.reasons if r.code == "not_measurable")
    assert reason.get("why") == "censored"
    assert reason.get("share_first") > 0.5 and reason.get("share_second") > 0.5
    assert "not measurable within the horizon" in finding(row)


def _sub_epoch_runs(ce_steps: float, mse_steps: float, seeds: int = 12) -> list:
    """ce and mse reaching 95% training accuracy at about the given optimiser steps (2% spread), both
    within the first epoch of 100 steps, recorded on the engine's grid and per epoch."""
    from lossdb.core.engine.steps import record_steps

    grid = record_steps(1000).astype(float)
    rng = np.random.default_rng(3)
    runs = []
    for seed in range(seeds):
        for loss, t in (("ce", ce_steps), ("mse", mse_steps)):
            at = t * (1 + rng.normal(0, 0.02))
            metrics = {"train_accuracy": [0.1] + [0.96] * 10, "step": list(grid),
                       "step_train_accuracy": [0.1 if s < at else 0.96 for s in grid]}
            runs.append(_run("convergence", loss, "softmax", "digits", 0.5, seed, metrics))
    return runs


def test_times_ten_percent_apart_within_the_first_epoch_are_resolved_in_steps(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    _save(db, _sub_epoch_runs(45.0, 50.0))
    rows = _judge(db)
    steps = next(v for v in rows if v.metric == "optimiser steps to 90% training accuracy")
    assert steps.effect == pytest.approx(50 / 45, rel=0.03) and steps.ci_low > 1.0  # the 10% is seen
    epochs = next(v for v in rows if v.metric == "epochs to 90% training accuracy")
    assert epochs.verdict == "not measurable" and epochs.reason("not_measurable").get("why") == "floor"


def test_a_sub_epoch_speed_up_beyond_the_minimum_effect_is_supported(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    _save(db, _sub_epoch_runs(40.0, 60.0))
    row = next(v for v in _judge(db) if v.metric == "optimiser steps to 90% training accuracy")
    assert row.verdict == "supported" and row.values == {"ce/softmax": pytest.approx(40, rel=0.05),
                                                         "mse/softmax": pytest.approx(60, rel=0.05)}


def test_runs_without_a_step_record_say_so_instead_of_measuring(tmp_path):
    db = f"sqlite:///{tmp_path / 'o.db'}"
    runs = [_run("convergence", loss, "softmax", "digits", 0.5, seed, {"train_accuracy": [0.1, 0.5, 0.96]})
            for seed in range(3) for loss in ("ce", "mse")]
    _save(db, runs)
    row = next(v for v in _judge(db) if v.metric == "optimiser steps to 90% training accuracy")
    assert row.verdict == "not run" and row.reasons[0].code == "no_step_record" and "--force" in row.command


def test_a_diverged_run_counts_as_a_failure_at_chance_with_the_survivors_beside_it(tmp_path):
    """mse/sigmoid: 4 of 10 runs diverge and the 6 survivors beat ce by 2 points; counted at chance
    (1/2 on moons), the unstable arm loses by about 16 points."""
    db = f"sqlite:///{tmp_path / 'f.db'}"
    rng = np.random.default_rng(4)
    runs = []
    for seed in range(10):
        ce = 0.90 + rng.normal(0, 0.003)
        runs.append(_run("binary", "ce", "sigmoid", "moons", 0.1, seed, {"test_accuracy": [0.5, ce]}))
        status = "diverged" if seed < 4 else "finished"
        runs.append(_run("binary", "mse", "sigmoid", "moons", 0.1, seed, {"test_accuracy": [0.5, ce + 0.02]},
                         status=status))
    _save(db, runs)
    row = next(v for v in _judge(db) if v.claim == "classification-accuracy" and v.experiment == "binary")
    assert (row.n, row.excluded_diverged, row.diverged) == (10, 0, (0, 4))
    assert row.effect == pytest.approx(0.4 * (0.90 - 0.5) - 0.6 * 0.02, abs=0.005)
    reason = next(r for r in row.reasons if r.code == "diverged_as_failure")
    assert reason.get("score") == 0.5 and reason.get("n_survivors") == 6
    assert reason.get("survivors_effect") == pytest.approx(-0.02, abs=1e-9)
    assert reason.get("survivors_outcome") == "contradicted"
    assert "4 mse/sigmoid runs diverged and count as failures at chance (50 points)" in finding(row)


def test_a_diverged_run_of_a_dataset_outside_the_registry_is_left_out():
    assert measures.failure_score("test_accuracy", "final", "csv:/tmp/x.csv") is None
    assert measures.failure_score("test_ece", "final", "digits") is None
    assert measures.failure_score("test_accuracy", "final", "digits") == 0.1


def _neuron_runs(w: float, b: float, epochs: int = 400) -> list:
    """Nielsen's neuron (input 1, target 0) by full-batch gradient descent, simulated independently of
    the engine: mse at rate η/2 with lossdb's gradient 2(a − y)σ'(z), ce at η with (a − y)."""
    runs = []
    for loss, lr, scale in (("ce", 0.15, None), ("mse", 0.075, 2.0)):
        ww, bb, out, grad = w, b, [], []
        for _ in range(epochs + 1):
            a = 1 / (1 + np.exp(-(ww + bb)))
            g = a if scale is None else scale * a * a * (1 - a)
            out.append(a)
            grad.append(abs(g))
            ww, bb = ww - lr * g, bb - lr * g
        runs.append(_run("saturation", loss, "sigmoid", "neuron", lr, 0, {"output": out, "grad_norm": grad},
                         w=w, b=b))
    return runs


def test_the_vanishing_gradient_is_judged_free_of_the_losss_scale_convention(tmp_path):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    _save(db, _neuron_runs(2.0, 2.0) + _neuron_runs(0.6, 0.9))
    rows = [v for v in _judge(db) if v.metric.startswith("gradient |∂C/∂z| at the start relative")]
    by = {dict(v.condition_keys)["w"]: v for v in rows}
    # saturated: mse's start is σ(4)²(1−σ(4))·2 against its peak 2·(2/3)²(1/3) = 0.296: ≈ 0.117 of it
    a = 1 / (1 + np.exp(-4.0))
    assert by[2.0].verdict == "supported" and by[2.0].effect == pytest.approx(0.2963 / (2 * a * a * (1 - a)), rel=0.01)
    # not saturated (ŷ = σ(1.5)): mse starts near its peak, so the claim's 2× is not there: it can fail
    assert by[0.6].verdict == "equivalent" and by[0.6].effect < 1.3
    head = next(v for v in _judge(db) if v.headline and v.claim == "vanishing-gradient")
    assert head.metric == rows[0].metric and dict(head.condition_keys)["w"] == 2.0


def test_the_raw_gradient_ratio_states_its_convention_factor_per_output_count():
    from lossdb.core.judging.claims import CLAIMS

    notes = {t.experiment + ":" + t.what: t.note for t in CLAIMS["vanishing-gradient"].tests}
    assert "half its gradient" in notes["saturation:output gradient |∂C/∂z| at the start"]
    assert "C/2 times that gradient (5 for digits' 10 classes)" in notes["convergence:mean output-gradient norm over training"]


def test_seeds_without_a_value_of_the_measure_are_reported_never_dropped_silently(tmp_path):
    db = f"sqlite:///{tmp_path / 'u.db'}"
    runs = []
    for seed in range(6):
        wrong = float("nan") if seed < 2 else 0.05  # no confidently wrong test sample: no mean loss on them
        runs.append(_run("calibration", "ce", "softmax", "digits", 0.1, seed,
                         {"test_confident_wrong_loss": [1.0, 5.0], "test_confident_wrong_share": [0.0, 0.01]}))
        runs.append(_run("calibration", "mse", "softmax", "digits", 0.1, seed,
                         {"test_confident_wrong_loss": [1.0, wrong], "test_confident_wrong_share": [0.0, 0.0]}))
    _save(db, runs)
    row = next(v for v in _judge(db) if v.metric == "loss on confidently wrong test samples")
    assert row.n == 4 and row.illustration
    reason = next(r for r in row.reasons if r.code == "undefined")
    assert (reason.get("first"), reason.get("second"), reason.get("of")) == (0, 2, 6)
    assert "2 of 6 mse/softmax runs had no value of this measure" in finding(row)
    head = next(v for v in _judge(db) if v.headline and v.claim == "confident-mistakes")
    assert head.metric == "share of test samples confidently wrong (true class p̂ < 0.01)"


def test_the_plateau_test_tells_a_stopped_loss_from_one_still_falling():
    from lossdb.core.analysis.shapes import plateaued

    flat = np.r_[np.linspace(1.0, 0.5, 200), np.full(101, 0.5)]
    falling = np.r_[np.linspace(1.0, 0.5, 270), np.linspace(0.5, 0.45, 31)]  # 10% over the last 30 epochs
    assert plateaued(flat) is True and plateaued(falling) is False and plateaued(np.array([1.0])) is None


def test_a_run_still_learning_is_not_stuck_and_a_stopped_one_is(tmp_path):
    db = f"sqlite:///{tmp_path / 'l.db'}"
    flat = list(np.r_[np.linspace(1.0, 0.5, 50), np.full(51, 0.5)])
    falling = list(np.linspace(1.0, 0.3, 101))
    low, high = [0.6] * 101, [0.6] * 50 + [0.99] * 51
    runs = []
    for seed in range(10):
        ce = {"train_accuracy": low, "train_loss": flat} if seed < 6 else {"train_accuracy": high, "train_loss": flat}
        mse = {"train_accuracy": low, "train_loss": falling if seed < 6 else flat}
        runs.append(_run("local-minima", "ce", "softmax", "xor", 0.1, seed, ce, hidden=[2]))
        runs.append(_run("local-minima", "mse", "linear", "xor", 0.1, seed, mse, hidden=[2]))
    _save(db, runs)
    stuck = next(v for v in _judge(db) if v.metric.startswith("share of runs stuck") and v.arms[1] == "mse/linear")
    assert stuck.n == 4 and stuck.values == {"ce/softmax": 0.0, "mse/linear": 1.0}  # the 6 still learning left out
    assert next(r for r in stuck.reasons if r.code == "undefined").get("second") == 6
    fails = next(v for v in _judge(db) if v.metric.startswith("share of runs that finish") and v.arms[1] == "mse/linear")
    assert fails.n == 10 and fails.values["mse/linear"] == 1.0  # without the plateau test all 10 'fail'


def test_heavy_tailed_noise_is_judged_on_an_error_with_a_finite_population_value():
    from lossdb.core.judging.claims import CLAIMS

    by_metric = {t.measure.metric: t for t in CLAIMS["outliers"].tests if t.experiment == "outliers"}
    heavy = {"outliers": 0.2, "noise_dist": "student_t"}
    gaussian = {"outliers": 0.2, "noise_dist": "gaussian"}
    assert not by_metric["test_rmse"].where(heavy) and by_metric["test_rmse"].where(gaussian)
    assert by_metric["test_mae"].where(heavy) and not by_metric["test_mae"].where(gaussian)
