"""Pure analysis of stored runs: tidy frames, curve aggregates, derived measures, paired estimates.

Shared by the CLI, the dashboard and the reports; nothing here prints or draws.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from core.experiments import default_label

if TYPE_CHECKING:
    from core.store import RunRecord, Store

# Config keys that make an arm, not a condition: the loss and everything tied to it, lr and seed.
ARM_ONLY = frozenset({"experiment", "loss", "head", "label", "class_weights", "gamma", "q", "delta",
                      "alpha", "lr", "seed"})
RUN_COLUMNS = ("id", "experiment", "dataset", "loss", "head", "label", "arm", "lr", "seed", "status",
               "condition", "epochs", "diverged_epoch", "wall_seconds", "config")
CURVE_STATS = ("mean", "sd", "min", "max", "ci_low", "ci_high", "n")


@dataclass(frozen=True)
class Estimate:
    """A paired effect with its confidence interval: a mean difference, or a ratio when `ratio`."""

    effect: float
    ci_low: float
    ci_high: float
    n: int
    method: str
    ratio: bool

    @property
    def degenerate(self) -> bool:
        """True when the interval is the point itself (no variation between the pairs)."""
        return self.n > 0 and self.ci_low == self.ci_high == self.effect


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


def condition_strings(configs: Sequence[dict[str, Any]]) -> list[str]:
    """A short readable condition per config: dataset first, then every setting that varies
    between the configs (of one experiment), except the arm's own (loss, head, its parameters, lr)."""
    flats = [flat_config(c) for c in configs]
    keys: list[str] = []
    for flat in flats:
        keys += [k for k in flat if k not in keys and k not in ARM_ONLY and k != "dataset"]
    varying = [k for k in keys if len({_hashable(f.get(k)) for f in flats}) > 1]
    out = []
    for flat in flats:
        parts = [f"dataset={flat.get('dataset', '?')}"]
        parts += [f"{k}={_short(flat.get(k))}" for k in varying]
        out.append(", ".join(parts))
    return out


def runs_frame(store: Store, experiments: list[str] | None = None,
               records: list[RunRecord] | None = None) -> pd.DataFrame:
    """One row per stored run: id, experiment, dataset, loss, head, label (display name), arm (the
    default label, stable for matching), lr, seed, status, condition, epochs, diverged_epoch,
    wall_seconds, config (dict), then one column per final metric value."""
    if records is None:
        records = store.list_runs() if experiments is None else \
            [r for name in experiments for r in store.list_runs(experiment=name)]
    rows = []
    for r in records:
        cfg = r.config or {}
        rows.append({"id": r.id, "experiment": r.experiment, "dataset": r.dataset, "loss": r.loss,
                     "head": r.head, "label": cfg.get("label") or default_label(_arm_of(r.loss, r.head, cfg)),
                     "arm": default_label(_arm_of(r.loss, r.head, cfg)), "lr": float(r.lr),
                     "seed": int(r.seed), "status": r.status, "condition": "", "epochs": int(r.epochs),
                     "diverged_epoch": r.diverged_epoch, "wall_seconds": r.wall_seconds, "config": cfg,
                     **r.summary})
    frame = pd.DataFrame(rows, columns=None if rows else list(RUN_COLUMNS))
    for col in RUN_COLUMNS:
        if col not in frame:
            frame[col] = pd.Series(dtype=object)
    for _, idx in frame.groupby("experiment").groups.items():
        frame.loc[idx, "condition"] = condition_strings(list(frame.loc[idx, "config"]))
    metric_cols = sorted(c for c in frame.columns if c not in RUN_COLUMNS)
    return frame[list(RUN_COLUMNS) + metric_cols].reset_index(drop=True)


def _arm_of(loss: str, head: str, cfg: dict[str, Any]) -> dict[str, Any]:
    arm = {k: cfg[k] for k in ("gamma", "q", "delta", "alpha", "class_weights") if k in cfg}
    return {"loss": loss, "head": head, **arm}


def curves(store: Store, run_ids: Iterable[int], metric: str) -> pd.DataFrame:
    """The per-epoch series of one metric: columns run_id, epoch, value (NaN and ±inf kept)."""
    frame = store.metrics_frame([int(i) for i in run_ids], [metric])
    return frame[["run_id", "epoch", "value"]].reset_index(drop=True)


def t_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the Student-t interval of the mean of values (k,); NaN when k < 2."""
    v = np.asarray(values, dtype=np.float64)
    n = v.size
    mean = float(v.mean()) if n else math.nan
    if n < 2:
        return mean, math.nan, math.nan
    half = t_quantile(confidence, n - 1) * float(v.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


@lru_cache(maxsize=1024)
def t_quantile(confidence: float, df: int) -> float:
    """The two-sided Student-t critical value for `confidence` with `df` degrees of freedom."""
    return float(stdtrit(df, 0.5 + confidence / 2))  # Student-t quantile; scipy.stats costs 0.4 s to import


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


def paired(a: np.ndarray, b: np.ndarray, *, ratio: bool = False, confidence: float = 0.95,
           seed: int = 0, method: str = "t", deterministic: bool = False) -> Estimate:
    """The paired effect of a over b on the same seeds (a_i, b_i), (n,) each, with a CI.

    effect = mean(a − b), or with `ratio` the geometric mean of a/b (computed on the log scale, so
    pairs need positive values). Pairs with a non-finite value (or a non-positive one for a ratio)
    are left out; n counts the pairs used. method "t" is Student-t on the differences (exact
    coverage for normal differences at any n); "bca" is scipy's BCa bootstrap seeded by `seed`.
    Differences without variation give the point as the interval; a single pair gives an infinite
    interval unless `deterministic` says the measurement cannot vary (then the point again)."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"paired samples need equal shapes, got {x.shape} and {y.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log(x) - np.log(y) if ratio else x - y
    d = d[np.isfinite(d)]
    n = int(d.size)
    back = np.exp if ratio else (lambda v: v)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, "no pairs", ratio)
    mean = float(d.mean())
    if np.all(d == d[0]) and (n > 1 or deterministic):
        point = float(back(mean))
        return Estimate(point, point, point, n, "deterministic" if deterministic else "no variation", ratio)
    if n == 1:
        lo, hi = (0.0, math.inf) if ratio else (-math.inf, math.inf)
        return Estimate(float(back(mean)), lo, hi, 1, "single pair", ratio)
    if method == "bca":
        from scipy import stats

        res = stats.bootstrap((d,), np.mean, confidence_level=confidence, method="BCa",
                              rng=np.random.default_rng(seed))
        low, high = res.confidence_interval
        label = "BCa bootstrap"
    elif method == "t":
        _, low, high = t_interval(d, confidence)
        label = "paired t"
    else:
        raise ValueError(f"method must be 't' or 'bca', got {method!r}")
    return Estimate(float(back(mean)), float(back(low)), float(back(high)), n, label, ratio)


def select_lr(runs: pd.DataFrame, metric: str = "val_accuracy", mode: str = "max",
              by: str = "label") -> dict[str, float]:
    """Each arm's best learning rate on a validation metric (never test): the lr whose final-epoch
    value, averaged over seeds, is best. A run that diverged or left no finite value counts as the
    worst possible, so a rate that diverges on any seed loses; ties go to the smaller rate."""
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    if metric not in runs or runs.empty:
        return {}
    worst = -math.inf if mode == "max" else math.inf
    values = runs[metric].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (runs["status"].to_numpy() != "finished")
    scored = runs.assign(_score=np.where(bad, worst, values))
    out: dict[str, float] = {}
    for arm, sub in scored.groupby(by, sort=True):
        means = sub.groupby("lr")["_score"].mean()
        best = means.max() if mode == "max" else means.min()
        out[str(arm)] = float(min(lr for lr, v in means.items() if v == best))
    return out
