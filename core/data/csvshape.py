"""A CSV file's real shape (rows and columns), counted by streaming its bytes, and the memory that
reading and preparing it takes, so that a file too large for the machine is refused before it is read.

The estimate (`read_bytes`) was fitted on pandas' C parser: the text is held about three times
(bytes, decoded string, parser buffer); every cell costs its float64 in the parsed frame and in
the copies that preparing it makes (features, split, standardised, the engine's array: six in all);
and every column costs about 32 kB of pandas bookkeeping, which dominates a file of 400,000 columns
(9.2 GB to read a 51 MB file of them).
"""

from __future__ import annotations

import csv
import io
import os
import stat
from dataclasses import dataclass
from functools import lru_cache

CHUNK = 1 << 20
TEXT_COPIES = 3
CELL_COPIES = 6
COLUMN_OVERHEAD = 32 * 2**10
MAX_READ_BYTES = 4 * 2**30  # the most memory lossdb lets the reading and preparing of one CSV take


@dataclass(frozen=True)
class Shape:
    """A CSV file's size in bytes, data rows (header not counted) and columns (the header's fields)."""

    size: int
    rows: int
    columns: int

    @property
    def read_bytes(self) -> int:
        """Estimated peak memory of reading and preparing the file (see the module's notes)."""
        return (TEXT_COPIES * self.size + CELL_COPIES * 8 * self.rows * self.columns
                + COLUMN_OVERHEAD * self.columns)


def shape_of(fh: io.BufferedReader | io.RawIOBase, size: int) -> Shape:
    """The shape of the open file `fh` (read from its start in chunks; left at its start)."""
    fh.seek(0)
    first = b""
    newlines = 0
    last = b"\n"
    while chunk := fh.read(CHUNK):
        if b"\n" not in first:
            first += chunk
        newlines += chunk.count(b"\n")
        last = chunk[-1:]
    fh.seek(0)
    lines = newlines + (last != b"\n")
    header = first.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    try:
        columns = len(next(csv.reader([header]), [])) if header.strip() else 0
    except csv.Error:
        columns = header.count(",") + 1
    return Shape(size, max(0, lines - 1), columns)


@lru_cache(maxsize=64)
def _cached(path: str, size: int, mtime_ns: int, inode: int) -> Shape | None:
    """The shape of a regular file, keyed by its identity and state (None when it cannot be read)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return None
        return shape_of(fh, size)


def csv_shape(path: str) -> Shape | None:
    """The shape of the CSV file at `path`, None when it is not a readable regular file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return _cached(path, st.st_size, st.st_mtime_ns, st.st_ino)
