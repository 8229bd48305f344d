"""A content digest of the data a run trains on, so a changed file is never mixed with old runs.

- a CSV file (csv:PATH): SHA-256 of its bytes, read again only when its size or mtime changes;
- a generated set (moons, spirals, ...): SHA-256 of the generator's parameters (name, n_samples,
  noise, noise_dist), which with the run's seed fix every sample;
- a bundled set (digits, iris, ...): SHA-256 of its identity ("bundled:NAME").
Splits and corruptions are not part of it: they are settings of the arm, already in its hash.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache

from lossdb.core.data.datasets import CSV_PREFIX, DATASETS
from lossdb.core.data.prepare import DataSpec
from lossdb.core.errors import DataError

SHORT = 12  # characters of a digest shown to people


def data_digest(spec: DataSpec) -> str:
    """The hex SHA-256 of the data `spec` names (see the module's docstring for what is digested)."""
    if spec.dataset.startswith(CSV_PREFIX):
        return file_digest(spec.dataset[len(CSV_PREFIX):].strip())
    info = DATASETS.get(spec.dataset)
    if info is None or info.kind == "bundled":
        identity = {"bundled": spec.dataset}
    elif info.kind == "neuron":
        identity = {"generated": spec.dataset, "x": spec.x, "y": spec.y}
    else:
        identity = {"generated": spec.dataset, "n_samples": spec.n_samples, "noise": spec.noise,
                    "noise_dist": spec.noise_dist}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def file_digest(path: str) -> str:
    """The hex SHA-256 of a file's bytes (cached while its size and mtime stay the same)."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise DataError(f"CSV file {path!r} cannot be read: {e.strerror or e}") from None
    return _hashed(path, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=64)
def _hashed(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def short(digest: str | None) -> str:
    """The first characters of a digest, as shown to people ("unknown" for runs stored before digests)."""
    return digest[:SHORT] if digest else "unknown"
