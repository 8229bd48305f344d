"""How the store names a CSV file: by its file name, never by where it was.

A run keeps `csv:grain.csv` (with the data's content digest beside it), not `csv:/home/ann/x/grain.csv`:
the database then does not depend on the folder the file happened to be in, and the same file moved
elsewhere is found as the same data. Files of one experiment that share a file name keep as many of
their last folders as tell them apart (`csv:farm1/grain.csv`, `csv:farm2/grain.csv`).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from pathlib import PurePath

from lossdb.core.data.datasets import CSV_PREFIX


def stored_names(datasets: Iterable[str]) -> dict[str, str]:
    """{csv:PATH → csv:NAME} for each distinct CSV value (other values map to themselves): NAME is
    the file name, with as many parent folders (joined by "/") as the files sharing it need."""
    values = list(dict.fromkeys(str(d) for d in datasets))
    out = {d: d for d in values}
    paths = {d: PurePath(d[len(CSV_PREFIX):].strip()).parts for d in values if _is_path(d)}
    groups: dict[str, list[str]] = {}
    for d, parts in paths.items():
        groups.setdefault(parts[-1] if parts else "", []).append(d)
    for same in groups.values():
        depth = 1
        while depth < max(len(paths[d]) for d in same) and \
                len({paths[d][-depth:] for d in same}) < len(same):
            depth += 1
        for d in same:
            out[d] = CSV_PREFIX + posixpath.join(*(paths[d][-depth:] or ("",)))
    return out


def stored_name(dataset: str) -> str:
    """The stored form of one dataset value: csv:/a/b/grain.csv → csv:grain.csv; others as they are."""
    return stored_names([dataset])[dataset]


def _is_path(dataset: str) -> bool:
    """A csv: value that holds an absolute path (what parsing makes of every csv:PATH); a stored
    name (csv:grain.csv, csv:farm1/grain.csv) is left as it is."""
    return dataset.startswith(CSV_PREFIX) and os.path.isabs(dataset[len(CSV_PREFIX):].strip())
