"""A wing's face: the names its `__init__` offers outsiders, each imported on first use.

    __all__, __getattr__, __dir__ = face(__name__, {"judge_store": "judge", "charts": "charts:"})

A value "module" exports the attribute of the same name from that submodule ("module:name" for
another name); "module:" exports the submodule itself. Nothing is imported until a name is read,
so `import lossdb.core.judging` costs nothing and `lossdb --help` stays fast; a name read once is
kept on the package, so later reads are plain attribute lookups.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def face(package: str, exports: Mapping[str, str]) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """(__all__, __getattr__, __dir__) for the package `package` exporting `exports` lazily."""
    def __getattr__(name: str) -> Any:
        where = exports.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attr = where.partition(":")
        value: Any = importlib.import_module(f"{package}.{module}")
        if ":" not in where or attr:
            value = getattr(value, attr or name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return sorted(exports), __getattr__, __dir__
