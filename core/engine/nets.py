"""Stacked multilayer perceptrons: K independent models of one shape trained as 3-D arrays.

forward and backward take numpy arrays (activations computed in place) or any array-API array
(core.engine.backend); initial parameters are always drawn in numpy, then moved to the device.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdb.core import realnumber
from lossdb.core.engine.backend import namespace
from lossdb.core.errors import ConfigError

ACTIVATIONS = ("sigmoid", "tanh", "relu")
INITS = ("glorot", "normal", "explicit")


@dataclass(frozen=True)
class NetSpec:
    """Shape and initialisation of a network: inputs → hidden widths → outputs (pre-activation z)."""

    n_inputs: int
    n_outputs: int
    hidden: tuple[int, ...] = ()
    activation: str = "sigmoid"
    init: str = "glorot"  # glorot: U(±scale·√(6/(fan_in+fan_out))), zero biases; normal: N(0, scale²) for all
    init_scale: float = 1.0
    w: tuple[tuple[float, ...], ...] | None = None  # explicit initial weights (no hidden layer only)
    b: tuple[float, ...] | None = None

    @property
    def widths(self) -> tuple[int, ...]:
        """Every layer's width, inputs first, outputs last."""
        return (self.n_inputs, *self.hidden, self.n_outputs)

    @property
    def n_params(self) -> int:
        """Number of trainable parameters of one model."""
        w = self.widths
        return sum(w[i] * w[i + 1] + w[i + 1] for i in range(len(w) - 1))


def validate(spec: NetSpec) -> None:
    """Raise ConfigError for an impossible network."""
    if spec.activation not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {spec.activation!r}; valid: {', '.join(ACTIVATIONS)}")
    if spec.init not in INITS:
        raise ConfigError(f"unknown init {spec.init!r}; valid: {', '.join(INITS)}")
    if any(h < 1 for h in spec.hidden):
        raise ConfigError(f"hidden widths must be positive integers, got {list(spec.hidden)}")
    scale = spec.init_scale
    if not realnumber.within(scale, 0.0, open_low=True):
        raise ConfigError(f"init_scale must be a positive number (1 keeps the initialisation's own "
                          f"scale), got {scale!r}.")
    if spec.init == "explicit":
        if spec.hidden or spec.w is None or spec.b is None:
            raise ConfigError("init = 'explicit' needs w and b and a network without hidden layers")
        if np.shape(spec.w) != (spec.n_inputs, spec.n_outputs) or np.shape(spec.b) != (spec.n_outputs,):
            raise ConfigError(
                f"explicit w must have shape ({spec.n_inputs}, {spec.n_outputs}) and b "
                f"({spec.n_outputs},), got {np.shape(spec.w)} and {np.shape(spec.b)}"
            )


def init_params(spec: NetSpec, rngs: list[np.random.Generator], dtype=np.float32) -> list[np.ndarray]:
    """Initial parameters [W1 (K,in,out), b1 (K,out), W2, b2, …] of K models, model k drawn from rngs[k]."""
    widths = spec.widths
    params: list[np.ndarray] = []
    for i in range(len(widths) - 1):
        fan_in, fan_out = widths[i], widths[i + 1]
        W = np.empty((len(rngs), fan_in, fan_out), dtype=dtype)
        b = np.empty((len(rngs), fan_out), dtype=dtype)
        for k, rng in enumerate(rngs):
            with np.errstate(over="ignore"):  # weights beyond the dtype's range: the run diverges at epoch 0
                W[k], b[k] = _init_layer(spec, rng, fan_in, fan_out)
        params += [W, b]
    return params


def _init_layer(spec: NetSpec, rng: np.random.Generator, fan_in: int, fan_out: int):
    if spec.init == "explicit":
        return np.asarray(spec.w, dtype=np.float64), np.asarray(spec.b, dtype=np.float64)
    if spec.init == "normal":
        # Nielsen's "large weights": every weight and bias ~ N(0, 1) (times init_scale).
        return (rng.standard_normal((fan_in, fan_out)) * spec.init_scale,
                rng.standard_normal(fan_out) * spec.init_scale)
    limit = spec.init_scale * np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)), np.zeros(fan_out)


def _activate(name: str, a: np.ndarray) -> np.ndarray:
    if not isinstance(a, np.ndarray):
        xp = namespace(a)
        if name == "relu":
            return xp.maximum(a, 0.0)
        if name == "tanh":
            return xp.tanh(a)
        return (xp.tanh(a * 0.5) + 1) * 0.5
    if name == "relu":
        return np.maximum(a, 0, out=a)
    if name == "tanh":
        return np.tanh(a, out=a)
    # Stable logistic: tanh form never overflows.
    np.multiply(a, 0.5, out=a)
    np.tanh(a, out=a)
    a += 1
    a *= 0.5
    return a


def _activation_grad(name: str, h: np.ndarray, g: np.ndarray) -> np.ndarray:
    """dL/da from dL/dh, given the activation's output h (in place on g for numpy)."""
    if not isinstance(g, np.ndarray):
        if name == "relu":
            return g * namespace(g).astype(h > 0, g.dtype)
        return g * (1 - h * h) if name == "tanh" else g * (h * (1 - h))
    if name == "relu":
        g *= h > 0
    elif name == "tanh":
        g *= 1 - h * h
    else:
        g *= h * (1 - h)
    return g


def forward(spec: NetSpec, params: list[np.ndarray], X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Pre-activations z (K,n,c) of K models on inputs X (K,n,d); also the layer inputs for backward."""
    h = X
    cache = [X]
    n_layers = len(params) // 2
    numpy = isinstance(X, np.ndarray)
    for i in range(n_layers):
        if numpy:
            a = np.matmul(h, params[2 * i])
            a += params[2 * i + 1][:, None, :]
        else:
            a = h @ params[2 * i] + params[2 * i + 1][:, None, :]
        if i == n_layers - 1:
            return a, cache
        h = _activate(spec.activation, a)
        cache.append(h)
    raise AssertionError("a network has at least one layer")


def backward(spec: NetSpec, params: list[np.ndarray], cache: list[np.ndarray], gz: np.ndarray) -> list[np.ndarray]:
    """Gradients of the summed loss wrt every parameter, given dL/dz (K,n,c) and forward's cache."""
    grads: list[np.ndarray] = [None] * len(params)  # type: ignore[list-item]
    g = gz
    if not isinstance(gz, np.ndarray):
        xp = namespace(gz)
        for i in range(len(params) // 2 - 1, -1, -1):
            h = cache[i]
            grads[2 * i] = xp.matrix_transpose(h) @ g
            grads[2 * i + 1] = xp.sum(g, axis=1)
            if i > 0:
                g = _activation_grad(spec.activation, h, g @ xp.matrix_transpose(params[2 * i]))
        return grads
    for i in range(len(params) // 2 - 1, -1, -1):
        h = cache[i]
        grads[2 * i] = np.matmul(h.transpose(0, 2, 1), g)
        grads[2 * i + 1] = g.sum(axis=1)
        if i > 0:
            g = np.matmul(g, params[2 * i].transpose(0, 2, 1))
            g = _activation_grad(spec.activation, h, g)
    return grads
