"""Each model's loss and head over a stack: per-sample losses, ∂loss/∂z, outputs and probabilities.

The models of a stack are sorted so that those sharing a loss, head and loss parameters are
contiguous; every call then runs once per group, on a (k·n, c) slab, never once per model.
Arrays are numpy's or any array-API library's (core.engine.backend).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby
from typing import Any, Protocol

import numpy as np

from lossdb.core.engine import heads, losses
from lossdb.core.engine.backend import namespace


class ModelLike(Protocol):
    """What the objective of a model depends on."""

    loss: str
    head: str
    loss_params: tuple[tuple[str, Any], ...]
    class_weights: str | tuple[float, ...] | None


def group_key(m: ModelLike) -> tuple:
    """Models with equal keys share one loss call: loss, head, loss parameters, class weights."""
    return (m.loss, m.head, m.loss_params, str(m.class_weights))


def groups(models: Sequence[ModelLike]) -> list[tuple[slice, ModelLike]]:
    """Contiguous runs of models (already sorted by group_key) that share loss, head and parameters."""
    out, start = [], 0
    for _, items in groupby(models, key=group_key):
        n = len(list(items))
        out.append((slice(start, start + n), models[start]))
        start += n
    return out


class Objective:
    """The losses, heads and class weights of K models sorted by group_key."""

    def __init__(self, models: Sequence[ModelLike], weights: np.ndarray | None):
        self.groups = groups(models)
        self.weights = weights  # (K, n_classes) or None
        self.linear = np.array([m.head == "linear" for m in models])
        self._bound: list[Callable | None] = [None] * len(self.groups)

    def loss_and_grad(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample losses (K, n) and ∂loss/∂z (K, n, c) of every model under its own loss and head."""
        K, n, c = z.shape
        if not isinstance(z, np.ndarray):
            return self._loss_and_grad_array_api(z, y)
        L = np.empty((K, n), dtype=z.dtype)
        G = np.empty_like(z)
        for i, (sl, m) in enumerate(self.groups):
            zg = z[sl].reshape(-1, c)
            yg = y[sl].reshape(-1) if y.ndim == 2 else y[sl].reshape(-1, c)
            if self._bound[i] is None:  # validate once, then call without checks on every batch
                self._bound[i] = losses.bind(m.loss, m.head, zg, yg, **dict(m.loss_params))
            lo, gr = self._bound[i](zg, yg)
            L[sl] = lo.reshape(-1, n)
            G[sl] = gr.reshape(-1, n, c)
        if self.weights is not None:
            w = np.take_along_axis(self.weights, y, axis=1)
            L *= w
            G *= w[..., None]
        return L, G

    def _loss_and_grad_array_api(self, z, y):
        """loss_and_grad for any array-API library: the groups' slabs concatenated."""
        xp = namespace(z)
        K, n, c = z.shape
        Ls, Gs = [], []
        for i, (sl, m) in enumerate(self.groups):
            zg = xp.reshape(z[sl, ...], (-1, c))
            yg = xp.reshape(y[sl, ...], (-1,) if y.ndim == 2 else (-1, c))
            if self._bound[i] is None:
                self._bound[i] = losses.bind(m.loss, m.head, zg, yg, **dict(m.loss_params))
            lo, gr = self._bound[i](zg, yg)
            Ls.append(xp.reshape(lo, (-1, n)))
            Gs.append(xp.reshape(gr, (-1, n, c)))
        L, G = (Ls[0], Gs[0]) if len(Ls) == 1 else (xp.concat(Ls), xp.concat(Gs))
        if self.weights is not None:
            C = self.weights.shape[1]
            at = xp.arange(K, dtype=y.dtype, device=y.device)[:, None] * C + y
            w = xp.reshape(xp.take(xp.reshape(self.weights, (-1,)), xp.reshape(at, (-1,))), (K, n))
            L, G = L * w, G * w[..., None]
        return L, G

    def _per_group(self, z, fn):
        """fn(head, z of the group in float64) for each group, concatenated (array-API arrays)."""
        xp = namespace(z)
        parts = [fn(m.head, xp.astype(z[sl, ...], xp.float64)) for sl, m in self.groups]
        return parts[0] if len(parts) == 1 else xp.concat(parts)

    def outputs(self, z: np.ndarray) -> np.ndarray:
        """ŷ (K, n, c) in float64: each model's head applied to its z."""
        if not isinstance(z, np.ndarray):
            return self._per_group(z, heads.apply)
        out = np.empty(z.shape, dtype=np.float64)
        for sl, m in self.groups:
            out[sl] = heads.apply(m.head, z[sl].astype(np.float64))
        return out

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """Class probabilities (K, n, c) in float64, by each model's head (heads.probabilities)."""
        if not isinstance(z, np.ndarray):
            return self._per_group(z, heads.probabilities)
        p = np.empty(z.shape, dtype=np.float64)
        for sl, m in self.groups:
            p[sl] = heads.probabilities(m.head, z[sl].astype(np.float64))
        return p
