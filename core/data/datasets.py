"""The dataset registry: scikit-learn's bundled sets, seeded generators and the user's CSV files.

Every loader returns a `Raw` set (all samples, unsplit, unscaled); `core.data.prepare` splits,
corrupts and standardises it.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from lossdb.core.data import csvshape
from lossdb.core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

NOISE_DISTS = ("gaussian", "student_t")
STUDENT_T_DF = 2
MAX_AUTO_CLASSES = 20  # csv "auto": an integer target with at most this many values is a class label
LINEAR_WEIGHTS = np.array([1.5, -2.0, 0.5, 3.0, -1.0])  # fixed, so seeds vary the sample, not the task
BLOB_CENTERS = np.array([[-1.0, -1.0], [1.0, 1.0]])  # 2.8 sd apart at noise 1: about 8% Bayes error


@dataclass(frozen=True, eq=False)
class Raw:
    """A whole dataset before splitting: X (n, d) float64; y int64 labels (n,) or float64 (n, c)."""

    X: np.ndarray
    y: np.ndarray
    task: str
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] = ()
    dropped: tuple[int, ...] = ()  # CSV data rows (1-based, header not counted) dropped for gaps

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.class_names) if self.task == "classification" else 0


@dataclass(frozen=True)
class Dataset:
    """A registry entry: how to build the set, its task and, for generated sets, their defaults."""

    name: str
    kind: str  # "bundled", "generated" or "neuron"
    task: str
    n_classes: int
    description: str
    build: Callable[..., Raw] | None = None  # bundled: build(); generated: build(n, noise, dist, rng)
    n_samples: int | None = None
    noise: float | None = None
    # One fixed sample used as train, validation and test, unscaled: every seed gives the same
    # numbers (so a comparison has n = 1 and no interval), and the trainer records its output.
    deterministic: bool = False


def _sk():
    """scikit-learn's datasets module, imported on first use (importing it costs ~0.7 s)."""
    from sklearn import datasets

    return datasets


# ---------------------------------------------------------------- bundled (ship with scikit-learn)


@cache
def _bundled(loader: str) -> Raw:
    bunch = getattr(_sk(), loader)()
    X = _frozen(np.asarray(bunch.data, dtype=np.float64))
    names = tuple(str(f) for f in bunch.feature_names)
    classes = tuple(str(c) for c in bunch.target_names)
    return Raw(X, _frozen(np.asarray(bunch.target, dtype=np.int64)), "classification", names, classes)


@cache
def _diabetes() -> Raw:
    # scaled=False: the original measurements; lossdb standardises on the training split itself
    bunch = _sk().load_diabetes(scaled=False)
    y = np.asarray(bunch.target, dtype=np.float64).reshape(-1, 1)
    X = np.asarray(bunch.data, dtype=np.float64)
    return Raw(_frozen(X), _frozen(y), "regression", tuple(bunch.feature_names))


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


# ---------------------------------------------------------------- generated (from the seed)


def _sk_seed(rng: np.random.Generator) -> int:
    """An integer seed for scikit-learn's generators, drawn from our own stream."""
    return int(rng.integers(2**31 - 1))


def _noise(rng: np.random.Generator, shape: tuple[int, ...], scale: float, dist: str) -> np.ndarray:
    """Additive target noise: `scale` times a standard normal or a Student-t with 2 df."""
    if dist == "student_t":
        return scale * rng.standard_t(STUDENT_T_DF, size=shape)
    return scale * rng.standard_normal(shape)


def _names(d: int) -> tuple[str, ...]:
    return tuple(f"x{i + 1}" for i in range(d))


def _moons(n: int, noise: float, dist: str, rng: np.random.Generator) -> Raw:
    X, y = _sk().make_moons(n_samples=n, noise=noise, random_state=_sk_seed(rng))
    return Raw(X.astype(np.float64), y.astype(np.int64), "classification", _names(2), ("0", "1"))


def _spirals(n: int, noise: float, dist: str, rng: np.random.Generator) -> Raw:
    """Two interleaved spirals of 1.5 turns; the arms lie 1 apart, noise is the jitter's sd."""
    y = (np.arange(n) >= n // 2).astype(np.int64)
    t = 3 * np.pi * np.sqrt(rng.uniform(size=n))  # sqrt: even density along the arm's area
    angle = t + np.pi * y  # the second spiral is the first turned by half a turn
    r = t / np.pi
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    X += noise * rng.standard_normal(X.shape)
    return Raw(X, y, "classification", _names(2), ("0", "1"))


def _blobs(n: int, noise: float, dist: str, rng: np.random.Generator) -> Raw:
    X, y = _sk().make_blobs(n_samples=n, centers=BLOB_CENTERS, cluster_std=noise,
                          random_state=_sk_seed(rng))
    return Raw(X.astype(np.float64), y.astype(np.int64), "classification", _names(2), ("0", "1"))


def _xor(n: int, noise: float, dist: str, rng: np.random.Generator) -> Raw:
    """Four Gaussian clusters at (±1, ±1); class 1 where the centre's coordinates differ in sign."""
    cluster = np.arange(n) % 4
    centres = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])[cluster]
    X = centres + noise * rng.standard_normal((n, 2))
    y = (centres[:, 0] * centres[:, 1] < 0).astype(np.int64)
    return Raw(X, y, "classification", _names(2), ("0", "1"))


def _friedman1(n: int, noise: float, dist: str, rng: np.random.Generator) -> Raw:
    # noise=0 in scikit-learn, then our own noise, so that noise_dist applies here too
    X, y = _sk().make_friedman1(n_samples=n, n_features=10, noise=0.0, random_state=_sk_seed(rng))
    y = y.reshape(-1, 1) + _noise(rng, (n, 1), noise, dist)
    return Raw(X.astype(np.float64), y, "regression", _names(10))


def _sine(n: int, noise: float, dist: str, rng: np.random.Generator) -> Raw:
    x = rng.uniform(-3.0, 3.0, size=(n, 1))
    return Raw(x, np.sin(x) + _noise(rng, (n, 1), noise, dist), "regression", ("x",))


def _linear(n: int, noise: float, dist: str, rng: np.random.Generator) -> Raw:
    X = rng.standard_normal((n, len(LINEAR_WEIGHTS)))
    y = (X @ LINEAR_WEIGHTS).reshape(-1, 1) + _noise(rng, (n, 1), noise, dist)
    return Raw(X, y, "regression", _names(len(LINEAR_WEIGHTS)))


# ---------------------------------------------------------------- the registry


def _entries() -> list[Dataset]:
    def bundled(name: str, loader: str, n_classes: int, about: str) -> Dataset:
        return Dataset(name, "bundled", "classification", n_classes, about,
                       build=lambda: _bundled(loader))

    def generated(name: str, task: str, n_classes: int, build: Callable[..., Raw], n: int,
                  noise: float, about: str) -> Dataset:
        return Dataset(name, "generated", task, n_classes, about, build, n, noise)

    C, R = "classification", "regression"
    return [
        bundled("digits", "load_digits", 10, "8×8 handwritten digits, 1797 samples, 10 classes"),
        bundled("breast_cancer", "load_breast_cancer", 2, "Wisconsin breast cancer, 569 samples"),
        bundled("wine", "load_wine", 3, "wine cultivars, 178 samples, 3 classes"),
        bundled("iris", "load_iris", 3, "iris flowers, 150 samples, 3 classes"),
        Dataset("diabetes", "bundled", R, 0, "diabetes progression, 442 samples, 10 features",
                build=_diabetes),
        generated("moons", C, 2, _moons, 1000, 0.2, "two interleaving half circles"),
        generated("spirals", C, 2, _spirals, 600, 0.2, "two interleaved spirals (hard, small)"),
        generated("blobs", C, 2, _blobs, 1000, 1.0, "two Gaussian blobs at (-1,-1) and (1,1)"),
        generated("xor", C, 2, _xor, 400, 0.3, "four Gaussian clusters labelled by XOR"),
        generated("friedman1", R, 0, _friedman1, 1000, 1.0, "Friedman #1, 10 features (5 used)"),
        generated("sine", R, 0, _sine, 500, 0.1, "y = sin(x) on [-3, 3]"),
        generated("linear", R, 0, _linear, 500, 1.0, "y = X·w + noise, 5 features"),
        Dataset("neuron", "neuron", R, 0, "one sample X=[[x]], y=[[y]] (Nielsen's neuron)",
                deterministic=True),
    ]


DATASETS: dict[str, Dataset] = {d.name: d for d in _entries()}
CSV_PREFIX = "csv:"


def is_deterministic(name: str) -> bool:
    """Whether the dataset is one fixed, unscaled sample, so that every seed gives the same run.

    False for csv:PATH and for names not in the registry."""
    entry = DATASETS.get(name) if isinstance(name, str) else None
    return entry is not None and entry.deterministic


def dataset_names() -> list[str]:
    """Every registry name, sorted, followed by the csv:PATH form."""
    return sorted(DATASETS) + [f"{CSV_PREFIX}PATH"]


# ---------------------------------------------------------------- CSV files
#
# A `csv:` path is the user's, but it may point anywhere: only regular files are opened (a FIFO
# would block, /dev/zero never ends), at most MAX_CSV_BYTES are read, and no error quotes the
# file's content — at most the column names of a file that parses as a table of two or more
# columns (a system file's first line is not a list of columns).

MAX_CSV_BYTES = 100 * 2**20
MAX_QUOTED_COLUMNS = 20
MAX_NAME_CHARS = 40
MAX_LISTED_ROWS = 10


def load_csv(path: str, target: str = "target", task: str = "auto", drop_missing: bool = False) -> Raw:
    """Read numeric feature columns and a target column; `task` "auto" infers the task.

    Rows with a missing value are refused with their numbers, or dropped with `drop_missing`
    (their data-row numbers, header not counted, are kept in `Raw.dropped`)."""
    frame = _read_csv(path)
    if target not in frame.columns:
        raise DataError(f"CSV file {path!r} has no target column {target!r}; its columns are "
                        f"{_quoted_columns(frame)} (choose one with target = \"...\" or --target).")
    if len(frame) == 0:
        raise DataError(f"CSV file {path!r} has a header but no data rows; add samples below it.")
    frame, dropped = _missing(frame, path, drop_missing)
    features = frame.drop(columns=[target])
    X = _numeric_features(features, path)
    column = frame[target]
    names = tuple(str(c) for c in features.columns)
    if _csv_task(column, task, path) == "regression":
        y = column.to_numpy(dtype=np.float64).reshape(-1, 1)
        return Raw(X, y, "regression", names, dropped=dropped)
    y, classes = _encode_labels(column)
    if len(classes) < 2:
        raise DataError(f"CSV file {path!r} has a single class in target column {target!r}; "
                        f"classification needs at least two classes.")
    return Raw(X, y, "classification", names, classes, dropped=dropped)


def _read_csv(path: str) -> pd.DataFrame:
    import pandas as pd  # only CSV reading needs pandas (~0.3 s to import)

    text = _read_text(path)
    try:
        frame = pd.read_csv(io.StringIO(text), skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"CSV file {path!r} is empty; it needs a header line of column names "
                        f"and one line per sample.") from None
    except (pd.errors.ParserError, ValueError) as err:
        where = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
        reason = (f"line {where[2]} has {where[3]} fields where the header has {where[1]}" if where
                  else "it is not a comma-separated table")
        raise DataError(f"CSV file {path!r} cannot be read as CSV ({reason}); check that it is "
                        f"a comma-separated text file with one header line.") from None
    if frame.shape[1] < 2:
        raise DataError(f"CSV file {path!r} has a single column, so it is not a comma-separated "
                        f"table of feature columns and a target column.")
    return frame


def _read_text(path: str) -> str:
    """The file's text, if it is a regular file of at most MAX_CSV_BYTES in UTF-8."""
    try:  # O_NONBLOCK: opening a FIFO must not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise DataError(f"CSV file {path!r} does not exist; check the path after 'csv:' (in an "
                        f"experiment file it starts from the file's folder, on the command line "
                        f"from the current folder).") from None
    except OSError as err:
        raise DataError(f"CSV file {path!r} cannot be opened ({err.strerror or type(err).__name__}); "
                        f"check that it is a readable file.") from None
    st = os.fstat(fd)
    mode = st.st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "a pipe" if stat.S_ISFIFO(mode) else \
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file"
        raise DataError(f"CSV file {path!r} is {kind}, not a regular file; give the path of a "
                        f"CSV file after 'csv:'.")
    if st.st_size > MAX_CSV_BYTES:
        os.close(fd)
        data = b""
    else:
        with os.fdopen(fd, "rb") as fh:
            _check_memory(path, csvshape.shape_of(fh, st.st_size))  # before anything is parsed
            data = fh.read(MAX_CSV_BYTES + 1)  # + 1: a file that grew since fstat is caught too
    if st.st_size > MAX_CSV_BYTES or len(data) > MAX_CSV_BYTES:
        raise DataError(f"CSV file {path!r} is larger than lossdb's limit of "
                        f"{MAX_CSV_BYTES // 2**20} MB; use a sample of its rows.")
    if b"\0" in data:
        raise DataError(f"CSV file {path!r} holds binary data (NUL bytes), not CSV text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"CSV file {path!r} is not UTF-8 text; save it as CSV in UTF-8.") from None


def _check_memory(path: str, shape: csvshape.Shape) -> None:
    """Refuse a CSV file whose reading and preparing would need more than csvshape.MAX_READ_BYTES."""
    if shape.read_bytes > csvshape.MAX_READ_BYTES:
        raise DataError(f"CSV file {path!r} has {shape.rows:,} rows and {shape.columns:,} columns, which would "
                        f"take an estimated {shape.read_bytes / 2**30:.1f} GB of memory to read and prepare, more "
                        f"than lossdb's limit of {csvshape.MAX_READ_BYTES / 2**30:.0f} GB; use a sample of its "
                        f"rows or fewer columns.")


def _quoted_columns(frame: pd.DataFrame) -> str:
    """The column names (each and their count capped) as a readable list."""
    names = [str(c) for c in frame.columns]
    quoted = [repr(n if len(n) <= MAX_NAME_CHARS else n[:MAX_NAME_CHARS] + "…")
              for n in names[:MAX_QUOTED_COLUMNS]]
    more = len(names) - len(quoted)
    return ", ".join(quoted) + (f" and {more} more" if more else "")


def _missing(frame: pd.DataFrame, path: str, drop: bool) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """Refuse (or drop, with `drop`) rows with a missing value; their data-row numbers."""
    gaps = frame.isna().to_numpy()
    bad = np.flatnonzero(gaps.any(axis=1))
    if bad.size == 0:
        return frame, ()
    rows = tuple(int(r) + 1 for r in bad)  # data rows, header not counted
    if not drop:
        first = str(frame.columns[int(np.argmax(gaps[bad[0]]))])
        shown = ", ".join(map(str, rows[:MAX_LISTED_ROWS])) + (", …" if len(rows) > MAX_LISTED_ROWS else "")
        raise DataError(f"CSV file {path!r} has missing values in {len(rows)} row(s) (data "
                        f"row{'s' if len(rows) > 1 else ''} {shown}; header not counted), the first in column {first!r}; fill or remove "
                        f"them, or drop them with --drop-missing (drop_missing = true in [data]).")
    if len(rows) == len(frame):
        raise DataError(f"CSV file {path!r} has a missing value in every row, so dropping them "
                        f"leaves no data; fill the gaps first.")
    return frame.drop(index=frame.index[bad]).reset_index(drop=True), rows


def _numeric_features(features: pd.DataFrame, path: str) -> np.ndarray:
    import pandas as pd  # only CSV reading needs pandas (~0.3 s to import)

    for name in features.columns:
        col = features[name]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            continue
        bad = pd.to_numeric(col, errors="coerce").isna().to_numpy()
        raise DataError(f"CSV file {path!r} has a non-numeric feature column {str(name)!r} "
                        f"(first at data row {int(np.argmax(bad)) + 1}); encode it as numbers or "
                        f"drop the column.")
    X = features.to_numpy(dtype=np.float64)
    if not np.isfinite(X).all():
        row, col = np.argwhere(~np.isfinite(X))[0]
        raise DataError(f"CSV file {path!r} has an infinite value in column "
                        f"{str(features.columns[col])!r} at data row {row + 1}; use finite numbers.")
    return X


def _csv_task(column: pd.Series, task: str, path: str) -> str:
    import pandas as pd  # only CSV reading needs pandas (~0.3 s to import)

    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if task == "regression" and not numeric:
        raise DataError(f"CSV file {path!r} has a non-numeric target column {str(column.name)!r}, "
                        f"which cannot be a regression target; use task = \"classification\".")
    if task == "regression" and not np.isfinite(column.to_numpy(dtype=np.float64)).all():
        raise DataError(f"CSV file {path!r} has an infinite value in target column "
                        f"{str(column.name)!r}; use finite numbers.")
    if task != "auto":
        return task
    if not numeric:
        return "classification"
    values = column.to_numpy(dtype=np.float64)
    few_integers = np.all(values == np.round(values)) and len(np.unique(values)) <= MAX_AUTO_CLASSES
    return "classification" if few_integers else "regression"


def _encode_labels(column: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels 0..C-1 in the sorted order of the original values, and those values as text."""
    import pandas as pd  # only CSV reading needs pandas (~0.3 s to import)

    values = column.to_numpy()
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = values.astype(np.float64)
    else:
        values = values.astype(str)
    classes, y = np.unique(values, return_inverse=True)
    return y.astype(np.int64).reshape(-1), tuple(_label_text(c) for c in classes)


def _label_text(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)
