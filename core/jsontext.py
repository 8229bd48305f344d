"""The one JSON normaliser of lossdb, with one policy for the numbers JSON cannot hold.

NaN and ±inf: in what lossdb writes for people and programs to read (exports, `compare --format
json`, the JSON report) they are the strings "nan", "inf" and "-inf", as `lossdb export` documents,
so nothing is lost; in what is stored in the database or drawn (run configs, extras, chart data),
whose readers want a number or nothing, they are null. Numpy values become plain numbers and
lists, tuples lists, and the text is always valid JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal

NonFinite = Literal["text", "null"]


def number(value: float | None, nonfinite: NonFinite = "text") -> float | str | None:
    """A float for JSON: NaN and ±inf become "nan", "inf" and "-inf" (or None with nonfinite="null")."""
    if value is None or math.isfinite(value):
        return value
    return str(float(value)) if nonfinite == "text" else None


def plain(value: Any, nonfinite: NonFinite = "text") -> Any:
    """`value` with numpy scalars/arrays as plain numbers/lists, tuples as lists, non-finite floats
    as strings (or None with nonfinite="null")."""
    if isinstance(value, dict):
        return {str(key): plain(item, nonfinite) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item, nonfinite) for item in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return plain(value.tolist(), nonfinite)
    if isinstance(value, float):
        return number(value, nonfinite)
    return value


def dumps(value: Any, *, indent: int | None = None) -> str:
    """The JSON text of `value`: never NaN or Infinity tokens, non-ASCII kept as is."""
    return json.dumps(plain(value), indent=indent, ensure_ascii=False, allow_nan=False)
