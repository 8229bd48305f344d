"""Plain frozen records that cross the store's boundary; no SQLAlchemy object ever leaves it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from lossdb.core.errors import StoreError

from .models import STATUSES

MAX_NAME = 64


@dataclass(frozen=True)
class RunRecord:
    """A stored run with its experiment's name and the final value of each metric (`summary`, NaN kept)."""

    id: int
    experiment: str
    arm_hash: str
    seed: int
    engine_version: str
    config: dict[str, Any]
    loss: str
    head: str
    dataset: str
    lr: float
    status: str
    error: str | None
    diverged_epoch: int | None
    epochs: int
    started_at: datetime
    finished_at: datetime | None
    wall_seconds: float | None
    lossdb_version: str
    numpy_version: str
    python_version: str
    git_commit: str | None
    summary: dict[str, float] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    data_digest: str | None = None  # SHA-256 of the data (core.data.fingerprint); None before 0004


@dataclass(frozen=True)
class NewRun:
    """A run to store. `metrics[name][i]` is the value at epoch i: epoch 0 is before training, then 1..E.

    Datetimes should be timezone-aware (naive ones are taken as UTC); values may be NaN or ±inf.
    `extras` holds JSON-able engine results beyond the series (e.g. {"reliability": {...}}); in it,
    numpy values become plain numbers and lists, and NaN or ±inf become null (JSON has no such numbers).
    """

    experiment: str
    arm_hash: str
    seed: int
    engine_version: str
    config: dict[str, Any]
    loss: str
    head: str
    dataset: str
    lr: float
    status: str
    error: str | None
    diverged_epoch: int | None
    epochs: int
    started_at: datetime
    finished_at: datetime | None
    wall_seconds: float | None
    lossdb_version: str
    numpy_version: str
    python_version: str
    git_commit: str | None
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    data_digest: str | None = None  # SHA-256 of the data it trained on (core.data.fingerprint)

    @property
    def identity(self) -> tuple[str, str, int, str]:
        """(experiment, arm_hash, seed, engine_version): what makes a run unique."""
        return (self.experiment, self.arm_hash, self.seed, self.engine_version)


def to_utc(moment: datetime | None) -> datetime | None:
    """A datetime in UTC (aware); naive input is taken as UTC already."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def from_db(value: float | None) -> float:
    """A stored metric value back as a float: NULL is NaN."""
    return float("nan") if value is None else float(value)


def checked_series(run: NewRun) -> dict[str, np.ndarray]:
    """A run's metrics as 1-D float64 arrays (NaN and ±inf kept), after checking names and shapes."""
    if run.status not in STATUSES:
        raise StoreError(f"run status {run.status!r} is not one of {', '.join(STATUSES)}")
    out: dict[str, np.ndarray] = {}
    for name, series in run.metrics.items():
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
            raise StoreError(f"metric name {name!r} must be a string of 1 to {MAX_NAME} characters")
        values = np.asarray(series, dtype=np.float64)
        if values.ndim != 1:
            raise StoreError(
                f"metric {name} must be one value per epoch (a 1-D array), got shape {values.shape}"
            )
        out[name] = values
    return out


def refuse_duplicates(runs: Sequence[NewRun]) -> None:
    """A batch must not hold the same run identity twice."""
    seen: set[tuple[str, str, int, str]] = set()
    for run in runs:
        if run.identity in seen:
            raise StoreError(
                f"the batch holds run (experiment, arm, seed, engine) {run.identity} twice: store each run once"
            )
        seen.add(run.identity)
