"""Where a number came from: versions and the git commit of the code that produced it."""

from __future__ import annotations

import platform
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np

import lossdb.core as core


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the lossdb checkout in use (with '+dirty' if modified), or None outside git."""
    root = Path(core.__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("+dirty" if dirty else "") if sha else None


def versions() -> dict[str, str | None]:
    """lossdb, numpy and Python versions and the git commit."""
    return {"lossdb_version": core.__version__, "numpy_version": np.__version__,
            "python_version": platform.python_version(), "git_commit": git_commit()}
