"""The runs frame: stored runs as one tidy frame (arm, condition, status), their curves across seeds,
and the per-curve measures judging reads (epochs to a threshold, area under, best epoch).

Shared by judging, the CLI, the dashboard and the reports; nothing here prints, draws or judges.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lossdb.core.analysis.engines import current_engine
from lossdb.core.experiments.arms import Arm

if TYPE_CHECKING:
    from lossdb.core.store import RunRecord, Store

# Config keys that make an arm, not a condition: the loss and everything tied to it, lr and seed.
ARM_ONLY = frozenset({"experiment", "loss", "head", "label", "class_weights", "gamma", "q", "delta",
                      "alpha", "lr", "seed"})
RUN_COLUMNS = ("id", "experiment", "dataset", "loss", "head", "label", "arm", "arm_spec", "lr", "seed",
               "status", "condition", "condition_keys", "epochs", "diverged_epoch", "wall_seconds", "config")
CURVE_STATS = ("mean", "sd", "min", "max", "ci_low", "ci_high", "n")


def flat_config(config: dict[str, Any]) -> dict[str, Any]:
    """A run's config with its data/model/train sections flattened to short keys (first wins)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                out.setdefault(sub, inner)
        else:
            out.setdefault(key, value)
    return out


def _short(value: Any) -> str:
    if isinstance(value, list | tuple):
        return _short(value[0]) if len(value) == 1 else "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value


def conditions(configs: Sequence[dict[str, Any]]) -> list[tuple[tuple[str, Any], ...]]:
    """The condition of each config as (key, value) pairs: dataset first, then every setting that
    varies between the configs (of one experiment), except the arm's own (loss, head, its
    parameters, lr). Values are hashable (lists become tuples)."""
    flats = [flat_config(c) for c in configs]
    keys: list[str] = []
    for flat in flats:
        keys += [k for k in flat if k not in keys and k not in ARM_ONLY and k != "dataset"]
    varying = [k for k in keys if len({_hashable(f.get(k)) for f in flats}) > 1]
    return [(("dataset", flat.get("dataset", "?")), *((k, _tuple(flat.get(k))) for k in varying))
            for flat in flats]


def condition_label(keys: Sequence[tuple[str, Any]], names: dict[str, str] | None = None) -> str:
    """"dataset=digits, init=glorot": how a condition is shown (never parsed back); a CSV is shown by
    its one name (`names`, core.experiments.retarget.data_names), never by its path."""
    from lossdb.core.experiments.retarget import data_name

    def shown(k: str, v: Any) -> str:
        if k == "dataset" and isinstance(v, str):
            return (names or {}).get(v) or data_name(v)
        return _short(v)

    return ", ".join(f"{k}={shown(k, v)}" for k, v in keys)


def _tuple(value: Any) -> Any:
    return tuple(_tuple(v) for v in value) if isinstance(value, list | tuple) else value


def _distinguish_labels(rows: list[dict[str, Any]]) -> None:
    """Arms of one experiment that share loss and head but carry different labels (ce at its own
    rate as "fast" and as "slow") are different arms: their `arm` becomes the label, so judging
    pairs them by seed instead of taking them for one arm at two rates."""
    labels: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        labels.setdefault((row["experiment"], row["arm"]), set()).add(row["label"])
    for row in rows:
        if len(labels[(row["experiment"], row["arm"])]) > 1:
            row["arm"] = row["label"]


def runs_frame(store: Store, experiments: list[str] | None = None,
               records: list[RunRecord] | None = None) -> pd.DataFrame:
    """One row per stored run of the current engine (core.analysis.engines; the others are set aside):
    id, experiment, dataset, loss, head, label (display name), arm (the default label, stable for
    matching), lr, seed, status, condition, epochs, diverged_epoch, wall_seconds, config (dict),
    then one column per final metric value."""
    if records is None:
        records = store.list_runs(extras=False) if experiments is None else \
            [r for name in experiments for r in store.list_runs(experiment=name, extras=False)]
    records = [r for r in records if current_engine(r.engine_version)]
    rows = []
    arms: dict[tuple[str, str], Arm] = {}  # one Arm per experiment and arm hash (runs differ by seed)
    for r in records:
        cfg = r.config or {}
        arm = arms.get((r.experiment, r.arm_hash))
        if arm is None:
            arm = arms[(r.experiment, r.arm_hash)] = Arm.of(cfg, r.loss, r.head)
        rows.append({"id": r.id, "experiment": r.experiment, "dataset": r.dataset, "loss": r.loss,
                     "head": r.head, "label": arm.label, "arm": arm.default_label, "arm_spec": arm,
                     "lr": float(r.lr), "seed": int(r.seed), "status": r.status, "condition": "",
                     "condition_keys": (), "epochs": int(r.epochs), "diverged_epoch": r.diverged_epoch,
                     "wall_seconds": r.wall_seconds, "config": cfg, **r.summary})
    _distinguish_labels(rows)
    frame = pd.DataFrame(rows, columns=None if rows else list(RUN_COLUMNS))
    for col in RUN_COLUMNS:
        if col not in frame:
            frame[col] = pd.Series(dtype=object)
    keys_of: list[Any] = [()] * len(frame)
    configs = frame["config"].tolist()
    hashes = [r.arm_hash for r in records]
    for _, idx in frame.groupby("experiment").indices.items():
        # a condition is a property of the arm's settings: work it out once per arm, not per seed
        first: dict[str, int] = {}
        for i in idx:
            first.setdefault(hashes[i], i)
        of_arm = dict(zip(first, conditions([configs[i] for i in first.values()]), strict=True))
        for i in idx:
            keys_of[i] = of_arm[hashes[i]]
    _split_backends(records, frame, keys_of)
    frame["condition_keys"] = pd.Series(keys_of, index=frame.index, dtype=object)
    from lossdb.core.experiments.retarget import data_names

    names = data_names({r.dataset for r in records})
    frame["condition"] = [condition_label(k, names) if k else "" for k in keys_of]
    metric_cols = sorted(c for c in frame.columns if c not in RUN_COLUMNS)
    return frame[list(RUN_COLUMNS) + metric_cols].reset_index(drop=True)


def _split_backends(records: list[RunRecord], frame: pd.DataFrame, keys_of: list[Any]) -> None:
    """Where an experiment holds runs of several array backends (engine versions "3", "3+torch-cuda"),
    the backend becomes part of each run's condition, so no verdict pairs runs of different backends."""
    backends = [(getattr(r, "engine_version", "") or "").partition("+")[2] or "numpy" for r in records]
    for _, idx in frame.groupby("experiment").indices.items():
        if len({backends[i] for i in idx}) > 1:
            for i in idx:
                keys_of[i] = (*keys_of[i], ("backend", backends[i]))


def kept_runs_frame(store: Store, fingerprint: str | None = None) -> pd.DataFrame:
    """`runs_frame` of the whole store, kept by core.cache until the database changes (at
    118 k runs: 13.5 s to compute, about 2.5 s of CPU to read back as JSON); `fingerprint`: the store state the caller
    expects (the frame is kept on disk only if it was read at that state)."""
    from lossdb.core import cache as verdictcache

    return verdictcache.cached(store, ("runs_frame",), lambda: runs_frame(store),
                               expect=verdictcache.one(pd.DataFrame), types=(Arm,), fingerprint=fingerprint)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as plain dicts, like to_dict("records") at a fraction of its cost (column
    lists are converted to Python objects once, not value by value)."""
    columns = list(frame.columns)
    return [dict(zip(columns, row, strict=True)) for row in zip(*(frame[c].tolist() for c in columns), strict=True)]


def curves(store: Store, run_ids: Iterable[int], metric: str) -> pd.DataFrame:
    """The per-epoch series of one metric: columns run_id, epoch, value (NaN and ±inf kept)."""
    frame = store.metrics_frame([int(i) for i in run_ids], [metric])
    return frame[["run_id", "epoch", "value"]].reset_index(drop=True)


@lru_cache(maxsize=1024)
def t_quantile(confidence: float, df: int) -> float:
    """The two-sided Student-t critical value for `confidence` with `df` degrees of freedom."""
    # scipy.special costs ~0.15 s to import: only when a band is drawn
    from scipy.special import stdtrit

    return float(stdtrit(df, 0.5 + confidence / 2))  # the Student-t quantile


def aggregate_curves(runs: pd.DataFrame, curves: pd.DataFrame, by: Sequence[str] = ("label", "lr"),
                     confidence: float = 0.95) -> pd.DataFrame:
    """Per group of runs (`by`, columns of `runs`) and epoch, across seeds: mean, sd, min, max and the
    Student-t CI of the mean (ci_low, ci_high) of the finite values, and their count n.

    A diverged run stops contributing after its last finite value, so n can fall with the epoch."""
    keys = list(by)
    merged = curves.merge(runs[["id", *keys]], left_on="run_id", right_on="id", how="inner")
    merged = merged[np.isfinite(merged["value"].to_numpy(dtype=np.float64))]
    out = (merged.groupby([*keys, "epoch"], sort=True, dropna=False)["value"]
           .agg(mean="mean", sd="std", min="min", max="max", n="count").reset_index())
    n = out["n"].to_numpy(dtype=np.int64)
    q = np.array([t_quantile(confidence, int(k) - 1) if k > 1 else math.nan for k in n], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = q * out["sd"].to_numpy(dtype=np.float64) / np.sqrt(n)
    out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half
    out["n"] = n.astype(int)
    return out[[*keys, "epoch", *CURVE_STATS]].reset_index(drop=True)


def epochs_to(curve: np.ndarray, threshold: float, *, below: bool = False) -> float:
    """The first epoch whose value is ≥ threshold (≤ with `below`); inf if the curve (E+1,) never gets there."""
    c = np.asarray(curve, dtype=np.float64)
    hit = np.flatnonzero(c <= threshold if below else c >= threshold)
    return float(hit[0]) if hit.size else math.inf


def area_under(curve: np.ndarray, epochs: int | None = None) -> float:
    """The normalised area under a curve (E+1,): the mean over epochs. A curve shorter than
    epochs + 1 (a run that diverged) is padded with its last value."""
    c = np.asarray(curve, dtype=np.float64)
    if c.size == 0:
        return math.nan
    if epochs is not None and c.size < epochs + 1:
        c = np.concatenate([c, np.full(epochs + 1 - c.size, c[-1])])
    return float(c.mean())


def best_epoch(curve: np.ndarray, mode: str = "max") -> int:
    """The first epoch with the best finite value of a curve (E+1,): highest for "max", lowest for "min"."""
    c = np.asarray(curve, dtype=np.float64)
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    finite = np.isfinite(c)
    if not finite.any():
        return 0
    masked = np.where(finite, c, -np.inf if mode == "max" else np.inf)
    return int(np.argmax(masked) if mode == "max" else np.argmin(masked))
