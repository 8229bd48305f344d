"""Which stored runs the current engine judges: runs of another engine version are set aside.

A run's engine version is ENGINE_VERSION, with "+backend" for a non-numpy array backend ("3",
"3+torch-cuda"). Runs of another engine version were trained on other numbers (engine 2 re-split a
bundled set or CSV file per seed; engine 3 keeps one held-out test split), so no verdict, chart or
report mixes them with the current engine's: core.analysis.frame leaves them out, and the CLI and
the dashboard say how many there are. Kept apart from the frame so that counting them costs no pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lossdb.core as core

if TYPE_CHECKING:
    from lossdb.core.store import Store


def current_engine(engine_version: str | None) -> bool:
    """Whether a run was trained by this lossdb's engine: ENGINE_VERSION on any array backend."""
    return (engine_version or "").partition("+")[0] == core.ENGINE_VERSION


def set_aside(store: Store) -> dict[str, int]:
    """{engine version: stored runs} of the runs of other engine versions (backends summed), which
    the runs frame leaves out; empty when every run is the current engine's."""
    out: dict[str, int] = {}
    for version, n in store.runs_by_engine().items():
        if not current_engine(version):
            major = version.partition("+")[0]
            out[major] = out.get(major, 0) + n
    return out
