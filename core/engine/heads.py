"""Output heads: the map from pre-activations z (..., c) to outputs ŷ, its backward pass, and the
class probabilities every arm is judged by whatever its head.

Every function takes numpy arrays (the engine's default, computed in place where that is faster)
or any array-API array (core.engine.backend), and returns arrays of the same library.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lossdb.core.engine.backend import namespace
from lossdb.core.errors import LossError

HEADS: tuple[str, ...] = ("softmax", "sigmoid", "linear")


def check_head(head: str) -> None:
    """Raise LossError unless head is one of HEADS."""
    if head not in HEADS:
        raise LossError(f"unknown head {head!r}; valid heads: {', '.join(HEADS)}")


def _as_float(z: np.ndarray) -> np.ndarray:
    """z as a floating array (float32 and float64 kept as they are, anything else float64)."""
    if not isinstance(z, np.ndarray | np.generic | list | tuple | float | int):
        xp = namespace(z)
        return z if z.dtype in (xp.float32, xp.float64) else xp.astype(z, xp.float64)
    z = np.asarray(z)
    return z if z.dtype in (np.float32, np.float64) else z.astype(np.float64)


def row_max(a: np.ndarray) -> np.ndarray:
    """max over the last axis, kept as a length-1 axis: (..., c) → (..., 1); NaN propagates."""
    if not isinstance(a, np.ndarray):
        return namespace(a).max(a, axis=-1, keepdims=True)
    c = a.shape[-1]
    if c > 64:
        return a.max(axis=-1, keepdims=True)
    # numpy reduces a short last axis one row at a time, ~10x slower than c column-wise maxima.
    if a.size <= 2048 * c:  # a training batch: one transposed copy and one reduction beat c calls (3x)
        return np.ascontiguousarray(a.reshape(-1, c).T).max(axis=0).reshape(a.shape[:-1] + (1,))
    m = a[..., :1].copy()
    for j in range(1, a.shape[-1]):
        np.maximum(m, a[..., j : j + 1], out=m)
    return m


def row_sum(a: np.ndarray) -> np.ndarray:
    """Σ over the last axis, kept as a length-1 axis: (..., c) → (..., 1)."""
    if not isinstance(a, np.ndarray):
        return namespace(a).sum(a, axis=-1, keepdims=True)
    # A matrix-vector product runs in BLAS; np.sum over a short last axis is ~7x slower.
    return (a @ _ones(a.shape[-1], a.dtype))[..., None]


@lru_cache(maxsize=32)
def _ones(c: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of c ones (row_sum runs on every batch: no allocation each time)."""
    ones = np.ones(c, dtype=dtype)
    ones.setflags(write=False)
    return ones


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = e^min(z,0) / (1 + e^−|z|), exact to rounding at any z and free of overflow."""
    z = _as_float(z)
    if not isinstance(z, np.ndarray):
        xp = namespace(z)
        return xp.exp(xp.minimum(z, 0.0)) / (xp.exp(-xp.abs(z)) + 1)
    # Both exponents are ≤ 0, so nothing overflows; the form is also ~2x faster than scipy's expit.
    num = np.minimum(z, 0)
    np.exp(num, out=num)
    den = np.abs(z)
    np.negative(den, out=den)
    np.exp(den, out=den)
    den += 1
    num /= den
    return num


def log_sigmoid(z: np.ndarray) -> np.ndarray:
    """log σ(z) = min(z, 0) − log(1 + e^−|z|), finite for every finite z."""
    z = _as_float(z)
    if not isinstance(z, np.ndarray):
        xp = namespace(z)
        return xp.minimum(z, 0.0) - xp.log1p(xp.exp(-xp.abs(z)))
    out = np.abs(z)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    np.subtract(np.minimum(z, 0), out, out=out)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax(z)_j = exp(z_j − max z) / Σ_k exp(z_k − max z) along the last axis."""
    z = _as_float(z)
    # Subtracting the row maximum keeps every exponent ≤ 0: no overflow at any logit size.
    e = z - row_max(z)
    if not isinstance(z, np.ndarray):
        e = namespace(z).exp(e)
        return e / row_sum(e)
    np.exp(e, out=e)
    e /= row_sum(e)
    return e


def softmax_with_log(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(softmax(z), log_softmax(z)) along the last axis, with log_softmax = z − logsumexp(z)."""
    z = _as_float(z)
    logp = z - row_max(z)
    xp = np if isinstance(z, np.ndarray) else namespace(z)
    p = xp.exp(logp)
    total = row_sum(p)  # ≥ 1: the maximum contributes exp(0) = 1
    if xp is not np:
        return p / total, logp - xp.log(total)
    p /= total
    logp -= np.log(total)
    return p, logp


def apply(head: str, z: np.ndarray) -> np.ndarray:
    """ŷ (..., c) from z (..., c): softmax(z), σ(z) = 1/(1 + e^−z), or z itself (linear, no copy)."""
    check_head(head)
    if head == "softmax":
        return softmax(z)
    if head == "sigmoid":
        return sigmoid(z)
    return _as_float(z)


def vjp(head: str, yhat: np.ndarray, g: np.ndarray) -> np.ndarray:
    """∂L/∂z (..., c) from ŷ = apply(head, z) and g = ∂L/∂ŷ: ŷ⊙(g − Σ g⊙ŷ), g⊙ŷ(1−ŷ), or g."""
    check_head(head)
    if head == "softmax":
        gz = g * yhat
        if not isinstance(gz, np.ndarray):
            return gz - yhat * row_sum(gz)
        gz -= yhat * row_sum(gz)
        return gz
    if head == "sigmoid":
        return g * (yhat * (1 - yhat))
    return g


def probabilities(head: str, z: np.ndarray) -> np.ndarray:
    """Class probabilities (..., c) summing to 1, the common yardstick (NLL, Brier, ECE) of every arm.

    softmax → softmax(z); sigmoid → σ(z)/Σσ(z); linear → clip(z, 0, 1)/Σ clip(z, 0, 1), uniform
    (1/c) where the clipped row sums to 0.
    """
    check_head(head)
    z = _as_float(z)
    if head == "softmax":
        return softmax(z)
    if head == "sigmoid":
        # σ(z)/Σσ(z) = softmax(log σ(z)); the log form survives σ underflowing to 0 at z ≪ 0.
        return softmax(log_sigmoid(z))
    xp = np if isinstance(z, np.ndarray) else namespace(z)
    p = xp.clip(z, 0, 1)
    total = row_sum(p)
    empty = total == 0  # NaN rows stay NaN: divergence must stay visible
    if xp is not np:
        return xp.where(empty, 1 / z.shape[-1], p / xp.where(empty, 1.0, total))
    return np.where(empty, z.dtype.type(1 / z.shape[-1]), p / np.where(empty, 1, total))
