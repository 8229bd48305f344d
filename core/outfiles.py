"""Files lossdb writes for the user (reports, exports): never the database, never half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from lossdb.core.errors import ConfigError


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (resolving links; by inode when both exist)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_target(path: Path, *, force: bool = False, protected: Iterable[Path | None] = ()) -> None:
    """Refuse to write `path` over a protected file (the database and its -wal/-shm), or over an
    existing file unless `force`."""
    for keep in protected:
        if keep is None:
            continue
        for guarded in (keep, keep.with_name(keep.name + "-wal"), keep.with_name(keep.name + "-shm"),
                        keep.with_name(keep.name + "-journal")):
            if _same(path, guarded):
                raise ConfigError(f"refusing to write {path}: it is the database being read ({keep}); "
                                  "choose another --out")
    if path.is_dir():
        raise ConfigError(f"cannot write {path}: it is a folder; give a file name with --out")
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists: pass --force to overwrite it, or choose another --out")
    if not path.parent.is_dir():
        raise ConfigError(f"cannot write {path}: the folder {path.parent} does not exist")


@contextmanager
def atomic_open(path: Path, mode: str = "w", **kwargs: object) -> Iterator[IO]:
    """A file object on a temporary name beside `path`, renamed onto `path` only when the block
    succeeds; on any error the temporary file is removed and `path` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        with open(tmp, mode, **kwargs) as fh:  # noqa: PTH123 (mode and kwargs pass through)
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, content: bytes) -> None:
    """Write `content` to `path` through a temporary file and a rename."""
    with atomic_open(path, "wb") as fh:
        fh.write(content)


def _umask() -> int:
    """The process's file-creation mask (read without changing it for long)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
