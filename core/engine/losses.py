"""Per-sample losses of the output pre-activation z, with closed-form gradients ∂loss_i/∂z_i.

Definitions follow PyTorch's functional API (t is one-hot for class labels, c outputs):
mse = mean_c (ŷ−t)², mae = mean_c |ŷ−t|, huber = mean_c huber_loss(ŷ, t, δ), ce = cross_entropy
(softmax) or binary_cross_entropy_with_logits (sigmoid), hinge = multi_margin_loss (margin 1),
focal = −α_y (1−p_y)^γ log p_y, gce = (1 − p_y^q)/q.  The names are stored in the database: never
rename them.

The losses take numpy arrays (computed in place where that is faster) or any array-API array
(core.engine.backend: the same formulas out of place); validation always runs on numpy.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from lossdb.core.engine import heads
from lossdb.core.engine.backend import namespace, to_numpy
from lossdb.core.errors import LossError


@dataclass(frozen=True)
class Params:
    """Validated loss parameters; alpha is the per-class focal weight (c,) in z's dtype, or None."""

    gamma: float = 2.0
    alpha: np.ndarray | None = None
    q: float = 0.7
    delta: float = 1.0


class Loss(abc.ABC):
    """A per-sample loss of z (n, c) and targets y: labels (n,) or float targets (n, c)."""

    name: ClassVar[str]
    valid_heads: ClassVar[tuple[str, ...]]
    float_target_heads: ClassVar[tuple[str, ...]] = ()  # heads that take float targets (n, c)
    params: ClassVar[MappingProxyType[str, Any]] = MappingProxyType({})  # names and defaults

    accepts_labels: ClassVar[bool] = True  # every loss takes class labels (one-hot targets)

    def accepts_floats(self, head: str) -> bool:
        """Whether float targets (n, c) are meaningful for this loss with this head."""
        return head in self.float_target_heads

    @abc.abstractmethod
    def value_and_grad(
        self, head: str, z: np.ndarray, y: np.ndarray, p: Params
    ) -> tuple[np.ndarray, np.ndarray]:
        """(loss (n,), ∂loss/∂z (n, c)) for validated inputs."""


def _flat_index(y: np.ndarray, c: int) -> np.ndarray:
    """Positions i·c + y_i of the true classes in a C-contiguous (n, c) array raveled."""
    if not isinstance(y, np.ndarray):
        xp = namespace(y)
        return xp.arange(y.shape[0], dtype=y.dtype, device=y.device) * c + y
    # Flat take/assign is 3-5x faster than a[np.arange(n), y] fancy indexing.
    return _row_starts(len(y), c) + y


@lru_cache(maxsize=64)
def _row_starts(n: int, c: int) -> np.ndarray:
    """The read-only positions i·c (n,) where the rows of a C-contiguous (n, c) array start."""
    starts = np.arange(n) * c
    starts.setflags(write=False)
    return starts


def _true(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """a[i, y_i] (n,) for labels y (n,)."""
    if not isinstance(a, np.ndarray):
        xp = namespace(a)
        return xp.take(xp.reshape(a, (-1,)), _flat_index(y, a.shape[1]))
    return a.reshape(-1).take(_flat_index(y, a.shape[1]))


def _subtract_true(a: np.ndarray, y: np.ndarray, v: np.ndarray | float) -> None:
    """a[i, y_i] −= v_i in place; a must be C-contiguous (evaluate makes z so, and so its results)."""
    a.reshape(-1)[_flat_index(y, a.shape[1])] -= v


_CLASSES: dict[tuple, Any] = {}  # (c, dtype, device) → arange(c) on that device, made once


def _is_true(y, c: int):
    """The one-hot mask (n, c) of labels y (n,), for array libraries without scatter."""
    key = (c, str(y.dtype), str(y.device))  # str: not every library's device is hashable
    classes = _CLASSES.get(key)
    if classes is None:
        classes = _CLASSES[key] = namespace(y).arange(c, dtype=y.dtype, device=y.device)
    return y[:, None] == classes


def _minus_true(a, y, v):
    """a with a[i, y_i] − v_i, a new array (the array-API form of _subtract_true)."""
    xp = namespace(a)
    v = v[:, None] if not isinstance(v, float | int) else v
    return xp.where(_is_true(y, a.shape[1]), a - v, a)


def _row_mean(a: np.ndarray) -> np.ndarray:
    """mean over the last axis (n, c) → (n,)."""
    return heads.row_sum(a)[:, 0] / a.shape[1]


def _residual(yhat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d = ŷ − t (n, c), a new array, with t one-hot when y holds labels (n,)."""
    if y.ndim == 2:
        return yhat - y
    if not isinstance(yhat, np.ndarray):
        return _minus_true(yhat, y, 1.0)
    d = yhat.copy()
    _subtract_true(d, y, 1)
    return d


class _ResidualLoss(Loss):
    """mean_c f(ŷ − t); ∂L/∂ŷ is backpropagated through the head with heads.vjp."""

    valid_heads = heads.HEADS
    float_target_heads = heads.HEADS

    def value_and_grad(
        self, head: str, z: np.ndarray, y: np.ndarray, p: Params
    ) -> tuple[np.ndarray, np.ndarray]:
        yhat = heads.apply(head, z)
        value, g = self.on_residual(_residual(yhat, y), p)
        return value, heads.vjp(head, yhat, g)

    @abc.abstractmethod
    def on_residual(self, d: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray]:
        """(mean_c f(d) (n,), ∂/∂ŷ (n, c)) from the residual d = ŷ − t, which it may overwrite."""


class MeanSquaredError(_ResidualLoss):
    """mse = mean_c (ŷ − t)², for any ŷ and t; ∂/∂ŷ = 2(ŷ − t)/c."""

    name = "mse"

    def on_residual(self, d: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray]:
        c = d.shape[1]
        if not isinstance(d, np.ndarray):
            return namespace(d).sum(d * d, axis=1) / c, d * (2 / c)
        value = np.einsum("ij,ij->i", d, d) / c
        d *= 2 / c
        return value, d


class MeanAbsoluteError(_ResidualLoss):
    """mae = mean_c |ŷ − t|, for any ŷ and t; ∂/∂ŷ = sign(ŷ − t)/c, with sign(0) = 0 as in PyTorch."""

    name = "mae"

    def on_residual(self, d: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray]:
        xp = np if isinstance(d, np.ndarray) else namespace(d)
        g = xp.sign(d)  # not in place: numpy's in-place sign is ~10x slower
        if xp is not np:
            return _row_mean(xp.abs(d)), g / d.shape[1]
        g /= d.shape[1]
        return _row_mean(np.abs(d)), g


class Huber(_ResidualLoss):
    """huber = mean_c h(ŷ − t), h(d) = d²/2 if |d| < δ else δ(|d| − δ/2), δ > 0; ∂h = clip(d, ±δ)."""

    name = "huber"
    params = MappingProxyType({"delta": 1.0})

    def on_residual(self, d: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray]:
        # h = m(|d| − m/2) with m = min(|d|, δ): both branches without a slow masked np.where.
        if not isinstance(d, np.ndarray):
            xp = namespace(d)
            a = xp.abs(d)
            m = xp.minimum(a, p.delta)
            return _row_mean((a - 0.5 * m) * m), xp.clip(d, -p.delta, p.delta) / d.shape[1]
        a = np.abs(d)
        m = np.minimum(a, p.delta)
        a -= 0.5 * m
        a *= m
        np.clip(d, -p.delta, p.delta, out=d)
        d /= d.shape[1]
        return _row_mean(a), d


class _TrueClassLoss(Loss):
    """A softmax-head loss f(ℓ) of ℓ = log p_y only; ∂/∂z = f'(ℓ)·(onehot − p), labels only."""

    valid_heads = ("softmax",)

    def value_and_grad(
        self, head: str, z: np.ndarray, y: np.ndarray, p: Params
    ) -> tuple[np.ndarray, np.ndarray]:
        probs, logp = heads.softmax_with_log(z)
        if not isinstance(z, np.ndarray):
            value, scale = self.on_log_p_true(namespace(z).minimum(_true(logp, y), 0.0), y, p)
            return value, _minus_true(probs * scale[:, None], y, scale)
        # ℓ ≤ 0 mathematically; the clamp only guards against a rounding step above 0.
        value, scale = self.on_log_p_true(np.minimum(_true(logp, y), 0), y, p)
        probs *= scale[:, None]  # grad = −f'(ℓ)·(p − onehot), built in place in probs
        _subtract_true(probs, y, scale)
        return value, probs

    @abc.abstractmethod
    def on_log_p_true(
        self, ell: np.ndarray, y: np.ndarray, p: Params
    ) -> tuple[np.ndarray, np.ndarray]:
        """(f(ℓ) (n,), −f'(ℓ) (n,)) from ℓ = log p_y (n,)."""


class CrossEntropy(_TrueClassLoss):
    """ce: softmax head −log softmax(z)_y (labels); sigmoid head mean_c [max(z,0) − z t +
    log(1 + e^−|z|)] = binary_cross_entropy_with_logits, t ∈ [0, 1] may be soft."""

    name = "ce"
    valid_heads = ("softmax", "sigmoid")
    float_target_heads = ("sigmoid",)

    def value_and_grad(
        self, head: str, z: np.ndarray, y: np.ndarray, p: Params
    ) -> tuple[np.ndarray, np.ndarray]:
        if head == "softmax":
            return super().value_and_grad(head, z, y, p)
        return _binary_cross_entropy(z, y)

    def on_log_p_true(
        self, ell: np.ndarray, y: np.ndarray, p: Params
    ) -> tuple[np.ndarray, np.ndarray]:
        return 0.0 - ell, (np if isinstance(ell, np.ndarray) else namespace(ell)).ones_like(ell)  # 0 − ℓ, not −ℓ: a certain answer gives +0, not −0


def _binary_cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean_c [max(z,0) − z t + log1p(e^−|z|)] (n,), (σ(z) − t)/c (n, c)), t one-hot for labels."""
    c = z.shape[1]
    if not isinstance(z, np.ndarray):
        loss, grad = -heads.log_sigmoid(-z), heads.sigmoid(z)
        if y.ndim == 2:
            loss, grad = loss - z * y, grad - y
        else:
            loss = namespace(z).where(_is_true(y, c), -heads.log_sigmoid(z), loss)
            grad = _minus_true(grad, y, 1.0)
        return _row_mean(loss), grad / c
    # max(z, 0) + log1p(e^−|z|) = −log σ(−z): the exponent is never positive, so no overflow.
    loss = heads.log_sigmoid(-z)
    np.negative(loss, out=loss)
    grad = heads.sigmoid(z)
    if y.ndim == 2:
        loss -= z * y  # subtracted per element before summing, as PyTorch does
        grad -= y
    else:
        # Where t = 1 the element is −log σ(z) itself: exact, no cancellation of max(z, 0) − z.
        loss.reshape(-1)[_flat_index(y, c)] = -heads.log_sigmoid(_true(z, y))
        _subtract_true(grad, y, 1)
    grad /= c
    return _row_mean(loss), grad


class MultiMargin(Loss):
    """hinge = Σ_{i≠y} max(0, 1 − z_y + z_i)/c = multi_margin_loss(z, y, margin=1), linear head."""

    name = "hinge"
    valid_heads = ("linear",)

    def value_and_grad(
        self, head: str, z: np.ndarray, y: np.ndarray, p: Params
    ) -> tuple[np.ndarray, np.ndarray]:
        c = z.shape[1]
        if not isinstance(z, np.ndarray):
            xp = namespace(z)
            margin = xp.where(_is_true(y, c), 0.0, (z - _true(z, y)[:, None]) + 1)
            grad = xp.astype(margin > 0, z.dtype)
            grad = _minus_true(grad, y, heads.row_sum(grad)[:, 0])
            return _row_mean(xp.maximum(margin, 0.0)), grad / c
        margin = z - _true(z, y)[:, None]
        margin += 1
        margin.reshape(-1)[_flat_index(y, c)] = 0
        active = margin > 0  # subgradient 0 exactly on the kink, as PyTorch
        np.maximum(margin, 0, out=margin)
        grad = active.astype(z.dtype)
        _subtract_true(grad, y, heads.row_sum(grad)[:, 0])  # the true class gets −(violations)
        grad /= c
        return _row_mean(margin), grad


class Focal(_TrueClassLoss):
    """focal = −α_y (1 − p_y)^γ log p_y (Lin et al. 2017), γ ≥ 0, α ≥ 0 per class (default 1)."""

    name = "focal"
    params = MappingProxyType({"gamma": 2.0, "alpha": None})

    def on_log_p_true(
        self, ell: np.ndarray, y: np.ndarray, p: Params
    ) -> tuple[np.ndarray, np.ndarray]:
        gamma = p.gamma
        if not isinstance(ell, np.ndarray):
            xp = namespace(ell)
            u = -xp.expm1(ell)
            ratio = xp.where(u > 0, ell / xp.where(u > 0, u, 1.0), -1.0)
            weight = u**gamma
            scale = weight * (1 - gamma * xp.exp(ell) * ratio)
            value = weight * (0.0 - ell)
            if p.alpha is not None:
                a = xp.take(p.alpha, y)
                value, scale = value * a, scale * a
            return value, scale
        u = -np.expm1(ell)  # 1 − p_y without cancellation as p_y → 1
        # −f'(ℓ) = u^γ (1 − γ p_y ℓ/u); ℓ/u → −1 as u → 0, set explicitly to avoid 0/0.
        ratio = np.divide(ell, u, out=np.full_like(ell, -1), where=u > 0)
        weight = u**gamma
        scale = weight * (1 - gamma * np.exp(ell) * ratio)
        value = weight * (0.0 - ell)
        if p.alpha is not None:
            value *= p.alpha[y]
            scale *= p.alpha[y]
        return value, scale


class GeneralizedCrossEntropy(_TrueClassLoss):
    """gce = (1 − p_y^q)/q (Zhang & Sabuncu 2018), 0 < q ≤ 1: ce as q → 0, 1 − p_y at q = 1."""

    name = "gce"
    params = MappingProxyType({"q": 0.7})

    def on_log_p_true(
        self, ell: np.ndarray, y: np.ndarray, p: Params
    ) -> tuple[np.ndarray, np.ndarray]:
        q = p.q
        xp = np if isinstance(ell, np.ndarray) else namespace(ell)
        # p_y^q = e^{qℓ}; expm1 keeps the loss accurate near p_y = 1.
        return (0.0 - xp.expm1(q * ell)) / q, xp.exp(q * ell)


_ORDER = (MeanSquaredError, CrossEntropy, MeanAbsoluteError, Huber, MultiMargin, Focal)
LOSSES: dict[str, Loss] = {cls.name: cls() for cls in (*_ORDER, GeneralizedCrossEntropy)}
VALID_HEADS: dict[str, tuple[str, ...]] = {name: loss.valid_heads for name, loss in LOSSES.items()}


def get(loss: str, head: str) -> Loss:
    """The registered Loss for a name, refusing unknown names and invalid loss/head pairs."""
    if loss not in LOSSES:
        raise LossError(f"unknown loss {loss!r}; valid losses: {', '.join(LOSSES)}")
    heads.check_head(head)
    found = LOSSES[loss]
    if head not in found.valid_heads:
        raise LossError(
            f"loss {loss!r} does not work with head {head!r}; "
            f"valid heads for {loss}: {', '.join(found.valid_heads)}"
        )
    return found


def _check_z(z: np.ndarray) -> np.ndarray:
    """z as a float32/float64 array of shape (n, c), c ≥ 1."""
    z = np.ascontiguousarray(z)  # the flat true-class indexing relies on C order
    if z.dtype not in (np.float32, np.float64):
        raise LossError(f"z must be a float32 or float64 array; got dtype {z.dtype}")
    if z.ndim != 2 or z.shape[1] < 1:
        raise LossError(f"z must have shape (n, c) with c ≥ 1; got shape {z.shape}")
    return z


def _check_y(found: Loss, head: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """y as integer labels (n,) in 0..c−1, or float targets (n, c) cast to z's dtype."""
    y = np.asarray(y)
    n, c = z.shape
    if y.ndim == 1:
        if not np.issubdtype(y.dtype, np.integer):
            raise LossError(
                f"class labels must be an integer array of shape ({n},), got dtype {y.dtype}; "
                f"float targets need the shape of z, ({n}, {c})"
            )
        if len(y) != n:
            raise LossError(f"labels must have shape ({n},) to match z {z.shape}; got {y.shape}")
        if n and (y.min() < 0 or y.max() >= c):
            raise LossError(
                f"labels must lie in 0..{c - 1}; got values from {y.min()} to {y.max()}"
            )
        return y
    if y.ndim != 2 or y.shape != z.shape:
        raise LossError(
            f"y must be labels of shape ({n},) or targets of shape {z.shape}; got {y.shape}"
        )
    if not found.accepts_floats(head):
        raise LossError(
            f"loss {found.name!r} with head {head!r} needs class labels of shape ({n},); "
            f"float targets work with {_float_target_pairs()}"
        )
    if not (np.issubdtype(y.dtype, np.floating) or np.issubdtype(y.dtype, np.integer)):
        raise LossError(f"targets must be real numbers; got dtype {y.dtype}")
    y = np.ascontiguousarray(y, dtype=z.dtype)
    if found.name == "ce" and y.size and not (y.min() >= 0 and y.max() <= 1):
        raise LossError(
            f"ce with a sigmoid head needs targets in [0, 1]; got {y.min()} to {y.max()}"
        )
    return y


def _float_target_pairs() -> str:
    """'mse (softmax, sigmoid, linear), ce (sigmoid), …': the pairs that take float targets."""
    pairs = ((n, loss.float_target_heads) for n, loss in LOSSES.items() if loss.float_target_heads)
    return ", ".join(f"{n} ({', '.join(h)})" for n, h in pairs)


def _check_class_array(
    name: str, w: np.ndarray, c: int, y: np.ndarray, dtype: np.dtype
) -> np.ndarray:
    """A per-class array (c,) of finite non-negative numbers, cast to dtype; needs labels."""
    if y.ndim != 1:
        raise LossError(
            f"{name} need class labels of shape (n,), not float targets of shape {y.shape}"
        )
    w = np.asarray(w, dtype=dtype)
    if w.shape != (c,):
        raise LossError(f"{name} must have one value per class, shape ({c},); got {w.shape}")
    if not np.all(np.isfinite(w) & (w >= 0)):
        raise LossError(f"{name} must be finite and ≥ 0; got {np.array2string(w, threshold=12)}")
    return w


def _number(name: str, value: Any) -> float:
    """value as a Python float, or LossError naming the parameter."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise LossError(f"{name} must be a number; got {value!r}") from None


def _check_params(found: Loss, z: np.ndarray, y: np.ndarray, **given: Any) -> Params:
    """Validate the parameters this loss uses (the others are ignored)."""
    used = found.params
    gamma, q, delta = (_number(k, given[k]) for k in ("gamma", "q", "delta"))
    if "gamma" in used and not (gamma >= 0 and math.isfinite(gamma)):
        raise LossError(f"gamma must be a finite number ≥ 0; got {gamma}")
    if "q" in used and not 0 < q <= 1:
        raise LossError(f"q must lie in (0, 1]; got {q}")
    if "delta" in used and not (delta > 0 and math.isfinite(delta)):
        raise LossError(f"delta must be a finite number > 0; got {delta}")
    alpha = given["alpha"]
    if "alpha" in used and alpha is not None:
        alpha = _check_class_array("alpha", alpha, z.shape[1], y, z.dtype)
    return Params(gamma=gamma, alpha=alpha, q=q, delta=delta)


def evaluate(
    loss: str,
    head: str,
    z: np.ndarray,
    y: np.ndarray,
    *,
    class_weights: np.ndarray | None = None,
    gamma: float = 2.0,
    alpha: np.ndarray | None = None,
    q: float = 0.7,
    delta: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(per-sample loss (n,), ∂loss_i/∂z_i (n, c)) in z's dtype, for z (n, c) and y labels (n,)
    or float targets (n, c); class_weights (c,) multiply sample i's loss and gradient by w[y_i].

    Parameters a loss does not use (gamma and alpha for focal, q for gce, delta for huber) are
    ignored.  Raises LossError for any invalid name, pair, shape, label or parameter.
    """
    found = get(loss, head)
    z = _check_z(z)
    y = _check_y(found, head, z, y)
    params = _check_params(found, z, y, gamma=gamma, alpha=alpha, q=q, delta=delta)
    if class_weights is not None:
        class_weights = _check_class_array("class_weights", class_weights, z.shape[1], y, z.dtype)
    value, grad = found.value_and_grad(head, z, y, params)
    if class_weights is not None:
        w = class_weights[y]
        value *= w
        grad *= w[:, None]
    return value, grad


def bind(loss: str, head: str, z: np.ndarray, y: np.ndarray, **params: Any):
    """A validated `(z, y) -> (loss, grad)` for repeated calls on batches like z and y (the training loop).

    Validates names, pair, shapes and parameters once on the sample batch (on the host for other
    array libraries than numpy); later calls skip the checks.
    """
    if not isinstance(z, np.ndarray):
        return _bind_array_api(loss, head, z, y, **params)
    evaluate(loss, head, z, y, **params)
    found = get(loss, head)
    given = {"gamma": 2.0, "alpha": None, "q": 0.7, "delta": 1.0, **params}
    checked = _check_params(found, _check_z(z), _check_y(found, head, _check_z(z), y), **given)

    def call(zb: np.ndarray, yb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return found.value_and_grad(head, np.ascontiguousarray(zb), yb, checked)

    return call


def _bind_array_api(loss: str, head: str, z, y, **params: Any):
    """`bind` for any array-API library: checked on host copies, then computed on the arrays' device."""
    zh, yh = to_numpy(z), to_numpy(y)
    evaluate(loss, head, zh, yh, **params)
    found = get(loss, head)
    given = {"gamma": 2.0, "alpha": None, "q": 0.7, "delta": 1.0, **params}
    checked = _check_params(found, _check_z(zh), _check_y(found, head, _check_z(zh), yh), **given)
    if checked.alpha is not None:
        xp = namespace(z)
        checked = Params(checked.gamma, xp.asarray(checked.alpha, device=z.device), checked.q, checked.delta)

    def call(zb, yb):
        return found.value_and_grad(head, zb, yb, checked)

    return call


def true_class_curve(
    loss: str, head: str, p_true: np.ndarray, n_classes: int = 10, **params: Any
) -> tuple[np.ndarray, np.ndarray]:
    """(loss (m,), ‖∂loss/∂z‖₂ (m,)) when the true class has probability p_true (m,) ∈ [0, 1] and
    the other n_classes − 1 share 1 − p equally; z = log q (softmax), logit q (sigmoid) or q
    (linear), evaluated in float64 through `evaluate`."""
    get(loss, head)
    p = np.asarray(p_true, dtype=np.float64).reshape(-1)
    if not (isinstance(n_classes, int | np.integer) and n_classes >= 2):
        raise LossError(f"n_classes must be an integer ≥ 2; got {n_classes!r}")
    if not np.all((p >= 0) & (p <= 1)):
        raise LossError(f"p_true must lie in [0, 1]; got values from {p.min()} to {p.max()}")
    probs = np.empty((len(p), n_classes))
    probs[:, 0] = p
    probs[:, 1:] = ((1 - p) / (n_classes - 1))[:, None]
    # Probabilities of exactly 0 or 1 are clamped to the nearest finite logit, so z stays finite.
    tiny = np.finfo(np.float64).tiny
    if head == "softmax":
        z = np.log(np.maximum(probs, tiny))
    elif head == "sigmoid":
        # only the analytic curves need scipy here, and it costs ~0.2 s to import
        from scipy.special import logit

        z = logit(np.clip(probs, tiny, 1 - np.finfo(np.float64).epsneg))
    else:
        z = probs
    value, grad = evaluate(loss, head, z, np.zeros(len(p), dtype=np.intp), **params)
    return value, np.linalg.norm(grad, axis=1)
