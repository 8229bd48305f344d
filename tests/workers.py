"""Running the suite on several pytest-xdist workers (`make test`): how many, and what they share.

Each worker is a process of its own with its own session fixtures. A fixture that costs tens of
seconds of real training (the quick catalogue) is built once per test run instead: the first worker to
need it builds it into the run's shared temporary folder under a file lock, and the others wait for
the lock and read what it left there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


def available_cpus(cgroup_files: Iterable[str] = ("/sys/fs/cgroup/cpu.max",)) -> int:
    """The CPUs this process may use: its affinity mask, capped by a cgroup v2 CPU quota if one is set
    (psutil, which `pytest -n auto` would ask, counts the host's cores inside a container)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    for path in cgroup_files:
        try:
            quota, period = Path(path).read_text(encoding="ascii").split()[:2]
        except (OSError, ValueError):
            continue
        if quota != "max":
            count = min(count, -(-int(quota) // int(period)))
    return max(1, count)


def run_folder(factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of this whole test run: the one that holds every xdist worker's own (or,
    without xdist, the session's own)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_folder(root: Path, name: str, build: Callable[[Path], None]) -> Path:
    """The folder root/name, filled by `build(folder)` once, by whichever process asks first; the
    others wait for it. A build that raised is started afresh by the next to ask."""
    # A test extra, imported here: the oldest-versions venv (make test-oldest) runs no test that builds.
    from filelock import FileLock

    folder, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder
