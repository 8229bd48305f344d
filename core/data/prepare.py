"""Prepare a dataset for training: load, split, corrupt the training split, scale the features.

Randomness: every step draws from its own stream of the run's seed, so changing one option
(say label_noise) never changes the split or the generated samples. Splits, per-class counts and
training-set sizes depend on the spec only, never on the seed, so models of different seeds stack.

The held-out test split. A fixed pool (a bundled set such as digits or iris, or a CSV file) keeps
one test split: its rows are drawn (stratified for classes) from a stream that no run's seed
reaches (`held_out_rng`), so they are the same for every seed, arm and experiment on that data (for
one test_size), and each seed draws its validation and training rows from the other rows only. No
seed therefore trains or validates on a row another seed is measured on: the seeds that choose a
learning rate (core.judging.lrchoice, cross-fitted) never see the measured seeds' test rows. A
generated set (moons, friedman1, ...) is drawn afresh from each seed's own stream, so one seed's
samples are independent draws from the other seeds'; its split stays with the seed (`split_rows`).

Corruptions (training split only, in this order):
- imbalance r: the minority class keeps ceil(m / r) of its training samples, where m is the mean
  training count of the other classes (never more than it has, at least 1); the others keep all.
- label_noise p: exactly round(p · n_train) (Python's round, halves to even) training labels, chosen uniformly without
  replacement, each moved to a uniformly chosen different class.
- outliers p: exactly round(p · n_train) training targets, chosen uniformly without replacement,
  become mean ± 10 sd of the clean training targets (per column, one random sign per sample).
- feature_outliers p (classification; after scaling): exactly round(p · n_train) training rows move to
  one far point (every feature ±10 scaled units, random signs), labelled with the class whose clean
  mean lies farthest from it.
`y_train_clean` holds the training labels or targets before label noise or outliers (after the
imbalance subsampling, so it lines up with `y_train`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from lossdb.core.data.datasets import CSV_PREFIX, DATASETS, NOISE_DISTS, Dataset, Raw, dataset_names, load_csv
from lossdb.core import realnumber
from lossdb.core.errors import DataError

__all__ = ["DATASETS", "DataSpec", "Prepared", "TargetScaler", "csv_facts", "csv_raw", "dataset_names",
           "fit_target_scaler", "held_out_rng", "prepare", "split_rows", "task_of", "validate_spec"]

STREAM_DATA = 0  # core.engine.train draws its streams 1, 2, ... from the same seed
_SUBSTREAMS = {"generate": 0, "split": 1, "imbalance": 2, "label_noise": 3, "outliers": 4, "feature_outliers": 5,
               "held_out": 6}
# The held-out test split is substream "held_out" of this fixed data seed: `_rng` never asks any
# seed for that substream, so no run's own streams coincide with it.
HELD_OUT_SEED = 0
OUTLIER_SDS = 10.0
TASKS = ("classification", "regression", "auto")
MIN_TRAIN_PER_CLASS = 2  # fewer and a class can hardly be learnt (nor flipped, nor subsampled)
# standard: z-scores; minmax: each column to [0, 1] on the training rows; none: as loaded.
FEATURE_SCALINGS = ("standard", "minmax", "none")
_TINY_SD = 1e-12  # a column whose sd is below this (relative to its mean) counts as constant


@dataclass(frozen=True)
class DataSpec:
    """Which data a run trains on, how it is split and how its training split is corrupted."""

    dataset: str
    test_size: float = 0.2
    val_size: float = 0.2
    n_samples: int | None = None
    noise: float | None = None
    noise_dist: str = "gaussian"
    label_noise: float = 0.0
    outliers: float = 0.0
    feature_outliers: float = 0.0  # classification: share of training rows made far, mislabelled points
    imbalance: float = 1.0
    minority_class: int | None = None
    target: str = "target"
    task: str = "auto"
    drop_missing: bool = False  # CSV only: drop rows with a missing value instead of refusing them
    x: float = 1.0
    y: float = 0.0
    scale: str = "standard"  # input features: "standard", "minmax" or "none" (fitted on training rows)


@dataclass(frozen=True, eq=False)
class Prepared:
    """Split, corrupted and standardised data: X (n, d); y int64 (n,) or float (n, n_outputs)."""

    task: str
    n_classes: int
    n_features: int
    n_outputs: int
    X_train: np.ndarray
    X_val: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    y_test: np.ndarray
    y_train_clean: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]


# ---------------------------------------------------------------- validation


def validate_spec(spec: DataSpec) -> None:
    """Raise DataError if a value is out of range, unknown, or does not apply to the dataset."""
    info = _dataset_info(spec.dataset)
    _check_ranges(spec)
    _check_choices(spec)
    _check_applicable(spec, info)
    if info is not None:
        _check_task_options(spec, info.task, info.n_classes, _source(spec))


def _dataset_info(name: object) -> Dataset | None:
    """The registry entry, or None for a CSV file."""
    valid = ", ".join(dataset_names())
    if not isinstance(name, str):
        raise DataError(f"dataset must be a name (text), got {name!r}; valid: {valid}.")
    if name.startswith(CSV_PREFIX):
        if not name[len(CSV_PREFIX):].strip():
            raise DataError(f"dataset {name!r} has no path after 'csv:'; write csv:path/to/file.csv.")
        return None
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; valid: {valid}.")
    return DATASETS[name]


def _check_ranges(spec: DataSpec) -> None:
    _number("test_size", spec.test_size, 0.0, 1.0, "strictly between 0 and 1", open_low=True,
            open_high=True)
    _number("val_size", spec.val_size, 0.0, 1.0, "strictly between 0 and 1", open_low=True,
            open_high=True)
    _number("label_noise", spec.label_noise, 0.0, 1.0, "between 0 and 1")
    _number("outliers", spec.outliers, 0.0, 1.0, "between 0 and 1")
    _number("feature_outliers", spec.feature_outliers, 0.0, 0.5, "between 0 and 0.5")
    _number("imbalance", spec.imbalance, 1.0, math.inf, "at least 1 (1 leaves the data as is)",
            open_high=True)
    _number("x", spec.x, -math.inf, math.inf, "a finite number", open_low=True, open_high=True)
    _number("y", spec.y, -math.inf, math.inf, "a finite number", open_low=True, open_high=True)
    if spec.noise is not None:
        _number("noise", spec.noise, 0.0, math.inf, "a finite number ≥ 0", open_high=True)
    if spec.n_samples is not None and not (_is_int(spec.n_samples) and spec.n_samples >= 1):
        raise DataError(f"n_samples must be a whole number ≥ 1, got {spec.n_samples!r}.")
    if spec.minority_class is not None and not _is_int(spec.minority_class):
        raise DataError(f"minority_class must be a class index (0, 1, …), got {spec.minority_class!r}.")


def _number(name: str, value: object, lo: float, hi: float, valid: str,
            open_low: bool = False, open_high: bool = False) -> None:
    if not realnumber.within(value, lo, hi, open_low=open_low, open_high=open_high):
        raise DataError(f"{name} must be {valid}, got {value!r}.")


_is_int = realnumber.whole


def _check_choices(spec: DataSpec) -> None:
    if spec.noise_dist not in NOISE_DISTS:
        raise DataError(f"noise_dist must be one of {', '.join(NOISE_DISTS)}, got {spec.noise_dist!r}.")
    if spec.scale not in FEATURE_SCALINGS:
        raise DataError(f"scale must be one of {', '.join(map(repr, FEATURE_SCALINGS))}, "
                        f"got {spec.scale!r}.")
    if spec.task not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, got {spec.task!r}.")
    if not isinstance(spec.target, str) or not spec.target:
        raise DataError(f"target must be the name of a CSV column, got {spec.target!r}.")
    if not isinstance(spec.drop_missing, bool):
        raise DataError(f"drop_missing must be true or false, got {spec.drop_missing!r}.")


def _check_applicable(spec: DataSpec, info: Dataset | None) -> None:
    kind = "csv" if info is None else info.kind
    name = spec.dataset
    generated = ", ".join(n for n, d in DATASETS.items() if d.kind == "generated")
    noisy = ", ".join(n for n, d in DATASETS.items()
                      if d.kind == "generated" and d.task == "regression")
    rules = [
        (spec.n_samples is not None and kind != "generated",
         f"n_samples applies to generated datasets only ({generated}), not to {name!r}"),
        (spec.noise is not None and kind != "generated",
         f"noise applies to generated datasets only ({generated}), not to {name!r}"),
        (spec.noise_dist != "gaussian" and not (kind == "generated" and info.task == "regression"),
         f"noise_dist applies to generated regression datasets only ({noisy}), not to {name!r}"),
        ((spec.target != "target" or spec.task != "auto") and kind != "csv",
         f"target and task apply to csv:PATH datasets only, not to {name!r}"),
        (spec.drop_missing and kind != "csv",
         f"drop_missing applies to csv:PATH datasets only, not to {name!r}"),
        ((spec.x != 1.0 or spec.y != 0.0) and kind != "neuron",
         f"x and y apply to the 'neuron' dataset only, not to {name!r}"),
        (spec.scale != "standard" and kind == "neuron",
         "scale does not apply to the one-sample 'neuron' dataset, which is never scaled; leave "
         "scale out"),
        (spec.outliers > 0 and kind == "neuron",
         "outliers do not apply to the one-sample 'neuron' dataset; leave outliers at 0"),
    ]
    for broken, message in rules:
        if broken:
            raise DataError(message + ".")


def _check_task_options(spec: DataSpec, task: str, n_classes: int, source: str) -> None:
    """Corruptions must suit the task: label noise and imbalance need classes, outliers targets."""
    if task == "regression":
        for name, value, default in (("label_noise", spec.label_noise, 0.0),
                                     ("feature_outliers", spec.feature_outliers, 0.0),
                                     ("imbalance", spec.imbalance, 1.0),
                                     ("minority_class", spec.minority_class, None)):
            if value != default:
                raise DataError(f"{name} applies to classification only, but {source} is a "
                                f"regression set; use outliers to corrupt regression targets.")
        return
    if spec.outliers > 0:
        raise DataError(f"outliers apply to regression targets only, but {source} is a "
                        f"classification set; use label_noise to corrupt class labels.")
    m = spec.minority_class
    if m is not None and not 0 <= m < n_classes:
        raise DataError(f"minority_class must be a class index from 0 to {n_classes - 1} for "
                        f"{source}, got {m}.")


def _source(spec: DataSpec) -> str:
    if spec.dataset.startswith(CSV_PREFIX):
        return f"CSV file {spec.dataset[len(CSV_PREFIX):]!r}"
    return f"dataset {spec.dataset!r}"


# ---------------------------------------------------------------- prepare


def prepare(spec: DataSpec, seed: int, dtype: DTypeLike = np.float32) -> Prepared:
    """Load, split (test, then validation), corrupt the training split and scale the features (spec.scale)."""
    validate_spec(spec)
    if not (_is_int(seed) and seed >= 0):
        raise DataError(f"seed must be a whole number ≥ 0, got {seed!r}.")
    dt = _float_dtype(dtype)
    if spec.dataset == "neuron":
        return _neuron(spec, dt)
    raw = _load(spec, int(seed))
    if spec.dataset.startswith(CSV_PREFIX):  # its task is known only now
        _check_task_options(spec, raw.task, raw.n_classes, _source(spec))
    train, val, test = _split(raw, spec, int(seed))
    train = _imbalance(train, raw, spec, _rng(seed, "imbalance"))
    clean = raw.y[train]
    if raw.task == "classification":
        y_train = flip_labels(clean, spec.label_noise, raw.n_classes, _rng(seed, "label_noise"))
    else:
        y_train = add_outliers(clean, spec.outliers, _rng(seed, "outliers"))
    out = _assemble(raw, (train, val, test), y_train, clean, dt, spec.scale)
    if spec.feature_outliers > 0:
        out = far_points(out, spec.feature_outliers, _rng(seed, "feature_outliers"))
    return out


def _float_dtype(dtype: DTypeLike) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise DataError(f"dtype must be float32 or float64, got {dtype!r}.")
    return dt


def _rng(seed: int, purpose: str) -> np.random.Generator:
    """The data stream of `seed` reserved for one purpose (generate, split, a corruption)."""
    ss = np.random.SeedSequence([int(seed), STREAM_DATA], spawn_key=(_SUBSTREAMS[purpose],))
    return np.random.default_rng(ss)


def held_out_rng() -> np.random.Generator:
    """The stream a fixed pool's test rows are drawn from: the same for every run, whatever its seed."""
    ss = np.random.SeedSequence([HELD_OUT_SEED, STREAM_DATA], spawn_key=(_SUBSTREAMS["held_out"],))
    return np.random.default_rng(ss)


def _fresh_per_seed(spec: DataSpec) -> bool:
    """Whether the dataset is generated anew from each seed (not a fixed pool of rows)."""
    info = DATASETS.get(spec.dataset)
    return info is not None and info.kind == "generated"


def _split(raw: Raw, spec: DataSpec, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, validation and test rows of `raw` for `seed`: a fixed pool's test rows are its
    held-out split; a generated set's whole split comes from the seed's "split" stream."""
    held_out = None if _fresh_per_seed(spec) else held_out_rng()
    return split_indices(raw, spec.test_size, spec.val_size, _rng(seed, "split"), _source(spec),
                         held_out=held_out)


def split_rows(spec: DataSpec, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The train, validation and test row indices (into the unsplit set, before any corruption)
    that `prepare(spec, seed)` uses; for a fixed pool the test rows are the same for every seed."""
    validate_spec(spec)
    if not (_is_int(seed) and seed >= 0):
        raise DataError(f"seed must be a whole number ≥ 0, got {seed!r}.")
    if spec.dataset == "neuron":
        raise DataError("the one-sample 'neuron' dataset is not split: its one row is train, "
                        "validation and test alike.")
    return _split(_load(spec, int(seed)), spec, int(seed))


def _load(spec: DataSpec, seed: int) -> Raw:
    if spec.dataset.startswith(CSV_PREFIX):
        return csv_raw(spec)
    info = DATASETS[spec.dataset]
    if info.kind == "bundled":
        return info.build()
    n = info.n_samples if spec.n_samples is None else int(spec.n_samples)
    noise = info.noise if spec.noise is None else float(spec.noise)
    return info.build(n, noise, spec.noise_dist, _rng(seed, "generate"))


def csv_raw(spec: DataSpec) -> Raw:
    """The whole (unsplit) set of a csv:PATH spec, read again only when the file changes."""
    path = spec.dataset[len(CSV_PREFIX):].strip()
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None  # load_csv says why the file cannot be read
    return _cached_csv(path, spec.target, spec.task, bool(spec.drop_missing), stamp)


def csv_facts(spec: DataSpec) -> dict[str, Any]:
    """What the store keeps about a csv:PATH set so reports can name it: target, task, class
    names (the labels as written in the file), features, rows used and data rows dropped."""
    raw = csv_raw(spec)
    return {"target": spec.target, "task": raw.task, "classes": list(raw.class_names),
            "features": list(raw.feature_names), "rows": len(raw.y), "dropped_rows": list(raw.dropped)}


def task_of(spec: DataSpec) -> str:
    """"classification" or "regression": from the registry, or from the CSV file itself."""
    validate_spec(spec)
    if spec.dataset.startswith(CSV_PREFIX):
        return csv_raw(spec).task
    return DATASETS[spec.dataset].task


@lru_cache(maxsize=8)
def _cached_csv(path: str, target: str, task: str, drop_missing: bool,
                stamp: tuple[int, int] | None) -> Raw:
    # prepare runs once per seed; the file is read again only when it changes (stamp)
    raw = load_csv(path, target, task, drop_missing)
    raw.X.setflags(write=False)
    raw.y.setflags(write=False)
    return raw


def _neuron(spec: DataSpec, dtype: np.dtype) -> Prepared:
    """One sample, used as train, validation and test, unstandardised."""
    X = np.array([[spec.x]], dtype=dtype)
    y = np.array([[spec.y]], dtype=dtype)
    return Prepared("regression", 0, 1, 1, X, X.copy(), X.copy(), y, y.copy(), y.copy(), y.copy(),
                    ("x",), ())


def _assemble(raw: Raw, parts: tuple[np.ndarray, ...], y_train: np.ndarray, clean: np.ndarray,
              dtype: np.dtype, scale: str = "standard") -> Prepared:
    train, val, test = parts
    shift, spread = _feature_scaling(scale, raw.X[train])
    X = [((raw.X[i] - shift) / spread).astype(dtype) for i in parts]
    ys = [y_train, raw.y[val], raw.y[test], clean]
    ys = [y.astype(np.int64 if raw.task == "classification" else dtype) for y in ys]
    n_out = raw.n_classes if raw.task == "classification" else raw.y.shape[1]
    return Prepared(raw.task, raw.n_classes, raw.X.shape[1], n_out, *X, *ys,
                    raw.feature_names, raw.class_names)


def _feature_scaling(kind: str, X_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(shift, spread) per column, fitted on the training rows only: x ↦ (x − shift) / spread."""
    if kind == "standard":
        return _mean_sd(X_train)
    if kind == "minmax":  # held-out rows may fall outside [0, 1]; a constant column maps to 0
        low = X_train.min(axis=0)
        span = X_train.max(axis=0) - low
        return low, np.where(span > _TINY_SD * np.maximum(1.0, np.abs(low)), span, 1.0)
    return np.zeros(X_train.shape[1]), np.ones(X_train.shape[1])


def _mean_sd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and sds (ddof 0); constant columns get sd 1 so they pass through centred."""
    mean = a.mean(axis=0)
    sd = a.std(axis=0)
    return mean, np.where(sd > _TINY_SD * np.maximum(1.0, np.abs(mean)), sd, 1.0)


# ---------------------------------------------------------------- splits


def split_indices(raw: Raw, test_size: float, val_size: float, rng: np.random.Generator,
                  source: str = "the dataset", *, held_out: np.random.Generator | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, validation and test row indices: ceil(test_size·n) test, then ceil(val_size·rest).

    With `held_out` (a fixed pool) the test rows come from that stream and the validation and
    training rows from `rng`, among the other rows only; without it (a generated set) all three
    come from `rng`. Classes are stratified either way, with the same per-class counts."""
    n = len(raw.y)
    n_test = math.ceil(test_size * n)
    n_val = math.ceil(val_size * (n - n_test))
    n_train = n - n_test - n_val
    if min(n_train, n_val, n_test) < 1:
        raise DataError(f"{source} has {n} samples, too few for test_size={test_size} and "
                        f"val_size={val_size} ({n_train} train, {n_val} validation, {n_test} test); "
                        f"every part needs at least one sample, so add samples or change the sizes.")
    if raw.task == "regression":
        if held_out is None:
            perm = rng.permutation(n)
            return perm[n_test + n_val:], perm[n_test:n_test + n_val], perm[:n_test]
        test = held_out.permutation(n)[:n_test]
        rest = rng.permutation(np.setdiff1d(np.arange(n), test))
        return rest[n_val:], rest[:n_val], test
    counts = np.bincount(raw.y, minlength=raw.n_classes)
    take_test = _allocate(counts, n_test)
    take_val = _allocate(counts - take_test, n_val)
    _check_classes_train(counts, counts - take_test - take_val, source)
    if held_out is None:
        return _one_draw(raw, take_test, take_val, rng)
    test = _stratified(raw.y, np.arange(n), take_test, held_out)
    rest = np.setdiff1d(np.arange(n), test)
    val = _stratified(raw.y, rest, take_val, rng)
    return rng.permutation(np.setdiff1d(rest, val)), val, test


def _stratified(y: np.ndarray, rows: np.ndarray, take: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """take[c] rows of each class c drawn from `rows` without replacement, in a random order."""
    picked = [rng.permutation(rows[y[rows] == c])[:k] for c, k in enumerate(take)]
    return rng.permutation(np.concatenate(picked))


def _one_draw(raw: Raw, take_test: np.ndarray, take_val: np.ndarray,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A generated set's stratified split, all from the seed's stream: each class shuffled once and
    cut into test, validation and training rows."""
    parts: tuple[list, list, list] = ([], [], [])
    for c in range(raw.n_classes):
        members = rng.permutation(np.flatnonzero(raw.y == c))
        t, v = take_test[c], take_val[c]
        parts[2].append(members[:t])
        parts[1].append(members[t:t + v])
        parts[0].append(members[t + v:])
    # test drawn first, so its rows and order do not depend on val_size
    test, val, train = (rng.permutation(np.concatenate(p)) for p in reversed(parts))
    return train, val, test


def _allocate(counts: np.ndarray, n_take: int) -> np.ndarray:
    """Per-class counts of a stratified draw: largest remainder, ties to the lower class index.

    Unlike scikit-learn's random tie-breaking this depends on the counts only, so every seed gets
    the same class counts in every split (and so the same training-set size after imbalance).
    """
    quota = counts * n_take / counts.sum()
    take = np.floor(quota).astype(np.int64)
    order = np.lexsort((np.arange(len(counts)), -(quota - take)))
    take[order[:n_take - take.sum()]] += 1
    return take


def _check_classes_train(counts: np.ndarray, train: np.ndarray, source: str) -> None:
    """Every class needs MIN_TRAIN_PER_CLASS training samples; classes are named by their rank
    (never by value: a CSV's labels are the file's content, which errors do not quote)."""
    few = np.flatnonzero(train < MIN_TRAIN_PER_CLASS)
    if few.size:
        c = few[0]
        raise DataError(f"{source} has only {counts[c]} sample(s) of class number {c + 1} of "
                        f"{len(counts)} (in the sorted order of the labels), {train[c]} left for "
                        f"training after the test and validation splits; every class needs at least "
                        f"{MIN_TRAIN_PER_CLASS} training samples, so add samples of that class or "
                        f"lower test_size and val_size.")


# ---------------------------------------------------------------- corruptions (training only)


def _imbalance(train: np.ndarray, raw: Raw, spec: DataSpec, rng: np.random.Generator) -> np.ndarray:
    """Subsample the minority class of the training split to ceil(mean other count / ratio)."""
    if spec.imbalance == 1:
        return train
    m = raw.n_classes - 1 if spec.minority_class is None else int(spec.minority_class)
    labels = raw.y[train]
    counts = np.bincount(labels, minlength=raw.n_classes)
    keep = min(int(counts[m]), math.ceil(np.delete(counts, m).mean() / spec.imbalance))
    dropped = rng.choice(np.flatnonzero(labels == m), size=counts[m] - keep, replace=False)
    return np.delete(train, dropped)


def flip_labels(y: np.ndarray, share: float, n_classes: int,
                rng: np.random.Generator) -> np.ndarray:
    """Move exactly round(share·n) labels (n,) to a uniformly chosen different class."""
    out = y.copy()
    k = round(share * len(y))
    if k == 0:
        return out
    idx = rng.choice(len(y), size=k, replace=False)
    out[idx] = (y[idx] + rng.integers(1, n_classes, size=k)) % n_classes
    return out


def far_points(data: Prepared, share: float, rng: np.random.Generator) -> Prepared:
    """Move exactly round(share·n) training rows to one far point, OUTLIER_SDS scaled units out on
    every feature (one random sign per feature), labelled with the class whose clean training mean
    lies farthest from it: a small cluster of far, mislabelled points (the toy of Ding and
    Vishwanathan, and of Menon et al.) that drags a convex loss's boundary towards it while a bounded
    loss can give it up. Done after scaling, so the inliers' scaling is the clean data's."""
    X, y = data.X_train.copy(), data.y_train.copy()
    k = round(share * len(y))
    if k == 0:
        return data
    idx = rng.choice(len(y), size=k, replace=False)
    point = OUTLIER_SDS * rng.choice(np.array([-1.0, 1.0]), size=X.shape[1])
    keep = np.setdiff1d(np.arange(len(y)), idx)
    means = np.stack([X[keep][data.y_train_clean[keep] == c].mean(axis=0) for c in range(data.n_classes)])
    X[idx] = point.astype(X.dtype)
    y[idx] = int(np.argmax(((means - point) ** 2).sum(axis=1)))
    return replace(data, X_train=X, y_train=y)


def add_outliers(y: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Replace exactly round(share·n) rows of targets (n, c) by mean ± 10 sd (random sign)."""
    out = y.astype(np.float64, copy=True)
    k = round(share * len(y))
    if k == 0:
        return out
    mean, sd = _mean_sd(out)
    idx = rng.choice(len(y), size=k, replace=False)
    sign = rng.choice(np.array([-1.0, 1.0]), size=(k, 1))
    out[idx] = mean + sign * OUTLIER_SDS * sd
    return out


# ---------------------------------------------------------------- target scaling


@dataclass(frozen=True, eq=False)
class TargetScaler:
    """An affine target transform fitted on training targets: t = (y − shift) / scale."""

    shift: np.ndarray  # (n_outputs,)
    scale: np.ndarray  # (n_outputs,), never 0

    def transform(self, y: np.ndarray) -> np.ndarray:
        """Original-scale targets (..., n_outputs) to the scaled space."""
        return _keep_float((np.asarray(y) - self.shift) / self.scale, y)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        """Scaled targets or predictions (..., n_outputs) back to the original scale."""
        return _keep_float(np.asarray(y) * self.scale + self.shift, y)


def _keep_float(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    dt = np.asarray(like).dtype
    return result.astype(dt) if np.issubdtype(dt, np.floating) else result


SCALER_KINDS = ("standard", "minmax")


def fit_target_scaler(kind: str, y_train: np.ndarray) -> TargetScaler:
    """Fit "standard" (mean 0, sd 1) or "minmax" (to [0, 1]) on training targets (n, n_outputs)."""
    if kind not in SCALER_KINDS:
        raise DataError(f"target scaler must be one of {', '.join(SCALER_KINDS)}, got {kind!r}.")
    y = np.asarray(y_train, dtype=np.float64)
    if y.ndim != 2 or len(y) == 0 or not np.isfinite(y).all():
        raise DataError(f"target scaler needs finite training targets of shape (n, n_outputs) with "
                        f"n ≥ 1, got shape {y.shape}.")
    if kind == "standard":
        shift, scale = _mean_sd(y)
    else:
        shift = y.min(axis=0)
        span = y.max(axis=0) - shift
        scale = np.where(span > _TINY_SD * np.maximum(1.0, np.abs(shift)), span, 1.0)
    return TargetScaler(shift, scale)
