"""Per-epoch yardsticks against scikit-learn and direct loops."""

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    mean_absolute_error,
    root_mean_squared_error,
)

from lossdb.core.engine import metrics as M


@pytest.fixture
def predictions():
    """Probabilities (K=3 models, 200 samples, 4 classes) and labels, with some classes rare."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 200, 4)) * 2
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    y = rng.choice(4, size=(3, 200), p=[0.5, 0.3, 0.15, 0.05])
    return p, y


def test_accuracy_equals_sklearn(predictions):
    p, y = predictions
    got = M.accuracy(p.argmax(-1), y)
    assert got == pytest.approx([accuracy_score(y[k], p[k].argmax(-1)) for k in range(3)])


def test_balanced_accuracy_equals_sklearn(predictions):
    p, y = predictions
    got = M.balanced_accuracy(p.argmax(-1), y, 4)
    assert got == pytest.approx([balanced_accuracy_score(y[k], p[k].argmax(-1)) for k in range(3)])


def test_balanced_accuracy_ignores_classes_absent_from_the_truth():
    y = np.array([[0, 0, 1, 1]])
    pred = np.array([[0, 2, 1, 1]])
    assert M.balanced_accuracy(pred, y, 3)[0] == pytest.approx(balanced_accuracy_score(y[0], pred[0]))


def test_macro_f1_equals_sklearn(predictions):
    p, y = predictions
    got = M.macro_f1(p.argmax(-1), y, 4)
    want = [f1_score(y[k], p[k].argmax(-1), average="macro", zero_division=0) for k in range(3)]
    assert got == pytest.approx(want)


def test_nll_equals_sklearn_log_loss(predictions):
    p, y = predictions
    got = M.nll(p, y)
    assert got == pytest.approx([log_loss(y[k], p[k], labels=[0, 1, 2, 3]) for k in range(3)], rel=1e-9)


def test_brier_equals_sklearn_multiclass_brier(predictions):
    p, y = predictions
    got = M.brier(p, y)
    want = [brier_score_loss(y[k], p[k], labels=[0, 1, 2, 3], scale_by_half=False) for k in range(3)]
    assert got == pytest.approx(want, rel=1e-9)


def _ece_loop(p: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    conf, pred = p.max(-1), p.argmax(-1)
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        in_bin = [(c > lo) and (c <= hi) for c in conf]
        n = sum(in_bin)
        if n:
            acc = sum(pr == t for pr, t, i in zip(pred, y, in_bin, strict=True) if i) / n
            mean_conf = sum(c for c, i in zip(conf, in_bin, strict=True) if i) / n
            total += n / len(y) * abs(acc - mean_conf)
    return total


def test_ece_equals_a_direct_loop_over_fifteen_bins(predictions):
    p, y = predictions
    assert M.ece(p, y) == pytest.approx([_ece_loop(p[k], y[k]) for k in range(3)], rel=1e-9)


def test_ece_is_zero_for_perfectly_calibrated_bins():
    p = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    assert M.ece(p, np.array([[0, 1]]))[0] == 0.0


def test_reliability_counts_every_sample_once(predictions):
    p, y = predictions
    _, _, count = M.reliability(p, y)
    assert count.sum(axis=1).tolist() == [200, 200, 200]


def test_rmse_and_mae_equal_sklearn():
    rng = np.random.default_rng(3)
    pred, target = rng.standard_normal((2, 50, 1)), rng.standard_normal((2, 50, 1))
    assert M.rmse(pred, target) == pytest.approx([root_mean_squared_error(target[k], pred[k]) for k in range(2)])
    assert M.mae(pred, target) == pytest.approx([mean_absolute_error(target[k], pred[k]) for k in range(2)])


def test_saturation_counts_outputs_near_zero_or_one():
    yhat = np.array([[[0.995, 0.005], [0.5, 0.5]]])
    assert M.saturation(yhat)[0] == 0.5
