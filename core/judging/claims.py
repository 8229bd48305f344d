"""The claims of the seed articles, declared once: sentences, sources, tests, arms, direction, the
minimum effect that matters, and the headline condition (chosen before any result; why beside each).

Declarations only; `core.judging.verdicts` judges them. A claim is measured by one or more tests. A test names
an experiment, a per-run measure, the arms the claim says do better (`favoured`) and the arms they are
compared with (`others`), which way is better, and the smallest effect that matters. The four outcomes
(`core.judging.decisions`): *supported* when the whole interval lies beyond `min_effect` on the claimed side,
*contradicted* when beyond it on the other side, *equivalent* when the whole interval lies inside
±`min_effect` (the difference does not matter, so a claim of a difference fails), *inconclusive*
otherwise. A non-inferiority claim ("X works fine") is *supported* when the interval lies above
−margin and *contradicted* when it lies wholly below −margin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lossdb.core.experiments.arms import Arm, select

PCT = {"scale": 100.0, "unit": " points"}  # accuracies and shares are shown in percentage points
POINT = 0.01  # one accuracy point: the default smallest difference that matters, and the default margin


@dataclass(frozen=True)
class Measure:
    """How one run becomes one number.

    kind: "final" (the metric's final value), "at" (its value at `epoch`), "area" (mean over
    epochs), "epochs_to" (first epoch ≥ threshold, ≤ with `below`; a run that never gets there is
    censored at its last epoch), "fails" (1 when a run that did not diverge never reaches threshold),
    "diverges" (1 when the run diverged), "at_best" (the metric at the epoch where `select` is
    highest), "analytic" (loss or gradient of `core.engine.losses` at p̂ = threshold)."""

    kind: str
    metric: str
    threshold: float | None = None
    epoch: int = 0
    below: bool = False
    select: str = "val_accuracy"
    select_mode: str = "max"


@dataclass(frozen=True)
class Test:
    """One measurement of a claim in one experiment (see the module docstring for the outcomes)."""

    experiment: str
    measure: Measure
    what: str  # noun phrase of the measure, e.g. "final test accuracy"
    favoured: tuple[Arm, ...]  # selectors of the arms the claim says do better
    others: tuple[Arm, ...]
    better: str  # "higher" or "lower" values of the measure are better
    ratio: bool = False  # compare on the log scale and report a ratio
    kind: str = "superior"  # or "noninferior"
    min_effect: float = POINT  # a difference, or a ratio ≥ 1; the non-inferiority margin for "noninferior"
    scale: float = 1.0  # display factor (100 for accuracies)
    unit: str = ""
    where: Callable[[dict[str, Any]], bool] | None = None  # which conditions the claim is about
    headline: tuple[tuple[str, Any], ...] = ()  # preferred condition: (key, value | "max" | "min")
    lr_modes: tuple[str, ...] = ("tuned", "equal")
    lr_criterion: str = "accuracy"  # how "tuned" picks a rate on validation: accuracy | speed | nll
    primary: bool = False
    illustration: bool = False  # shown, never the claim's headline (an analytic curve)
    lr_range: bool = False  # also report the range of rates where each arm is near its best
    must_converge: bool = False  # a rate at which an arm has not converged is no evidence either way
    note: str = ""  # a caveat every finding of this test states (a convention, a margin's rationale)

    def preferred(self, flats: dict[Any, dict[str, Any]]) -> set[Any]:
        """The conditions (keys of `flats`, flattened configs) matching the headline preferences,
        applied one key after another; a preference no condition matches is skipped."""
        keep = dict(flats)
        for key, want in self.headline:
            values = {c: f.get(key) for c, f in keep.items() if f.get(key) is not None}
            if want in ("max", "min") and values:
                target = (max if want == "max" else min)(values.values(), key=lambda v: float(np.ravel(v)[0]))
                match = {c for c, v in values.items() if v == target}
            else:
                match = {c for c, v in values.items() if _same(v, want)}
            if match:
                keep = {c: keep[c] for c in match}
        return set(keep)


@dataclass(frozen=True)
class Claim:
    """A claim of the seed articles and the tests that measure it (the first primary one heads it)."""

    id: str
    sentence: str
    sources: tuple[str, ...]  # seed article ids in ../shared/seeds
    tests: tuple[Test, ...]
    why_headline: str = ""  # why the headline test and condition were chosen (declared before results)
    family: str = "catalogue"  # the declared family its headline's level is shared with (Bonferroni)

    @property
    def main(self) -> Test:
        """The test whose headline condition heads the summary table."""
        return next((t for t in self.tests if t.primary), self.tests[0])

    @property
    def experiments(self) -> tuple[str, ...]:
        """Every experiment that tests this claim, in declaration order."""
        return tuple(dict.fromkeys(t.experiment for t in self.tests))

    @property
    def metric(self) -> str:
        """What the headline test measures."""
        return self.main.what

    @property
    def arms(self) -> tuple[str, str]:
        """The headline pair of arms: (the one the claim favours, the one it is compared with)."""
        return (self.main.favoured[0].label, self.main.others[0].label)

    @property
    def min_effect(self) -> float:
        """The headline test's minimum effect (or non-inferiority margin)."""
        return self.main.min_effect


def _same(value: Any, want: Any) -> bool:
    try:
        return bool(np.allclose(np.ravel(np.asarray(value, dtype=float)), float(want)))
    except (TypeError, ValueError):
        return value == want


def _more(key: str, than: float) -> Callable[[dict[str, Any]], bool]:
    return lambda cfg: float(cfg.get(key, 0) or 0) > than


def _corrupted(cfg: dict[str, Any]) -> bool:
    return float(cfg.get("outliers", 0) or 0) > 0 or cfg.get("noise_dist", "gaussian") != "gaussian"


CE = select("ce", "softmax")
CE_SIGMOID = select("ce", "sigmoid")
CE_W = select("ce", "softmax", weighted=True)
MSE_SOFTMAX, MSE_SIGMOID, MSE_LINEAR = select("mse", "softmax"), select("mse", "sigmoid"), select("mse", "linear")
MSE_W = select("mse", "softmax", weighted=True)
CE_VS_MSE = (MSE_SOFTMAX, MSE_SIGMOID, MSE_LINEAR)
HINGE = select("hinge", "linear")
ACC = dict(better="higher", **PCT)
MSE_SCALE = ("MSE here is the mean over outputs of (ŷ−y)² (PyTorch's convention); under Nielsen's "
             "½Σ(ŷ−y)² MSE's gradient halves and the ratio doubles")
DEFAULTS = (("init", "glorot"), ("scale", "standard"), ("init_scale", 1.0))  # every framework's defaults
MARGIN = ("the margin is 1 accuracy point, lossdb's default smallest difference that matters: a "
          "practitioner would not switch losses for less")

CLAIMS: dict[str, Claim] = {c.id: c for c in (
    Claim("convergence", "CE converges faster than MSE for classification.", ("000", "001", "002", "003"), (
        Test("convergence", Measure("epochs_to", "train_accuracy", 0.9), "epochs to 90% training accuracy",
             (CE,), CE_VS_MSE, "lower", ratio=True, min_effect=1.1, lr_criterion="speed",
             headline=DEFAULTS, primary=True),
        Test("convergence", Measure("epochs_to", "train_accuracy", 0.95), "epochs to 95% training accuracy",
             (CE,), CE_VS_MSE, "lower", ratio=True, min_effect=1.1, lr_criterion="speed", headline=DEFAULTS),
        Test("convergence", Measure("area", "test_accuracy"), "area under the test-accuracy curve",
             (CE,), CE_VS_MSE, headline=DEFAULTS, **ACC),
    ), why_headline="Glorot initialisation and z-scored inputs are the defaults of every framework; a 10% "
                    "speed-up is the smallest a reader would notice."),
    Claim("vanishing-gradient", "With a saturated sigmoid, MSE's gradient (ŷ−y)ŷ(1−ŷ) vanishes while CE's (ŷ−y) does not.",
          ("000", "003"), (
        Test("saturation", Measure("at", "grad_norm", epoch=0), "output gradient |∂C/∂z| at the start",
             (CE_SIGMOID,), (MSE_SIGMOID,), "higher", ratio=True, min_effect=2.0,
             headline=(("w", 2.0), ("b", 2.0)), primary=True, note=MSE_SCALE),
        Test("saturation", Measure("epochs_to", "output", 0.5, below=True), "epochs until the output falls below 0.5",
             (CE_SIGMOID,), (MSE_SIGMOID,), "lower", ratio=True, min_effect=1.1,
             headline=(("w", 2.0), ("b", 2.0))),
        Test("convergence", Measure("area", "grad_norm"), "mean output-gradient norm over training",
             (CE,), (MSE_SIGMOID, MSE_SOFTMAX), "higher", ratio=True, min_effect=2.0,
             headline=(("init", "normal"),), note=MSE_SCALE),
    ), why_headline="Nielsen's saturated neuron (w = b = 2) is the example the seed articles give; the "
                    "network measure (a large-variance normal initialisation) checks it in a real model."),
    Claim("classification-accuracy", "CE gives better accuracy for classification.", ("000", "002"), (
        Test("convergence", Measure("final", "test_accuracy"), "final test accuracy", (CE,), CE_VS_MSE,
             headline=DEFAULTS, primary=True, **ACC),
        Test("binary", Measure("final", "test_accuracy"), "final test accuracy", (CE_SIGMOID,),
             (MSE_SIGMOID, MSE_LINEAR), headline=(("dataset", "breast_cancer"), ("scale", "standard"), ("init_scale", 1.0)),
             **ACC),
    ), why_headline="digits with the framework defaults (Glorot, z-scored inputs); 1 accuracy point is the "
                    "smallest difference a practitioner would choose a loss for."),
    Claim("regression", "MSE is the right loss for regression.", ("000", "001", "003"), (
        Test("regression", Measure("final", "test_rmse"), "test RMSE", (MSE_LINEAR,),
             (select("ce", "sigmoid"), select("mae", "linear"), select("huber", "linear")), "lower",
             ratio=True, min_effect=1.05, headline=(("dataset", "diabetes"),), primary=True),
    ), why_headline="diabetes is the real regression set; 5% of RMSE is the smallest gain worth a change."),
    Claim("confident-mistakes", "CE punishes confident mistakes far more than MSE.", ("000", "001"), (
        Test("calibration", Measure("final", "test_confident_wrong_loss"), "loss on confidently wrong test samples",
             (CE,), (MSE_SOFTMAX,), "higher", ratio=True, min_effect=2.0, primary=True,
             headline=(("dataset", "digits"),)),
        Test("calibration", Measure("final", "test_confident_wrong_grad"), "gradient on confidently wrong test samples",
             (CE,), (MSE_SOFTMAX,), "higher", ratio=True, min_effect=2.0, headline=(("dataset", "digits"),)),
        Test("confident-mistakes", Measure("analytic", "loss", 0.01), "loss when the true class has p̂ = 0.01",
             (CE,), (MSE_SOFTMAX,), "higher", ratio=True, min_effect=2.0, illustration=True),
        Test("confident-mistakes", Measure("analytic", "grad", 0.01), "‖∂loss/∂z‖ when the true class has p̂ = 0.01",
             (CE,), (MSE_SOFTMAX,), "higher", ratio=True, min_effect=2.0, illustration=True),
    ), why_headline="the measured loss on test samples a trained model gets confidently wrong; the analytic "
                    "curve only illustrates the shape; 'far more' is read as at least twice."),
    Claim("outliers", "MSE is sensitive to outliers.", ("001",), (
        Test("outliers", Measure("final", "test_rmse"), "clean-test RMSE", (select("mae", "linear"), select("huber", "linear")),
             (MSE_LINEAR,), "lower", ratio=True, min_effect=1.05, where=_corrupted, must_converge=True,
             headline=(("outliers", "max"), ("noise_dist", "gaussian")), primary=True),
    ), why_headline="the largest share of corrupted targets is where the claim should show most."),
    Claim("label-noise", "CE is sensitive to label noise.", ("001",), (
        Test("label-noise", Measure("final", "test_accuracy"), "final clean-test accuracy",
             (MSE_SOFTMAX, select("mae", "softmax"), select("gce", "softmax")), (CE,),
             where=_more("label_noise", 0), headline=(("label_noise", "max"),), primary=True, **ACC),
        Test("label-noise", Measure("at_best", "test_accuracy"), "clean-test accuracy at the best-validation epoch",
             (MSE_SOFTMAX, select("mae", "softmax"), select("gce", "softmax")), (CE,),
             where=_more("label_noise", 0), headline=(("label_noise", "max"),), **ACC),
    ), why_headline="the largest noise share (40%) is where the claim should show most."),
    Claim("calibration", "CE gives probabilistic, better calibrated outputs.", ("001", "002"), (
        Test("calibration", Measure("final", "test_ece"), "test ECE (15 bins)", (CE,),
             (MSE_SOFTMAX, HINGE), "lower", lr_criterion="nll", headline=(("dataset", "digits"),),
             primary=True, **PCT),
        Test("calibration", Measure("final", "test_brier"), "test Brier score", (CE,),
             (MSE_SOFTMAX, HINGE), "lower", min_effect=0.005, lr_criterion="nll",
             headline=(("dataset", "digits"),)),
        Test("calibration", Measure("final", "test_nll"), "test NLL", (CE,),
             (MSE_SOFTMAX, HINGE), "lower", lr_criterion="nll", headline=(("dataset", "digits"),)),
        Test("calibration", Measure("final", "test_true_class_prob"), "mean probability of the true class",
             (CE,), (MSE_SOFTMAX, HINGE), lr_criterion="nll", headline=(("dataset", "digits"),), **ACC),
    ), why_headline="ECE on digits; 1 point of ECE is the smallest miscalibration a reader would act on."),
    Claim("local-minima", "MSE has a higher risk of poor local minima.", ("002",), (
        Test("local-minima", Measure("fails", "train_accuracy", 0.95),
             "share of runs that finish without reaching 95% training accuracy (stuck)",
             (CE,), (MSE_SOFTMAX, MSE_LINEAR), "lower", min_effect=0.05,
             headline=(("dataset", "spirals"), ("hidden", "max")), primary=True, **PCT),
        Test("local-minima", Measure("diverges", "train_loss"), "share of runs that diverge",
             (CE,), (MSE_SOFTMAX, MSE_LINEAR), "lower", min_effect=0.05,
             headline=(("dataset", "spirals"), ("hidden", "max")), **PCT),
    ), why_headline="the 16-16 network on spirals can solve the task, so a failure is a poor minimum; a "
                    "run that diverges is counted apart, never as stuck; 5 points of failure share matter."),
    Claim("imbalance", "CE handles imbalanced classes better, with class weights or focal loss.", ("002",), (
        Test("imbalance", Measure("final", "test_balanced_accuracy"), "test balanced accuracy",
             (CE_W,), (MSE_W,), headline=(("imbalance", "max"), ("dataset", "blobs")), primary=True, **ACC),
        Test("imbalance", Measure("final", "test_balanced_accuracy"), "test balanced accuracy",
             (CE, select("focal", "softmax")), (MSE_SOFTMAX,),
             headline=(("imbalance", "max"), ("dataset", "blobs")), **ACC),
        Test("imbalance", Measure("final", "test_balanced_accuracy"), "test balanced accuracy",
             (select("focal", "softmax"),), (MSE_W,),
             headline=(("imbalance", "max"), ("dataset", "blobs")), **ACC),
        Test("imbalance", Measure("final", "test_macro_f1"), "test macro-F1",
             (CE_W,), (MSE_W,), headline=(("imbalance", "max"), ("dataset", "blobs")), **ACC),
        Test("imbalance", Measure("final", "test_minority_recall"), "minority-class recall",
             (CE_W, select("focal", "softmax")), (CE,),
             headline=(("imbalance", "max"), ("dataset", "blobs")), **ACC),
    ), why_headline="like for like: weighted CE against weighted MSE (unweighted against unweighted, focal "
                    "against both), at the strongest imbalance (1:50)."),
    Claim("linear-mse", "MSE on a linear output layer trains a classifier fine when tuned.", ("003",), (
        Test("lr-sensitivity", Measure("final", "test_accuracy"), "final test accuracy",
             (MSE_LINEAR,), (CE,), kind="noninferior", lr_modes=("tuned",),
             headline=(("dataset", "digits"),), primary=True, lr_range=True, note=MARGIN, **ACC),
    ), why_headline="'fine when tuned' is a non-inferiority claim at each loss's own best rate on digits."),
    Claim("margin", "A margin (hinge) loss is an alternative for classification.", ("003",), (
        Test("margin", Measure("final", "test_accuracy"), "final test accuracy", (HINGE,),
             (CE, MSE_LINEAR), kind="noninferior", headline=(("dataset", "digits"),), primary=True,
             note=MARGIN, **ACC),
        Test("binary", Measure("final", "test_accuracy"), "final test accuracy", (HINGE,),
             (CE_SIGMOID,), kind="noninferior", note=MARGIN,
             headline=(("dataset", "breast_cancer"), ("scale", "standard"), ("init_scale", 1.0)), **ACC),
    ), why_headline="'an alternative' is a non-inferiority claim: hinge no worse than CE by the margin."),
)}
