"""The per-epoch series (metrics) the trainer stores for a run, and which way each one is better.

`stored` must name exactly what `core.engine.train` records; tests/test_comparisons.py trains small stacks
of every kind and checks it, so a metric added to the trainer fails there until it is declared here.
"""

from __future__ import annotations

COMMON = ("train_loss", "val_loss", "test_loss", "grad_norm", "wall_time")
CLASSIFICATION = ("train_accuracy", "val_accuracy", "test_accuracy", "val_nll", "test_nll",
                  "test_balanced_accuracy", "test_macro_f1", "test_brier", "test_ece",
                  "test_true_class_prob", "test_confident_wrong_share", "test_confident_wrong_loss",
                  "test_confident_wrong_grad")
REGRESSION = ("train_rmse", "val_rmse", "test_rmse", "test_mae")
NEURON = ("output", "dloss_dz")  # the one-sample 'neuron' dataset only
# Classification (not the neuron): the training split at a grid of optimiser steps (core.engine.steps);
# indexed by record, not by epoch: "step" holds the optimiser step of each record.
STEPS = ("step", "step_train_loss", "step_train_accuracy")
SATURATION = "saturation"  # the share of saturated outputs: not for linear heads
MINORITY_RECALL = "test_minority_recall"  # classification with imbalance ≠ 1 only

HIGHER = frozenset({"train_accuracy", "step_train_accuracy", "val_accuracy", "test_accuracy", "test_balanced_accuracy",
                    "test_macro_f1", "test_true_class_prob", MINORITY_RECALL})
LOWER = frozenset({"train_loss", "step_train_loss", "val_loss", "test_loss", "val_nll", "test_nll", "test_brier",
                   "test_ece", "train_rmse", "val_rmse", "test_rmse", "test_mae",
                   "test_confident_wrong_share"})
# Shares and probabilities in [0, 1]: a difference of 0.01 (one point) is a natural minimum effect.
UNIT_INTERVAL = frozenset(HIGHER | {"test_ece", "test_confident_wrong_share", SATURATION})
# Positive scales (losses, errors, norms, times): compared as ratios by default.
POSITIVE_SCALE = frozenset({"train_loss", "val_loss", "test_loss", "val_nll", "test_nll", "train_rmse",
                            "val_rmse", "test_rmse", "test_mae", "grad_norm", "wall_time",
                            "test_confident_wrong_loss", "test_confident_wrong_grad"})
MAIN = {"classification": "test_accuracy", "regression": "test_rmse"}


def stored(task: str, head: str, *, imbalanced: bool = False, neuron: bool = False,
           steps: bool = False) -> frozenset[str]:
    """The names of the series a run stores, for its task, head and data (`steps`: its stack records
    progress between epochs, StackSpec.record_steps)."""
    names = set(COMMON) | set(CLASSIFICATION if task == "classification" else REGRESSION)
    if head != "linear":
        names.add(SATURATION)
    if task == "classification" and imbalanced:
        names.add(MINORITY_RECALL)
    if neuron:
        names.update(NEURON)
    elif task == "classification" and steps:
        names.update(STEPS)
    return frozenset(names)


def direction(metric: str) -> str | None:
    """"higher" or "lower" when the metric has a better side, else None (grad_norm, wall_time …)."""
    return "higher" if metric in HIGHER else "lower" if metric in LOWER else None
