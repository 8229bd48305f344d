"""Judged verdicts (and a report's content, and the runs frame) kept on disk, so that the table
opens at once until the database changes.

An entry's key digests everything it depends on: the store's fingerprint (its identity and the
version every write transaction bumps, and the SQLite file's identity), the source of lossdb's
`core` package, and the question asked (which experiments, which claims). A changed store or a
new lossdb gives a new key, so a stale entry can never be read; old entries are simply not used.
An entry is written only when the store's fingerprint did not move while it was computed.

Entries live in $LOSSDB_CACHE_DIR/verdicts (else $XDG_CACHE_HOME/lossdb or ~/.cache/lossdb);
LOSSDB_CACHE_DIR set empty turns the cache off. Entries are JSON (core.datacodec: data only, never
code); a folder is used only when it is this user's own and private (created 0700), anything else
is ignored with one warning. An unreadable, corrupt or wrong-type entry is recomputed; an entry
that cannot be written is skipped; each folder is pruned to MAX_BYTES.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lossdb.core import datacodec
from lossdb.core.outfiles import write_atomic

if TYPE_CHECKING:
    from lossdb.core.store import Store

CACHE_ENV = "LOSSDB_CACHE_DIR"
# `lossdb run` judges a store this large once it has trained (judging the full preset's 11,814 runs
# takes about 4 s), so that the first `lossdb compare` or dashboard visit after it is instant.
WARM_MIN_RUNS = 1000
MAX_BYTES = 512 * 2**20  # past this, the least recently written entries of a folder are removed
SUFFIX = ".json"
T = TypeVar("T")
_warned: set[Path] = set()


def root(kind: str) -> Path | None:
    """lossdb's cache folder for one kind of entry ("verdicts", the reports' "charts"):
    $LOSSDB_CACHE_DIR/kind, else $XDG_CACHE_HOME/lossdb/kind or ~/.cache/lossdb/kind; None when
    LOSSDB_CACHE_DIR is set empty (the cache is turned off)."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return Path(chosen).expanduser() / kind if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lossdb" / kind


def private(where: Path) -> bool:
    """Whether `where` is a folder (not a link) owned by this user that nobody else may enter."""
    try:
        st = os.lstat(where)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def ready(where: Path) -> bool:
    """Create `where` (and a missing parent) readable and writable by this user only; False, with
    one warning per folder, when it exists but is someone else's, a link, or open to others."""
    for made in (where.parent, where):
        if made.exists() or made.is_symlink():
            continue
        try:
            made.mkdir(mode=0o700, parents=True)
            os.chmod(made, 0o700)  # whatever the umask
        except FileExistsError:
            pass  # made by another process meanwhile: checked below like any other
        except OSError:
            return False
    if private(where):
        return True
    if where not in _warned:
        _warned.add(where)
        print(f"Warning: the cache folder {where} is not private to you (another owner, a link, or readable "
              f"by others), so lossdb does not use it: remove it or set {CACHE_ENV} to a folder of your own.",
              file=sys.stderr)
    return False


def folder() -> Path | None:
    """Where verdicts are kept, or None when the cache is turned off."""
    return root("verdicts")


@lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the source of lossdb's core package (any change to the code is a new version)."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(here.rglob("*")):
        if path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(here)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def key(fingerprint: str, question: Sequence[object]) -> str:
    """The entry's name for this store fingerprint, this code and this question."""
    text = repr((fingerprint, code_version(), tuple(question)))
    return hashlib.sha256(text.encode()).hexdigest()


def read_private(path: Path) -> bytes | None:
    """A cache file's bytes when it is a regular file of this user's (not a link), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_size > MAX_BYTES:
            return None
        return fh.read()


def cached(store: Store, question: Sequence[object], compute: Callable[[], T], *,
           expect: Callable[[Any], bool], types: Iterable[type] = (),
           fingerprint: str | None = None) -> T:
    """`compute()`'s result for this store and question, read from the cache when it is there.

    `expect` says whether a value read back is of the right shape (else it is recomputed); `types`
    are the dataclasses an entry may hold. `fingerprint`, when given, is the store state the
    caller's inputs were read at (the dashboard's frame): the entry is filed under it, and kept only
    if the store still reads so once computed."""
    where = folder()
    if where is None or not ready(where):
        return compute()
    before = fingerprint if fingerprint is not None else store.fingerprint()
    path = where / f"{key(before, question)}{SUFFIX}"
    data = read_private(path)
    if data is not None:
        try:
            value = datacodec.decode(data, types)
            if expect(value):
                return value
        except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError):
            pass  # corrupt, of another lossdb, or not ours: recomputed below
    value = compute()
    try:
        text = datacodec.encode(value).encode("utf-8")
        if store.fingerprint() == before:  # never file what was computed from another state
            write_atomic(path, text)
            prune(where, SUFFIX)
    except (OSError, TypeError, ValueError, RecursionError):
        pass
    return value


def many(cls: type) -> Callable[[Any], bool]:
    """An `expect` for a list of `cls` records."""
    return lambda value: isinstance(value, list) and all(isinstance(v, cls) for v in value)


def one(cls: type) -> Callable[[Any], bool]:
    """An `expect` for one `cls` value."""
    return lambda value: isinstance(value, cls)


def prune(where: Path, suffix: str = SUFFIX, limit: int = MAX_BYTES) -> None:
    """Remove the oldest entries until the folder holds at most `limit` bytes (the newest is kept);
    pickles left by an older lossdb are removed unread."""
    entries = []
    for path in where.iterdir() if where.is_dir() else ():
        if path.suffix == ".pickle":
            path.unlink(missing_ok=True)
            continue
        if path.suffix != suffix:
            continue
        try:
            st = path.lstat()
        except OSError:
            continue  # removed by another process meanwhile
        entries.append((st.st_mtime_ns, st.st_size, path))
    entries.sort(reverse=True)
    total = 0
    for i, (_, size, path) in enumerate(entries):
        total += size
        if total > limit and i > 0:
            path.unlink(missing_ok=True)
