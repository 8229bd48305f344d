"""Per-epoch yardsticks, vectorised over K stacked models (arrays shaped (K, n, …)).

numpy arrays take numpy's own routines (bincount, in-place division); any other array-API array
(core.engine.backend) the same quantities through one-hot products, computed on its device.
"""

from __future__ import annotations

import numpy as np

from lossdb.core.engine.backend import namespace

ECE_BINS = 15


def accuracy(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Share of correct predictions per model: pred, y (K, n) → (K,)."""
    if not isinstance(pred, np.ndarray):
        xp = namespace(pred)
        return xp.mean(xp.astype(pred == y, xp.float64), axis=1)
    return (pred == y).mean(axis=1)


def confusion(pred: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion counts per model (K, true, predicted) from labels (K, n)."""
    if not isinstance(pred, np.ndarray):
        xp = namespace(pred)
        # counts as float32 products of one-hot matrices: exact below 2^24 samples
        ohy, ohp = _one_hot(y, n_classes, xp.float32), _one_hot(pred, n_classes, xp.float32)
        return xp.astype(xp.matrix_transpose(ohy) @ ohp, xp.float64)
    K = pred.shape[0]
    flat = (np.arange(K)[:, None] * n_classes + y) * n_classes + pred
    return np.bincount(flat.ravel(), minlength=K * n_classes * n_classes).reshape(K, n_classes, n_classes)


def _one_hot(labels, n: int, dtype):
    """(…, n) indicator of integer labels (…) in dtype, on the labels' device."""
    xp = namespace(labels)
    return xp.astype(labels[..., None] == xp.arange(n, dtype=labels.dtype, device=labels.device), dtype)


def _diagonal(cm):
    """The diagonal (K, c) of square matrices (K, c, c)."""
    xp = namespace(cm)
    return xp.sum(cm * xp.eye(cm.shape[-1], dtype=cm.dtype, device=cm.device), axis=2)


def balanced_accuracy(pred: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean recall over the classes present in y, per model (scikit-learn's balanced_accuracy_score)."""
    return balanced_accuracy_of(confusion(pred, y, n_classes))


def balanced_accuracy_of(cm: np.ndarray) -> np.ndarray:
    """Balanced accuracy per model from its confusion counts (K, true, predicted)."""
    if not isinstance(cm, np.ndarray):
        xp = namespace(cm)
        support = xp.sum(cm, axis=2)
        present = support > 0
        recall = xp.where(present, _diagonal(cm) / xp.where(present, support, 1.0), 0.0)
        return xp.sum(recall, axis=1) / xp.sum(xp.astype(present, cm.dtype), axis=1)
    support = cm.sum(axis=2)
    present = support > 0
    recall = np.divide(np.diagonal(cm, axis1=1, axis2=2), support, out=np.zeros(support.shape), where=present)
    return recall.sum(axis=1) / present.sum(axis=1)


def macro_f1(pred: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Unweighted mean F1 over the classes present in y or pred, per model (zero_division=0)."""
    return macro_f1_of(confusion(pred, y, n_classes))


def macro_f1_of(cm: np.ndarray) -> np.ndarray:
    """Macro-F1 per model from its confusion counts (K, true, predicted)."""
    if not isinstance(cm, np.ndarray):
        xp = namespace(cm)
        denom = xp.sum(cm, axis=2) + xp.sum(cm, axis=1)
        f1 = xp.where(denom > 0, 2 * _diagonal(cm) / xp.where(denom > 0, denom, 1.0), 0.0)
        return xp.sum(f1, axis=1) / xp.maximum(xp.sum(xp.astype(denom > 0, cm.dtype), axis=1), 1.0)
    tp = np.diagonal(cm, axis1=1, axis2=2).astype(float)
    denom = cm.sum(axis=2) + cm.sum(axis=1)
    f1 = np.divide(2 * tp, denom, out=np.zeros(tp.shape), where=denom > 0)
    return f1.sum(axis=1) / np.maximum((denom > 0).sum(axis=1), 1)


def class_recall(pred: np.ndarray, y: np.ndarray, n_classes: int, cls: int) -> np.ndarray:
    """Recall of one class per model."""
    return class_recall_of(confusion(pred, y, n_classes), cls)


def class_recall_of(cm: np.ndarray, cls: int) -> np.ndarray:
    """Recall of class cls per model from its confusion counts (K, true, predicted); NaN if it has no sample."""
    if not isinstance(cm, np.ndarray):
        xp = namespace(cm)
        support = xp.sum(cm[:, cls, :], axis=1)
        return xp.where(support > 0, cm[:, cls, cls] / xp.where(support > 0, support, 1.0), xp.nan)
    support = cm[:, cls].sum(axis=1)
    return np.divide(cm[:, cls, cls], support, out=np.full(support.shape, np.nan), where=support > 0)


def _true_class_prob(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    if not isinstance(p, np.ndarray):
        xp = namespace(p)
        K, n, c = p.shape
        flat = xp.arange(K * n, dtype=y.dtype, device=y.device) * c + xp.reshape(y, (-1,))
        return xp.reshape(xp.take(xp.reshape(p, (-1,)), flat), (K, n))
    return np.take_along_axis(p, y[..., None], axis=-1)[..., 0]


def nll(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean negative log-probability of the true class per model, p clipped to [eps, 1−eps] as log_loss does."""
    if not isinstance(p, np.ndarray):
        xp = namespace(p)
        eps = xp.finfo(p.dtype).eps
        return -xp.mean(xp.log(xp.clip(_true_class_prob(p, y), eps, 1 - eps)), axis=1)
    eps = np.finfo(p.dtype).eps
    return -np.log(np.clip(_true_class_prob(p, y), eps, 1 - eps)).mean(axis=1)


def brier(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Multi-class Brier score per model: mean over samples of Σ_c (p_c − t_c)²."""
    if not isinstance(p, np.ndarray):
        xp = namespace(p)
        return xp.mean(xp.sum(p * p, axis=-1) - 2 * _true_class_prob(p, y) + 1, axis=1)
    sq = (p * p).sum(axis=-1) - 2 * _true_class_prob(p, y) + 1
    return sq.mean(axis=1)


def true_class_confidence(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean probability given to the true class, per model."""
    if not isinstance(p, np.ndarray):
        return namespace(p).mean(_true_class_prob(p, y), axis=1)
    return _true_class_prob(p, y).mean(axis=1)


def reliability(p: np.ndarray, y: np.ndarray, n_bins: int = ECE_BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin mean confidence, accuracy and count (each (K, n_bins)) of the top label; bins (i/B, (i+1)/B]."""
    if not isinstance(p, np.ndarray):
        return _reliability_array_api(p, y, n_bins)
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


def _reliability_array_api(p, y, n_bins: int):
    """reliability() through one product of the bins' indicator with (1, confidence, correct)."""
    xp = namespace(p)
    conf = xp.max(p, axis=-1)
    correct = xp.astype(xp.argmax(p, axis=-1) == y, p.dtype)
    b = xp.clip(xp.astype(xp.ceil(conf * n_bins), xp.int64) - 1, 0, n_bins - 1)
    sums = xp.matrix_transpose(_one_hot(b, n_bins, p.dtype)) @ xp.stack([xp.ones_like(conf), conf, correct], axis=-1)
    count = sums[..., 0]
    return sums[..., 1] / count, sums[..., 2] / count, count


def ece(p: np.ndarray, y: np.ndarray, n_bins: int = ECE_BINS) -> np.ndarray:
    """Expected calibration error of the top label per model: Σ_b (n_b/n) |acc_b − conf_b|."""
    return ece_of(reliability(p, y, n_bins))


def ece_of(diagram: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """The expected calibration error per model from its reliability diagram (confidence, accuracy, count)."""
    conf, acc, count = diagram
    if not isinstance(count, np.ndarray):
        xp = namespace(count)
        gap = xp.where(count > 0, xp.abs(acc - conf), 0.0)
        return xp.sum(gap * count, axis=1) / xp.sum(count, axis=1)
    gap = np.where(count > 0, np.abs(np.nan_to_num(acc) - np.nan_to_num(conf)), 0.0)
    return (gap * count).sum(axis=1) / count.sum(axis=1)


def rmse(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Root mean squared error per model over samples and outputs: (K, n, c) → (K,)."""
    if not isinstance(pred, np.ndarray):
        xp = namespace(pred)
        return xp.sqrt(xp.mean((pred - target) ** 2, axis=(1, 2)))
    return np.sqrt(((pred - target) ** 2).mean(axis=(1, 2)))


def mae(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Mean absolute error per model over samples and outputs."""
    if not isinstance(pred, np.ndarray):
        xp = namespace(pred)
        return xp.mean(xp.abs(pred - target), axis=(1, 2))
    return np.abs(pred - target).mean(axis=(1, 2))


def saturation(yhat: np.ndarray) -> np.ndarray:
    """Share of output units with ŷ(1 − ŷ) < 0.01 (a saturated sigmoid or softmax) per model."""
    if not isinstance(yhat, np.ndarray):
        xp = namespace(yhat)
        return xp.mean(xp.astype(yhat * (1 - yhat) < 0.01, xp.float64), axis=(1, 2))
    return (yhat * (1 - yhat) < 0.01).mean(axis=(1, 2))
