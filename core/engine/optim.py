"""Optimisers over stacked parameters, with one learning rate per model (numpy arrays updated in
place, or any array-API library's arrays, core.engine.backend)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdb.core.engine.backend import namespace
from lossdb.core.errors import ConfigError

OPTIMIZERS = ("sgd", "momentum", "adam")


@dataclass(frozen=True)
class OptimSpec:
    """An optimiser and its hyper-parameters (shared by every model of a stack)."""

    name: str = "sgd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


def validate(spec: OptimSpec) -> None:
    """Raise ConfigError for an unknown optimiser or impossible hyper-parameters."""
    if spec.name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {spec.name!r}; valid: {', '.join(OPTIMIZERS)}")
    if not 0 <= spec.momentum < 1:
        raise ConfigError(f"momentum must be in [0, 1), got {spec.momentum}")
    if not (0 <= spec.beta1 < 1 and 0 <= spec.beta2 < 1):
        raise ConfigError("adam's beta1 and beta2 must be in [0, 1)")


class Optimizer:
    """Updates K models' parameters in place: p ← p − lr_k · step(g)."""

    def __init__(self, spec: OptimSpec, params: list[np.ndarray], lr: np.ndarray):
        self.spec = spec
        self.t = 0
        self.numpy = isinstance(params[0], np.ndarray)
        xp = np if self.numpy else namespace(params[0])
        # Learning rates shaped to broadcast over each parameter's trailing axes.
        if self.numpy:
            self.lrs = [lr.astype(p.dtype).reshape((-1,) + (1,) * (p.ndim - 1)) for p in params]
        else:
            self.lrs = [xp.astype(xp.asarray(lr.reshape((-1,) + (1,) * (p.ndim - 1)), device=p.device), p.dtype)
                        for p in params]
        self.m = [xp.zeros_like(p) for p in params] if spec.name != "sgd" else []
        self.v = [xp.zeros_like(p) for p in params] if spec.name == "adam" else []

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One update of every parameter from its gradient."""
        self.t += 1
        s = self.spec
        if not self.numpy:
            self._step_array_api(params, grads)
            return
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if s.name == "sgd":
                g *= self.lrs[i]
                p -= g
            elif s.name == "momentum":
                # PyTorch's form: v ← μ v + g; p ← p − lr v.
                m = self.m[i]
                m *= s.momentum
                m += g
                p -= self.lrs[i] * m
            else:
                m, v = self.m[i], self.v[i]
                m *= s.beta1
                m += (1 - s.beta1) * g
                v *= s.beta2
                v += (1 - s.beta2) * g * g
                mhat = m / (1 - s.beta1**self.t)
                vhat = v / (1 - s.beta2**self.t)
                p -= self.lrs[i] * mhat / (np.sqrt(vhat) + s.eps)

    def _step_array_api(self, params: list, grads: list) -> None:
        """step() out of place, the parameters replaced in the list (array-API arrays)."""
        s = self.spec
        xp = namespace(params[0])
        for i, g in enumerate(grads):
            if s.name == "sgd":
                params[i] = params[i] - g * self.lrs[i]
            elif s.name == "momentum":
                self.m[i] = self.m[i] * s.momentum + g
                params[i] = params[i] - self.lrs[i] * self.m[i]
            else:
                self.m[i] = self.m[i] * s.beta1 + (1 - s.beta1) * g
                self.v[i] = self.v[i] * s.beta2 + (1 - s.beta2) * g * g
                mhat = self.m[i] / (1 - s.beta1**self.t)
                vhat = self.v[i] / (1 - s.beta2**self.t)
                params[i] = params[i] - self.lrs[i] * mhat / (xp.sqrt(vhat) + s.eps)

    def freeze(self, k: int) -> None:
        """Stop updating model k (it diverged)."""
        for lr in self.lrs:
            lr[k, ...] = 0
