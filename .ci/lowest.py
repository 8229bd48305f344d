"""Print pip constraints pinning each direct dependency of pyproject.toml to its lowest declared version.

`make test-oldest` installs lossdb with these constraints into a separate venv and runs a small real
subset of the tests, so that the lower bounds in pyproject.toml are versions the project has run
under (pip has no "lowest" resolution; the dependencies' own dependencies resolve as usual).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def lowest(requirement: str) -> str | None:
    """`name==X` for a requirement with a `>=X` bound ("typer>=0.15,<1" → "typer==0.15"), else None."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    bound = re.search(r">=\s*([0-9][0-9A-Za-z.]*)", requirement)
    return f"{name.group(0)}=={bound.group(1)}" if name and bound else None


def main(pyproject: Path, extras: list[str]) -> None:
    """Write the constraints of the dependencies and of the named extras to stdout, one a line."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    for requirement in [*project["dependencies"], *(r for e in extras for r in optional[e])]:
        pinned = lowest(requirement.split(";")[0])
        if pinned:
            print(pinned)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("pyproject.toml"), sys.argv[2:])
