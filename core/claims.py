"""The claims of the seed articles, each declared once, and the verdicts computed for them.

A claim is measured by one or more tests. A test names an experiment, a per-run measure, the arms
the claim says do better (`favoured`) and the arms they are compared with (`others`), which way is
better, and the smallest effect that matters. Its verdict rule (applied in `core.verdicts`):

- superior claims: *supported* when the whole 95% CI of the effect in the claimed direction lies
  above `min_effect` (a difference, or a ratio > 1 for time-like and scale measures), *contradicted*
  when it lies below −min_effect (1/min_effect for ratios), *inconclusive* otherwise;
- non-inferiority claims ("X works fine", "X is an alternative"): *supported* when the CI lies above
  −margin, *contradicted* when it lies below −margin, *inconclusive* otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from core.store import Store

VERDICTS = ("supported", "contradicted", "inconclusive", "not run")
PCT = {"scale": 100.0, "unit": " points"}  # accuracies and shares are shown in percentage points


@dataclass(frozen=True)
class Measure:
    """How one run becomes one number.

    kind: "final" (the metric's final value), "at" (its value at `epoch`), "area" (mean over
    epochs), "epochs_to" (first epoch ≥ threshold, ≤ with `below`; never = censored at E + 1),
    "fails" (1 when the curve never reaches threshold, else 0), "at_best" (the metric at the epoch
    where `select` is highest), "analytic" (loss or gradient of `core.losses` at p̂ = threshold)."""

    kind: str
    metric: str
    threshold: float | None = None
    epoch: int = 0
    below: bool = False
    select: str = "val_accuracy"


@dataclass(frozen=True)
class Test:
    """One measurement of a claim in one experiment (see the module docstring for the verdict rule)."""

    experiment: str
    measure: Measure
    what: str  # noun phrase of the measure, e.g. "final test accuracy"
    favoured: tuple[str, ...]  # arm selectors ("loss/head", optionally "(weighted)", "(gamma=2)")
    others: tuple[str, ...]
    better: str  # "higher" or "lower" values of the measure are better
    ratio: bool = False  # compare on the log scale and report a ratio
    kind: str = "superior"  # or "noninferior"
    min_effect: float = 0.0  # a difference, or a ratio ≥ 1; the non-inferiority margin for "noninferior"
    scale: float = 1.0  # display factor (100 for accuracies)
    unit: str = ""
    time: bool = False  # a time-like ratio, phrased "sooner"/"later"
    where: Callable[[dict[str, Any]], bool] | None = None  # which conditions the claim is about
    headline: tuple[tuple[str, Any], ...] = ()  # preferred condition: (key, value | "max" | "min")
    lr_modes: tuple[str, ...] = ("tuned", "equal")
    primary: bool = False
    lr_range: bool = False  # also report the range of rates where each arm is near its best


@dataclass(frozen=True)
class Claim:
    """A claim of the seed articles and the tests that measure it (the first primary one heads it)."""

    id: str
    sentence: str
    sources: tuple[str, ...]  # seed article ids in ../shared/seeds
    tests: tuple[Test, ...]

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
        return (self.main.favoured[0], self.main.others[0])

    @property
    def direction(self) -> str:
        """The asserted direction in words."""
        t = self.main
        if t.kind == "noninferior":
            return f"{t.favoured[0]} is not worse than {t.others[0]} on {t.what}"
        return f"{t.better} {t.what} for {t.favoured[0]} than for {t.others[0]}"

    @property
    def min_effect(self) -> float:
        """The headline test's minimum effect (or non-inferiority margin)."""
        return self.main.min_effect


@dataclass(frozen=True)
class Verdict:
    """The verdict of one claim in one experiment, condition, learning-rate setting and pair of arms.

    `effect`, `ci_low` and `ci_high` are in the claim's direction: a difference (favoured − other
    when higher is better, other − favoured when lower is), or a ratio (favoured/other, or
    other/favoured) when `ratio`; `values` holds each arm's mean measure over the paired seeds."""

    claim: str
    sentence: str
    experiment: str
    condition: str
    metric: str
    arms: tuple[str, str]
    values: dict[str, float]
    verdict: str
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    finding: str
    command: str | None
    headline: bool
    lr: str = ""  # "tuned (0.5 vs 2)", "0.5" (equal), "fixed (0.15 vs 0.075)", "" (analytic)
    lr_mode: str = ""  # tuned | equal | fixed | analytic | ""
    method: str = ""
    ratio: bool = False
    kind: str = "superior"
    min_effect: float = 0.0
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (non-finite numbers as strings, as in `lossdb runs`)."""
        def num(v: float | None) -> float | str | None:
            return v if v is None or np.isfinite(v) else str(v)

        return {"claim": self.claim, "sentence": self.sentence, "experiment": self.experiment,
                "condition": self.condition, "lr": self.lr, "lr_mode": self.lr_mode,
                "metric": self.metric, "arms": list(self.arms),
                "values": {k: num(v) for k, v in self.values.items()}, "verdict": self.verdict,
                "effect": num(self.effect), "ci_low": num(self.ci_low), "ci_high": num(self.ci_high),
                "ratio": self.ratio, "kind": self.kind, "min_effect": self.min_effect, "n": self.n,
                "method": self.method, "finding": self.finding, "command": self.command,
                "headline": self.headline}


def _more(key: str, than: float) -> Callable[[dict[str, Any]], bool]:
    return lambda cfg: float(cfg.get(key, 0) or 0) > than


def _corrupted(cfg: dict[str, Any]) -> bool:
    return float(cfg.get("outliers", 0) or 0) > 0 or cfg.get("noise_dist", "gaussian") != "gaussian"


CE_VS_MSE = ("mse/softmax", "mse/sigmoid", "mse/linear")
ACC = dict(better="higher", **PCT)

CLAIMS: dict[str, Claim] = {c.id: c for c in (
    Claim("convergence", "CE converges faster than MSE for classification.", ("000", "001", "002", "003"), (
        Test("convergence", Measure("epochs_to", "train_accuracy", 0.9), "epochs to 90% training accuracy",
             ("ce/softmax",), CE_VS_MSE, "lower", ratio=True, min_effect=1.1, time=True,
             headline=(("init", "glorot"),), primary=True),
        Test("convergence", Measure("epochs_to", "train_accuracy", 0.95), "epochs to 95% training accuracy",
             ("ce/softmax",), CE_VS_MSE, "lower", ratio=True, min_effect=1.1, time=True,
             headline=(("init", "glorot"),)),
        Test("convergence", Measure("area", "test_accuracy"), "area under the test-accuracy curve",
             ("ce/softmax",), CE_VS_MSE, min_effect=0.01, headline=(("init", "glorot"),), **ACC),
    )),
    Claim("vanishing-gradient", "With a saturated sigmoid, MSE's gradient (ŷ−y)ŷ(1−ŷ) vanishes while CE's (ŷ−y) does not.",
          ("000", "003"), (
        Test("saturation", Measure("at", "grad_norm", epoch=0), "output gradient |∂C/∂z| at the start",
             ("ce/sigmoid",), ("mse/sigmoid",), "higher", ratio=True, min_effect=2.0,
             headline=(("w", 2.0), ("b", 2.0)), primary=True),
        Test("saturation", Measure("epochs_to", "output", 0.5, below=True), "epochs until the output falls below 0.5",
             ("ce/sigmoid",), ("mse/sigmoid",), "lower", ratio=True, min_effect=1.1, time=True,
             headline=(("w", 2.0), ("b", 2.0))),
        Test("convergence", Measure("area", "grad_norm"), "mean output-gradient norm over training",
             ("ce/softmax",), ("mse/sigmoid", "mse/softmax"), "higher", ratio=True, min_effect=2.0,
             headline=(("init", "normal"),)),
    )),
    Claim("classification-accuracy", "CE gives better accuracy for classification.", ("000", "002"), (
        Test("convergence", Measure("final", "test_accuracy"), "final test accuracy", ("ce/softmax",), CE_VS_MSE,
             min_effect=0.01, headline=(("init", "glorot"),), primary=True, **ACC),
        Test("binary", Measure("final", "test_accuracy"), "final test accuracy", ("ce/sigmoid",),
             ("mse/sigmoid", "mse/linear"), min_effect=0.01, headline=(("dataset", "breast_cancer"),), **ACC),
    )),
    Claim("regression", "MSE is the right loss for regression.", ("000", "001", "003"), (
        Test("regression", Measure("final", "test_rmse"), "test RMSE", ("mse/linear",),
             ("ce/sigmoid", "mae/linear", "huber/linear"), "lower", ratio=True, min_effect=1.05,
             headline=(("dataset", "diabetes"),), primary=True),
    )),
    Claim("confident-mistakes", "CE punishes confident mistakes far more than MSE.", ("000", "001"), (
        Test("confident-mistakes", Measure("analytic", "loss", 0.01), "loss when the true class has p̂ = 0.01",
             ("ce/softmax",), ("mse/softmax",), "higher", ratio=True, min_effect=2.0, primary=True),
        Test("confident-mistakes", Measure("analytic", "grad", 0.01), "‖∂loss/∂z‖ when the true class has p̂ = 0.01",
             ("ce/softmax",), ("mse/softmax",), "higher", ratio=True, min_effect=2.0),
        Test("calibration", Measure("final", "test_confident_wrong_loss"), "loss on confidently wrong test samples",
             ("ce/softmax",), ("mse/softmax",), "higher", ratio=True, min_effect=2.0,
             headline=(("dataset", "digits"),)),
        Test("calibration", Measure("final", "test_confident_wrong_grad"), "gradient on confidently wrong test samples",
             ("ce/softmax",), ("mse/softmax",), "higher", ratio=True, min_effect=2.0,
             headline=(("dataset", "digits"),)),
    )),
    Claim("outliers", "MSE is sensitive to outliers.", ("001",), (
        Test("outliers", Measure("final", "test_rmse"), "clean-test RMSE", ("mae/linear", "huber/linear"),
             ("mse/linear",), "lower", ratio=True, min_effect=1.05, where=_corrupted,
             headline=(("outliers", "max"), ("noise_dist", "gaussian")), primary=True),
    )),
    Claim("label-noise", "CE is sensitive to label noise.", ("001",), (
        Test("label-noise", Measure("final", "test_accuracy"), "final clean-test accuracy",
             ("mse/softmax", "mae/softmax", "gce/softmax"), ("ce/softmax",), min_effect=0.01,
             where=_more("label_noise", 0), headline=(("label_noise", "max"),), primary=True, **ACC),
        Test("label-noise", Measure("at_best", "test_accuracy"), "clean-test accuracy at the best-validation epoch",
             ("mse/softmax", "mae/softmax", "gce/softmax"), ("ce/softmax",), min_effect=0.01,
             where=_more("label_noise", 0), headline=(("label_noise", "max"),), **ACC),
    )),
    Claim("calibration", "CE gives probabilistic, better calibrated outputs.", ("001", "002"), (
        Test("calibration", Measure("final", "test_ece"), "test ECE (15 bins)", ("ce/softmax",),
             ("mse/softmax", "hinge/linear"), "lower", min_effect=0.01, headline=(("dataset", "digits"),),
             primary=True, **PCT),
        Test("calibration", Measure("final", "test_brier"), "test Brier score", ("ce/softmax",),
             ("mse/softmax", "hinge/linear"), "lower", min_effect=0.005, headline=(("dataset", "digits"),)),
        Test("calibration", Measure("final", "test_nll"), "test NLL", ("ce/softmax",),
             ("mse/softmax", "hinge/linear"), "lower", min_effect=0.01, headline=(("dataset", "digits"),)),
        Test("calibration", Measure("final", "test_true_class_prob"), "mean probability of the true class",
             ("ce/softmax",), ("mse/softmax", "hinge/linear"), min_effect=0.01,
             headline=(("dataset", "digits"),), **ACC),
    )),
    Claim("local-minima", "MSE has a higher risk of poor local minima.", ("002",), (
        Test("local-minima", Measure("fails", "train_accuracy", 0.95), "share of runs that never reach 95% training accuracy",
             ("ce/softmax",), ("mse/softmax", "mse/linear"), "lower", min_effect=0.05,
             headline=(("dataset", "spirals"), ("hidden", "max")), primary=True, **PCT),
    )),
    Claim("imbalance", "CE handles imbalanced classes better, with class weights or focal loss.", ("002",), (
        Test("imbalance", Measure("final", "test_balanced_accuracy"), "test balanced accuracy",
             ("ce/softmax (weighted)", "focal/softmax", "ce/softmax"), ("mse/softmax",), min_effect=0.01,
             headline=(("imbalance", "max"), ("dataset", "blobs")), primary=True, **ACC),
        Test("imbalance", Measure("final", "test_macro_f1"), "test macro-F1",
             ("ce/softmax (weighted)", "focal/softmax", "ce/softmax"), ("mse/softmax",), min_effect=0.01,
             headline=(("imbalance", "max"), ("dataset", "blobs")), **ACC),
        Test("imbalance", Measure("final", "test_minority_recall"), "minority-class recall",
             ("ce/softmax (weighted)", "focal/softmax"), ("ce/softmax",), min_effect=0.01,
             headline=(("imbalance", "max"), ("dataset", "blobs")), **ACC),
    )),
    Claim("linear-mse", "MSE on a linear output layer trains a classifier fine when tuned.", ("003",), (
        Test("lr-sensitivity", Measure("final", "test_accuracy"), "final test accuracy",
             ("mse/linear",), ("ce/softmax",), kind="noninferior", min_effect=0.02, lr_modes=("tuned",),
             headline=(("dataset", "digits"),), primary=True, lr_range=True, **ACC),
    )),
    Claim("margin", "A margin (hinge) loss is an alternative for classification.", ("003",), (
        Test("margin", Measure("final", "test_accuracy"), "final test accuracy", ("hinge/linear",),
             ("ce/softmax", "mse/linear"), kind="noninferior", min_effect=0.02,
             headline=(("dataset", "digits"),), primary=True, **ACC),
        Test("binary", Measure("final", "test_accuracy"), "final test accuracy", ("hinge/linear",),
             ("ce/sigmoid",), kind="noninferior", min_effect=0.02, headline=(("dataset", "breast_cancer"),), **ACC),
    )),
)}


def evaluate(store: Store, experiments: list[str] | None = None, frame: pd.DataFrame | None = None) -> list[Verdict]:
    """Every claim × test × condition × learning-rate setting × pair of arms (see core.verdicts);
    `frame` is analysis.runs_frame of the store when the caller already has it."""
    from core.verdicts import evaluate as _evaluate

    return _evaluate(store, experiments, frame)


def summary(verdicts: list[Verdict]) -> list[Verdict]:
    """Exactly one verdict per claim: its headline (see core.verdicts.headline_rank for the rule)."""
    from core.verdicts import summary as _summary

    return _summary(verdicts)


def analytic_curves(p_true: np.ndarray, losses: tuple[str, ...] = ("ce", "mse", "mae", "hinge", "focal"),
                    n_classes: int = 10) -> pd.DataFrame:
    """Loss and ‖∂loss/∂z‖ of each loss (on its usual head) against p̂ of the true class:
    columns p_true, loss, head, value, grad_norm."""
    from core.verdicts import analytic_curves as _curves

    return _curves(p_true, losses, n_classes)
