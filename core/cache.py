"""Judged verdicts (and a report's content, and the runs frame) kept on disk, so that the table
opens at once until the database changes.

An entry's key digests everything it depends on: the store's fingerprint (its runs' ids, seeds,
statuses, times and engines, and the experiments' specs), the source of lossdb's `core` package,
and the question asked (which experiments, which claims). A changed run, a new run, an edited experiment or
a new lossdb gives a new key, so a stale entry can never be read; old entries are simply not used.

Entries live in $LOSSDB_CACHE_DIR/verdicts (else $XDG_CACHE_HOME/lossdb or ~/.cache/lossdb);
LOSSDB_CACHE_DIR set empty turns the cache off. An unreadable entry is recomputed; an entry that
cannot be written is skipped. Entries are pickles, so the folder is created readable and writable
by its owner only; point LOSSDB_CACHE_DIR only at a folder nobody else can write.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from lossdb.core.outfiles import write_atomic

if TYPE_CHECKING:
    from lossdb.core.store import Store

CACHE_ENV = "LOSSDB_CACHE_DIR"
# `lossdb run` judges a store this large once it has trained (judging the full preset's 11,814 runs
# takes about 4 s), so that the first `lossdb compare` or dashboard visit after it is instant.
WARM_MIN_RUNS = 1000
MAX_BYTES = 512 * 2**20  # past this, the least recently written entries are removed
T = TypeVar("T")


def root(kind: str) -> Path | None:
    """lossdb's cache folder for one kind of entry ("verdicts", the reports' "charts"):
    $LOSSDB_CACHE_DIR/kind, else $XDG_CACHE_HOME/lossdb/kind or ~/.cache/lossdb/kind; None when
    LOSSDB_CACHE_DIR is set empty (the cache is turned off)."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return Path(chosen).expanduser() / kind if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lossdb" / kind


def folder() -> Path | None:
    """Where verdicts are kept, or None when the cache is turned off."""
    return root("verdicts")


@lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the source of lossdb's core package (any change to the code is a new version)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def key(store: Store, question: Sequence[object]) -> str:
    """The entry's name for this store's contents, this code and this question."""
    text = repr((store.fingerprint(), code_version(), tuple(question)))
    return hashlib.sha256(text.encode()).hexdigest()


def cached(store: Store, question: Sequence[object], compute: Callable[[], T]) -> T:
    """`compute()`'s result for this store and question, read from the cache when it is there."""
    where = folder()
    if where is None:
        return compute()
    path = where / f"{key(store, question)}.pickle"
    try:
        # our own cache folder, written only by `cached` below: the pickles are lossdb's records
        return pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        pass
    value = compute()
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)  # entries are pickles: only this user writes them
        write_atomic(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        prune(where)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass
    return value


def prune(where: Path, limit: int = MAX_BYTES) -> None:
    """Remove the oldest entries until the folder holds at most `limit` bytes (the newest is kept)."""
    entries = []
    for path in where.glob("*.pickle"):
        try:
            st = path.stat()
        except OSError:
            continue  # removed by another process meanwhile
        entries.append((st.st_mtime_ns, st.st_size, path))
    entries.sort(reverse=True)
    total = 0
    for i, (_, size, path) in enumerate(entries):
        total += size
        if total > limit and i > 0:
            path.unlink(missing_ok=True)
