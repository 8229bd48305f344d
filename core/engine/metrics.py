"""Per-epoch yardsticks, vectorised over K stacked models (arrays shaped (K, n, …))."""

from __future__ import annotations

import numpy as np

ECE_BINS = 15


def accuracy(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Share of correct predictions per model: pred, y (K, n) → (K,)."""
    return (pred == y).mean(axis=1)


def confusion(pred: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion counts per model (K, true, predicted) from labels (K, n)."""
    K = pred.shape[0]
    flat = (np.arange(K)[:, None] * n_classes + y) * n_classes + pred
    return np.bincount(flat.ravel(), minlength=K * n_classes * n_classes).reshape(K, n_classes, n_classes)


def balanced_accuracy(pred: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean recall over the classes present in y, per model (scikit-learn's balanced_accuracy_score)."""
    return balanced_accuracy_of(confusion(pred, y, n_classes))


def balanced_accuracy_of(cm: np.ndarray) -> np.ndarray:
    """Balanced accuracy per model from its confusion counts (K, true, predicted)."""
    support = cm.sum(axis=2)
    present = support > 0
    recall = np.divide(np.diagonal(cm, axis1=1, axis2=2), support, out=np.zeros(support.shape), where=present)
    return recall.sum(axis=1) / present.sum(axis=1)


def macro_f1(pred: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Unweighted mean F1 over the classes present in y or pred, per model (zero_division=0)."""
    return macro_f1_of(confusion(pred, y, n_classes))


def macro_f1_of(cm: np.ndarray) -> np.ndarray:
    """Macro-F1 per model from its confusion counts (K, true, predicted)."""
    tp = np.diagonal(cm, axis1=1, axis2=2).astype(float)
    denom = cm.sum(axis=2) + cm.sum(axis=1)
    f1 = np.divide(2 * tp, denom, out=np.zeros(tp.shape), where=denom > 0)
    return f1.sum(axis=1) / np.maximum((denom > 0).sum(axis=1), 1)


def class_recall(pred: np.ndarray, y: np.ndarray, n_classes: int, cls: int) -> np.ndarray:
    """Recall of one class per model."""
    return class_recall_of(confusion(pred, y, n_classes), cls)


def class_recall_of(cm: np.ndarray, cls: int) -> np.ndarray:
    """Recall of class cls per model from its confusion counts (K, true, predicted); NaN if it has no sample."""
    support = cm[:, cls].sum(axis=1)
    return np.divide(cm[:, cls, cls], support, out=np.full(support.shape, np.nan), where=support > 0)


def _true_class_prob(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.take_along_axis(p, y[..., None], axis=-1)[..., 0]


def nll(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean negative log-probability of the true class per model, p clipped to [eps, 1−eps] as log_loss does."""
    eps = np.finfo(p.dtype).eps
    return -np.log(np.clip(_true_class_prob(p, y), eps, 1 - eps)).mean(axis=1)


def brier(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Multi-class Brier score per model: mean over samples of Σ_c (p_c − t_c)²."""
    sq = (p * p).sum(axis=-1) - 2 * _true_class_prob(p, y) + 1
    return sq.mean(axis=1)


def true_class_confidence(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean probability given to the true class, per model."""
    return _true_class_prob(p, y).mean(axis=1)


def reliability(p: np.ndarray, y: np.ndarray, n_bins: int = ECE_BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin mean confidence, accuracy and count (each (K, n_bins)) of the top label; bins (i/B, (i+1)/B]."""
    K = p.shape[0]
    conf = p.max(axis=-1)
    correct = p.argmax(axis=-1) == y
    b = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    flat = (np.arange(K)[:, None] * n_bins + b).ravel()
    size = K * n_bins
    count = np.bincount(flat, minlength=size).reshape(K, n_bins)
    conf_sum = np.bincount(flat, weights=conf.ravel(), minlength=size).reshape(K, n_bins)
    acc_sum = np.bincount(flat, weights=correct.ravel(), minlength=size).reshape(K, n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return conf_sum / count, acc_sum / count, count


def ece(p: np.ndarray, y: np.ndarray, n_bins: int = ECE_BINS) -> np.ndarray:
    """Expected calibration error of the top label per model: Σ_b (n_b/n) |acc_b − conf_b|."""
    return ece_of(reliability(p, y, n_bins))


def ece_of(diagram: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """The expected calibration error per model from its reliability diagram (confidence, accuracy, count)."""
    conf, acc, count = diagram
    gap = np.where(count > 0, np.abs(np.nan_to_num(acc) - np.nan_to_num(conf)), 0.0)
    return (gap * count).sum(axis=1) / count.sum(axis=1)


def rmse(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Root mean squared error per model over samples and outputs: (K, n, c) → (K,)."""
    return np.sqrt(((pred - target) ** 2).mean(axis=(1, 2)))


def mae(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Mean absolute error per model over samples and outputs."""
    return np.abs(pred - target).mean(axis=(1, 2))


def saturation(yhat: np.ndarray) -> np.ndarray:
    """Share of output units with ŷ(1 − ŷ) < 0.01 (a saturated sigmoid or softmax) per model."""
    return (yhat * (1 - yhat) < 0.01).mean(axis=(1, 2))
