"""Optimisers over stacked parameters, with one learning rate per model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
        # Learning rates shaped to broadcast over each parameter's trailing axes.
        self.lrs = [lr.astype(p.dtype).reshape((-1,) + (1,) * (p.ndim - 1)) for p in params]
        self.m = [np.zeros_like(p) for p in params] if spec.name != "sgd" else []
        self.v = [np.zeros_like(p) for p in params] if spec.name == "adam" else []

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One update of every parameter from its gradient."""
        self.t += 1
        s = self.spec
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

    def freeze(self, k: int) -> None:
        """Stop updating model k (it diverged)."""
        for lr in self.lrs:
            lr[k] = 0
