"""The data of a stack of K models as arrays: each model's splits, target scaler and class weights.

Every model trains on the data of its own seed (`core.data.prepare`), and of its own data spec where
the models of a stack differ in one (core.engine.train). The features are held once per prepared set,
(S, n, d), however many models share it (a large table is never copied per run);
labels and scaled targets, which depend on a model's head, once per model, (K, n, …).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from lossdb.core.engine.backend import Backend
from lossdb.core.data.prepare import Prepared, TargetScaler, fit_target_scaler
from lossdb.core.errors import ConfigError

# The target scaling each regression head needs: a linear output fits standardised targets, a
# sigmoid output ones min-max scaled to [0, 1].
TARGET_SCALING = {"linear": "standard", "sigmoid": "minmax"}
PARTS = ("train", "val", "test")


class ModelLike(Protocol):
    """What the data of a model depends on: its head and class weights."""

    head: str
    class_weights: str | tuple[float, ...] | None


@dataclass(frozen=True, eq=False)
class Split:
    """One split of every model: X (S, n, d) per seed (model k's is X[seed_of[k]]); y labels (K, n)
    or scaled targets (K, n, c) per model."""

    X: np.ndarray
    y: np.ndarray
    target: np.ndarray | None  # regression: the targets on their original scale (K, n, c), float64

    @property
    def n(self) -> int:
        """Samples per model."""
        return self.X.shape[1]


@dataclass(frozen=True, eq=False)
class StackData:
    """The train, validation and test splits of K models, their target scalers and class weights."""

    task: str  # "classification" or "regression"
    n_classes: int
    train: Split
    val: Split
    test: Split
    scalers: list[TargetScaler] | None  # regression: one per model
    weights: np.ndarray | None  # classification with class weights: (K, n_classes)
    seed_of: np.ndarray | None = None  # (K,) int: model k's features are X[seed_of[k]] (None: X is per model)

    def features(self, X: np.ndarray, models: slice | None = None) -> np.ndarray:
        """The (k, n, d) features of the models in `models` (all by default) from per-seed X."""
        if self.seed_of is None:
            return X if models is None else X[models]
        rows = self.seed_of if models is None else self.seed_of[models]
        if len(rows) == X.shape[0] and (rows == np.arange(len(rows))).all():
            return X  # one model per seed, in order: the array itself
        return X[rows]

    def part(self, name: str) -> Split:
        """The split called "train", "val" or "test"."""
        return {"train": self.train, "val": self.val, "test": self.test}[name]


def stack_data(models: Sequence[ModelLike], prepared: Sequence[Prepared], dtype: np.dtype,
               unscaled_targets: bool = False) -> StackData:
    """Stack the prepared data of each model (prepared[k] is model k's): splits, scalers, weights.

    unscaled_targets: regression targets pass through as they are (a deterministic one-sample set,
    where any fitted scaling would map its single target to 0).
    """
    task, n_classes = prepared[0].task, prepared[0].n_classes
    scalers = target_scalers(models, prepared, unscaled_targets) if task == "regression" else None
    slot: dict[int, int] = {}  # one features slot per distinct prepared set, in order of first use
    seed_of = np.array([slot.setdefault(id(p), len(slot)) for p in prepared], dtype=np.intp)
    per_seed = list({id(p): p for p in prepared}.values())
    splits = [_split(models, prepared, per_seed, part, scalers, dtype) for part in PARTS]
    return StackData(task, n_classes, *splits, scalers=scalers,
                     weights=class_weights(models, prepared, task, n_classes, dtype), seed_of=seed_of)


def on_backend(data: StackData, backend: Backend) -> StackData:
    """The stack's arrays moved to the backend's device (numpy: the data itself); scalers stay on the host."""
    if backend.is_numpy:
        return data

    def move(s: Split) -> Split:
        return Split(backend.asarray(s.X), backend.asarray(s.y),
                     None if s.target is None else backend.asarray(s.target))

    return StackData(data.task, data.n_classes, move(data.train), move(data.val), move(data.test),
                     scalers=data.scalers, weights=None if data.weights is None else backend.asarray(data.weights),
                     seed_of=data.seed_of)


def target_scalers(models: Sequence[ModelLike], prepared: Sequence[Prepared],
                   unscaled: bool = False) -> list[TargetScaler]:
    """Each regression model's target scaler, fitted on its own training targets, by its head."""
    for m in models:
        if m.head not in TARGET_SCALING:
            raise ConfigError(f"head {m.head!r} cannot fit regression targets; valid: "
                              f"{', '.join(TARGET_SCALING)}")
    if unscaled:
        return [TargetScaler(np.zeros(p.n_outputs), np.ones(p.n_outputs)) for p in prepared]
    return [fit_target_scaler(TARGET_SCALING[m.head], p.y_train)
            for m, p in zip(models, prepared, strict=True)]


def _split(models: Sequence[ModelLike], prepared: Sequence[Prepared], per_seed: Sequence[Prepared], part: str,
           scalers: list[TargetScaler] | None, dtype: np.dtype) -> Split:
    X = np.stack([getattr(p, f"X_{part}") for p in per_seed]).astype(dtype, copy=False)
    y = [getattr(p, f"y_{part}") for p in prepared]
    if scalers is None:
        return Split(X, np.stack(y).astype(np.int64), None)
    scaled = np.stack([s.transform(t) for s, t in zip(scalers, y, strict=True)])
    for k, m in enumerate(models):
        if m.head == "sigmoid":  # min-max fitted on training targets: held-out ones may fall outside [0, 1]
            np.clip(scaled[k], 0, 1, out=scaled[k])
    return Split(X, scaled.astype(dtype), np.stack(y).astype(np.float64))


def class_weights(models: Sequence[ModelLike], prepared: Sequence[Prepared], task: str,
                  n_classes: int, dtype: np.dtype) -> np.ndarray | None:
    """Per-model class weights (K, n_classes) multiplying each sample's loss, or None if no model has any.

    "balanced" is scikit-learn's: n_samples / (n_classes · count_c) on the model's training labels.
    """
    if all(m.class_weights is None for m in models):
        return None
    if task != "classification":
        raise ConfigError("class_weights apply to classification datasets only")
    W = np.ones((len(models), n_classes), dtype=dtype)
    for k, (m, p) in enumerate(zip(models, prepared, strict=True)):
        if m.class_weights == "balanced":
            counts = np.bincount(p.y_train, minlength=n_classes).astype(np.float64)
            W[k] = len(p.y_train) / (n_classes * np.maximum(counts, 1))
        elif m.class_weights is not None:
            if len(m.class_weights) != n_classes:
                raise ConfigError(f"class_weights needs {n_classes} values, got {len(m.class_weights)}")
            W[k] = m.class_weights
    return W
