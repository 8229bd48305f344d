"""Checks of a merged arm (every setting a run will train with) and the limits on the work one
command may ask for; both run before anything is stored.

The limits are stated once, here (`LIMITS`), and `lossdb run --no-limits` lifts them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lossdb.core import realnumber
from lossdb.core.errors import ConfigError

# The store's column widths (core/store/models.py), checked here so SQLite, which ignores them, and
# PostgreSQL, which enforces them, accept the same experiments.
MAX_NAME = 200  # experiments.name
MAX_DATASET = 500  # runs.dataset: a built-in name or csv:PATH
MAX_RUN_ID = 2**63 - 1  # runs.id is a signed 64-bit integer on both backends
MAX_INIT_SCALE = 100.0  # Glorot × 100 already saturates every sigmoid; beyond it nothing is learnt
REGRESSION_HEADS = ("linear", "sigmoid")
# Arms and comparisons of one experiment file: judging reads the runs once per comparison, so
# 20,001 arms (20,000 default comparisons) would judge for hours.
MAX_ARMS = 100
MAX_COMPARISONS = 200


@dataclass(frozen=True)
class Limits:
    """The most one `lossdb run` may ask for (None: no limit)."""

    runs: int | None = 100_000  # runs planned by one command
    epochs: int | None = 100_000  # epochs of one run
    params: int | None = 10_000_000  # parameters of one model
    samples: int | None = 1_000_000  # samples of a generated dataset
    stack_bytes: int | None = 4 * 2**30  # estimated memory of one stack of models trained at once

    def describe(self) -> str:
        """The limits as one phrase, for messages."""
        return (f"at most {self.runs:,} runs, {self.epochs:,} epochs, {self.params:,} parameters per model, "
                f"{self.samples:,} samples and {_size(self.stack_bytes or 0)} per stack")


LIMITS = Limits()
NO_LIMITS = Limits(None, None, None, None, None)
LIFT = "pass --no-limits to lift this limit if the machine can take it"


class Invalid(ConfigError):
    """One setting of an arm is invalid: `section`, `key` and the message."""

    def __init__(self, section: str, key: str, message: str) -> None:
        super().__init__(f"[{section}] {key}: {message}")
        self.section, self.key, self.message = section, key, message


_real = realnumber.real
_whole = realnumber.whole


def _number(section: str, key: str, value: Any, ok: bool, valid: str) -> None:
    """Raise Invalid unless `value` is a finite real number and `ok`."""
    if not realnumber.finite(value) or not ok:
        raise Invalid(section, key, f"must be {valid}, got {value!r}")


def check_arm(arm: dict[str, Any]) -> None:
    """Raise Invalid for any setting of a merged arm that is of the wrong type, out of range or not finite."""
    dataset = arm["data"].get("dataset")
    if isinstance(dataset, str) and len(dataset) > MAX_DATASET:
        raise Invalid("data", "dataset", f"at most {MAX_DATASET} characters (a CSV path included), got {len(dataset)}")
    _check_train(arm["train"])
    _check_model(arm["model"])
    _check_loss_params(arm)


def _check_train(t: dict[str, Any]) -> None:
    lr = t["lr"]
    if isinstance(lr, list):
        raise Invalid("train", "lr", "an empty list plans no runs; give a number > 0 or a list of them")
    _number("train", "lr", lr, _real(lr) and lr > 0, "a finite number > 0")
    if not _whole(t["epochs"]) or t["epochs"] < 1:
        raise Invalid("train", "epochs", f"must be a whole number ≥ 1, got {t['epochs']!r}")
    if t["batch_size"] != "full" and (not _whole(t["batch_size"]) or t["batch_size"] < 1):
        raise Invalid("train", "batch_size", f"must be a whole number ≥ 1 or \"full\", got {t['batch_size']!r}")
    for key in ("momentum", "beta1", "beta2"):
        v = t[key]
        _number("train", key, v, _real(v) and 0 <= v < 1, "a number in [0, 1)")
    if t["dtype"] not in ("float32", "float64"):
        raise Invalid("train", "dtype", f"must be \"float32\" or \"float64\", got {t['dtype']!r}")


def _check_model(m: dict[str, Any]) -> None:
    hidden = m["hidden"]
    if not isinstance(hidden, list) or not all(_whole(h) and h >= 1 for h in hidden):
        raise Invalid("model", "hidden", f"must be a list of layer widths (whole numbers ≥ 1) such as [30], "
                      f"or [] for none, got {hidden!r}")
    s = m["init_scale"]
    _number("model", "init_scale", s, _real(s) and 0 < s <= MAX_INIT_SCALE, f"a number in (0, {MAX_INIT_SCALE:g}]")
    for key in ("w", "b"):
        flat = _flatten(m[key])
        if not all(_real(v) and math.isfinite(v) for v in flat):
            raise Invalid("model", key, f"must hold finite numbers only, got {m[key]!r}")


def _check_loss_params(arm: dict[str, Any]) -> None:
    if "gamma" in arm:
        _number("arms", "gamma", arm["gamma"], _real(arm["gamma"]) and arm["gamma"] >= 0, "a finite number ≥ 0")
    if "q" in arm:
        _number("arms", "q", arm["q"], _real(arm["q"]) and 0 < arm["q"] <= 1, "a number in (0, 1]")
    if "delta" in arm:
        _number("arms", "delta", arm["delta"], _real(arm["delta"]) and arm["delta"] > 0, "a finite number > 0")
    for key in ("alpha", "class_weights"):
        v = arm.get(key)
        if v is None or (key == "class_weights" and v == "balanced"):
            continue
        if not isinstance(v, list) or not v or not all(_real(w) and math.isfinite(w) and w >= 0 for w in v):
            also = "\"balanced\" or " if key == "class_weights" else ""
            raise Invalid("arms", key, f"must be {also}a list of one finite weight ≥ 0 per class, got {v!r}")
    if not isinstance(arm.get("label", ""), str):
        raise Invalid("arms", "label", f"must be text, got {arm['label']!r}")


def _flatten(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return [x for item in value for x in _flatten(item)]
    return [value]


def _size(n: float) -> str:
    """Bytes as a short human figure."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def check_count(n_runs: int, limits: Limits) -> None:
    """Refuse a command that plans more runs than the limit."""
    if limits.runs is not None and n_runs > limits.runs:
        raise ConfigError(f"this command plans {n_runs:,} runs, more than the limit of {limits.runs:,} per "
                          f"command: use fewer seeds or a smaller grid, or {LIFT}")


def check_scale(arm: dict[str, Any], limits: Limits) -> None:
    """Refuse an arm whose epochs, samples or model size exceed the limits."""
    from lossdb.core.data.datasets import DATASETS

    t, d = arm["train"], arm["data"]
    if limits.epochs is not None and t["epochs"] > limits.epochs:
        raise ConfigError(f"[train] epochs: {t['epochs']:,} is more than the limit of {limits.epochs:,}; {LIFT}")
    n = d.get("n_samples")
    if limits.samples is not None and _whole(n) and n > limits.samples:
        raise ConfigError(f"[data] n_samples: {n:,} is more than the limit of {limits.samples:,}; {LIFT}")
    info = DATASETS.get(d["dataset"]) if isinstance(d["dataset"], str) else None
    params = n_params(arm, info)
    if limits.params is not None and params > limits.params:
        raise ConfigError(f"[model] hidden: a model of {params:,} parameters is more than the limit of "
                          f"{limits.params:,}; {LIFT}")


# (training samples, features, outputs) of the bundled sets; a CSV file is measured (core.data.csvshape);
# generated sets are guessed from their sample count with at most 64 features, the widest bundled set.
_SHAPES = {"digits": (1797, 64, 10), "breast_cancer": (569, 30, 2), "wine": (178, 13, 3), "iris": (150, 4, 3),
           "diabetes": (442, 10, 1), "neuron": (1, 1, 1)}
_GUESS_FEATURES = 64
_GUESS_SAMPLES = 20_000


def _shape(arm: dict[str, Any], info: Any) -> tuple[int, int, int]:
    """(samples, features, outputs) of an arm's data: exact for bundled sets, an upper guess otherwise."""
    name = arm["data"]["dataset"]
    if name in _SHAPES:
        return _SHAPES[name]
    if isinstance(name, str) and name.startswith("csv:"):
        from lossdb.core.data.csvshape import csv_shape

        real = csv_shape(name[len("csv:"):])
        if real is not None:  # the file's own rows and columns (its target is one of them)
            return real.rows, max(1, real.columns - 1), 10 if info is None else max(1, info.n_classes)
    n = arm["data"].get("n_samples") or (info.n_samples if info is not None else None) or _GUESS_SAMPLES
    outputs = max(1, info.n_classes) if info is not None else 10
    return int(n), _GUESS_FEATURES if info is None else 10, outputs


def n_params(arm: dict[str, Any], info: Any) -> int:
    """Parameters of one model of the arm (weights and biases of every layer)."""
    _, features, outputs = _shape(arm, info)
    widths = [features, *arm["model"]["hidden"], outputs]
    return sum(widths[i] * widths[i + 1] + widths[i + 1] for i in range(len(widths) - 1))


def stack_bytes(arm: dict[str, Any], k: int) -> int:
    """Estimated peak memory of training `k` models of this arm's shape as one stack: parameters,
    gradients and two optimiser buffers, every model's copy of the data, and each layer's activations."""
    from lossdb.core.data.datasets import DATASETS

    info = DATASETS.get(arm["data"]["dataset"]) if isinstance(arm["data"]["dataset"], str) else None
    samples, features, outputs = _shape(arm, info)
    item = 8 if arm["train"]["dtype"] == "float64" else 4
    width = sum(arm["model"]["hidden"]) + outputs
    per_model = 4 * n_params(arm, info) + samples * (features + outputs) + 3 * samples * width
    return k * per_model * item


def check_stacks(stacks: Sequence[tuple[dict[str, Any], int]], limits: Limits) -> None:
    """Refuse a stack (an arm and how many models train with it at once) estimated to need too much memory."""
    if limits.stack_bytes is None:
        return
    for arm, k in stacks:
        need = stack_bytes(arm, k)
        if need > limits.stack_bytes:
            raise ConfigError(
                f"experiment {arm['experiment']!r} would train {k:,} models of {arm['data']['dataset']} at once in "
                f"an estimated {_size(need)} of memory, more than the limit of {_size(limits.stack_bytes)}: "
                f"use fewer seeds or smaller layers, or {LIFT}")


def check_task(arm: dict[str, Any]) -> None:
    """Refuse a head that cannot fit a built-in regression dataset's targets (CSV files are checked once read)."""
    from lossdb.core.data.datasets import DATASETS

    info = DATASETS.get(arm["data"]["dataset"]) if isinstance(arm["data"]["dataset"], str) else None
    if info is not None:
        check_head(arm["head"], info.task, repr(info.name))


def check_head(head: str, task: str, dataset: str) -> None:
    """Refuse a head that cannot fit the dataset's task."""
    if task == "regression" and head not in REGRESSION_HEADS:
        raise ConfigError(f"[arms] head: {dataset} is a regression dataset, which head {head!r} cannot fit; "
                          f"valid: {', '.join(REGRESSION_HEADS)}")


def check_run_ids(ids: Sequence[int]) -> None:
    """Refuse run ids that no database can hold (ids are positive 64-bit integers)."""
    bad = [i for i in ids if not 1 <= i <= MAX_RUN_ID]
    if bad:
        raise ConfigError(f"no run can have id {bad[0]}: run ids are whole numbers from 1 to {MAX_RUN_ID}; "
                          "`lossdb runs` lists the stored ones")
