"""The one JSON encoder of lossdb's outputs: valid JSON always, NaN and ±inf as the strings
"nan", "inf" and "-inf" (as `lossdb export` documents), numpy values as plain numbers."""

from __future__ import annotations

import json
import math
from typing import Any


def number(value: float | None) -> float | str | None:
    """A float for JSON: NaN and ±inf become "nan", "inf" and "-inf" (JSON has no such numbers)."""
    if value is None or math.isfinite(value):
        return value
    return str(float(value))


def plain(value: Any) -> Any:
    """`value` with numpy scalars/arrays as plain numbers/lists, tuples as lists, non-finite floats as strings."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return plain(value.tolist())
    if isinstance(value, float):
        return number(value)
    return value


def dumps(value: Any, *, indent: int | None = None) -> str:
    """The JSON text of `value`: never NaN or Infinity tokens, non-ASCII kept as is."""
    return json.dumps(plain(value), indent=indent, ensure_ascii=False, allow_nan=False)
