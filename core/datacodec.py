"""Records, and pandas frames of them, as JSON text and back: a format that can only hold data.

`encode` writes a tree of dataclass instances, tuples, lists, dicts, numbers, strings, numpy
values and pandas frames as JSON, every container tagged with what it was (a dict as its pairs, so
keys keep their type). `decode` builds only the dataclasses it is given (and those their fields
name), field by field, so a field added to a record round-trips without an edit here, and a text
naming any other class, or a class with other fields, is refused with ValueError. Nothing is
imported or called by name: reading a hostile file can fail, never run code.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from collections.abc import Iterable
from typing import Any

# One key per tagged object: {"t": items} a tuple, {"m": [[key, value], …]} a dict,
# {"c": class name, "f": {field: value}} a dataclass, {"x": …} a pandas frame, {"a": …} an array.
TUPLE, MAPPING, CLASS, FIELDS, FRAME, ARRAY = "t", "m", "c", "f", "x", "a"
# A frame's object column: {"j": values} plain JSON taken as it is, {"u": distinct, "i": index} shared objects.
PLAIN, SHARED, INDEX = "j", "u", "i"
_SCALARS = (str, int, bool, type(None))
_TEXT = frozenset({str})
# Column dtypes a frame may hold (object columns hold any encodable value).
FRAME_DTYPES = frozenset({"int64", "int32", "float64", "float32", "bool", "object", "string", "str"})


def encode(value: Any) -> str:
    """The JSON text of `value` (TypeError for anything that is not plain data)."""
    return json.dumps(to_data(value), separators=(",", ":"))


def to_data(value: Any) -> Any:
    """`value` (a Verdict, a ReportData, a frame…) as tagged dicts, lists and scalars, ready for JSON."""
    return _out(value)


def from_data(data: Any, types: Iterable[type]) -> Any:
    """The value `to_data` gave `data` for, building only the dataclasses in `types` (and those
    their fields name); ValueError for anything else."""
    allowed = {cls.__name__: cls for cls in reachable(types)}
    try:
        return _in(data, allowed)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def decode(text: str | bytes, types: Iterable[type]) -> Any:
    """The value `encode` wrote, building only the dataclasses in `types` (and those their fields
    name); ValueError for malformed text or anything else."""
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"not a lossdb cache entry: {exc}") from None
    return from_data(raw, types)


def reachable(types: Iterable[type]) -> set[type]:
    """The dataclasses in `types` and every dataclass their fields' annotations name, recursively."""
    seen: set[type] = set()
    todo = [t for t in types if dataclasses.is_dataclass(t)]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        try:
            hints = typing.get_type_hints(cls)
        except (NameError, TypeError):  # an annotation naming a type only imported for checking
            hints = {}
        for hint in hints.values():
            todo += [t for t in _named(hint) if dataclasses.is_dataclass(t) and t not in seen]
    return seen


def _named(hint: Any) -> list[type]:
    """Every class an annotation mentions (tuple[Look, ...] → Look)."""
    args = typing.get_args(hint)
    return [hint] * isinstance(hint, type) + [t for a in args for t in _named(a)]


def _out(value: Any) -> Any:
    """`value` as JSON-ready, tagged data."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value  # json writes NaN and ±Infinity, and reads them back
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {CLASS: type(value).__name__,
                FIELDS: {f.name: _out(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}}
    if isinstance(value, tuple):
        return {TUPLE: [_out(v) for v in value]}
    if isinstance(value, list):
        return [_out(v) for v in value]
    if isinstance(value, dict):
        return {MAPPING: [[_out(k), _out(v)] for k, v in value.items()]}
    module = type(value).__module__.split(".")[0]
    if module == "numpy":
        import numpy as np

        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biuf":
                raise TypeError(f"an array of {value.dtype} is not plain data")
            return {ARRAY: [str(value.dtype), list(value.shape), value.ravel().tolist()]}
        if isinstance(value, np.generic):
            return _out(value.item())
    if module == "pandas":
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            return {FRAME: _frame_out(value)}
    raise TypeError(f"{type(value).__name__} is not plain data")


def _frame_out(frame: Any) -> dict[str, Any]:
    """A frame's columns, dtypes, index and values (each column a list)."""
    dtypes = [str(t) for t in frame.dtypes]
    bad = sorted({t for t in dtypes if t not in FRAME_DTYPES})
    if bad or not frame.columns.is_unique:
        raise TypeError(f"a frame with columns of {', '.join(bad) or 'repeated names'} is not kept")
    index = frame.index
    plain_index = index.equals(__import__("pandas").RangeIndex(len(frame)))
    return {"columns": [_out(c) for c in frame.columns], "dtypes": dtypes, "rows": len(frame),
            "index": None if plain_index else [_out(v) for v in index.tolist()],
            "data": [_column_out(frame[c].tolist()) if t in ("object", "string", "str") else frame[c].tolist()
                     for c, t in zip(frame.columns, dtypes, strict=True)]}


def _column_out(values: list[Any]) -> Any:
    """An object column: its distinct objects once each when they repeat (an arm's Arm, its
    condition), as plain JSON when it is that (configs read from the store), else value by value."""
    seen: dict[Any, int] = {}  # text by value, anything else by identity
    uniques: list[Any] = []
    index = []
    for v in values:
        k = v if type(v) is str else (id(v),)
        i = seen.get(k)
        if i is None:
            i = seen[k] = len(uniques)
            uniques.append(v)
        index.append(i)
    if 2 * len(uniques) <= len(values):
        return {SHARED: [_out(u) for u in uniques], INDEX: index}
    if _plain(values):
        return {PLAIN: values}
    return [_out(v) for v in values]


def _plain(values: list[Any]) -> bool:
    """Whether JSON gives `values` back exactly: only dicts with text keys, lists, text, whole numbers,
    finite floats, booleans and None (walked without recursion; ~4x faster than a JSON round trip)."""
    todo: list[Any] = [values]
    while todo:
        v = todo.pop()
        kind = type(v)
        if kind is dict:
            if not _TEXT.issuperset(map(type, v)):
                return False
            todo.extend(v.values())
        elif kind is list:
            todo.extend(v)
        elif kind is float:
            if not math.isfinite(v):
                return False
        elif kind not in _SCALARS:
            return False
    return True


def _column_in(raw: Any, n: int, allowed: dict[str, type]) -> list[Any]:
    """An object column's values from what `_column_out` wrote."""
    if isinstance(raw, list):
        values = [_in(v, allowed) for v in raw]
    elif isinstance(raw, dict) and set(raw) == {PLAIN} and isinstance(raw[PLAIN], list):
        values = raw[PLAIN]
    elif isinstance(raw, dict) and set(raw) == {SHARED, INDEX} and isinstance(raw[SHARED], list) \
            and isinstance(raw[INDEX], list):
        uniques = [_in(v, allowed) for v in raw[SHARED]]
        try:
            values = [uniques[i] for i in raw[INDEX]]
        except (IndexError, TypeError):
            raise ValueError("a frame column with a malformed index") from None
    else:
        raise ValueError("a malformed frame column")
    if len(values) != n:
        raise ValueError("a frame with columns of unequal length")
    return values


def _in(raw: Any, allowed: dict[str, type]) -> Any:
    """The value tagged data stands for (ValueError for anything else)."""
    if raw is None or isinstance(raw, bool | int | float | str):
        return raw
    if isinstance(raw, list):
        return [_in(v, allowed) for v in raw]
    if not isinstance(raw, dict) or len(raw) not in (1, 2):
        raise ValueError("an untagged object")
    if TUPLE in raw and len(raw) == 1 and isinstance(raw[TUPLE], list):
        return tuple(_in(v, allowed) for v in raw[TUPLE])
    if MAPPING in raw and len(raw) == 1 and isinstance(raw[MAPPING], list):
        out = {}
        for pair in raw[MAPPING]:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError("a malformed mapping")
            key = _in(pair[0], allowed)
            try:
                out[key] = _in(pair[1], allowed)
            except TypeError:  # an unhashable key
                raise ValueError("a malformed mapping key") from None
        return out
    if CLASS in raw and isinstance(raw.get(FIELDS), dict):
        return _record(raw, allowed)
    if FRAME in raw and len(raw) == 1 and isinstance(raw[FRAME], dict):
        return _frame_in(raw[FRAME], allowed)
    if ARRAY in raw and len(raw) == 1:
        return _array_in(raw[ARRAY])
    raise ValueError("an unknown tag")


def _record(raw: dict[str, Any], allowed: dict[str, type]) -> Any:
    """One dataclass instance, if its class is allowed and the fields are exactly its own."""
    cls = allowed.get(raw[CLASS]) if isinstance(raw[CLASS], str) else None
    if cls is None:
        raise ValueError(f"a record of a class not expected here: {str(raw[CLASS])[:80]}")
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    given = raw[FIELDS]
    required = {f.name for f in dataclasses.fields(cls)
                if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    if not set(given) <= names or not required <= set(given):
        raise ValueError(f"a {cls.__name__} with other fields than this lossdb's")
    try:
        return cls(**{k: _in(v, allowed) for k, v in given.items()})
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a {cls.__name__} that cannot be built: {exc}") from None


def _frame_in(raw: dict[str, Any], allowed: dict[str, type]) -> Any:
    """A pandas frame from its columns, dtypes, index and values."""
    import numpy as np
    import pandas as pd

    columns, dtypes, data = raw.get("columns"), raw.get("dtypes"), raw.get("data")
    if not (isinstance(columns, list) and isinstance(dtypes, list) and isinstance(data, list)
            and len(columns) == len(dtypes) == len(data)) or not set(dtypes) <= FRAME_DTYPES:
        raise ValueError("a malformed frame")
    n = raw.get("rows")
    if not isinstance(n, int) or n < 0:
        raise ValueError("a frame without its number of rows")
    index = None if raw.get("index") is None else _in(raw["index"], allowed)
    if index is not None and (not isinstance(index, list) or len(index) != n):
        raise ValueError("a frame with a malformed index")
    parts = {}
    for name, dtype, col in zip(columns, dtypes, data, strict=True):
        if dtype in ("object", "string", "str"):
            values = np.empty(n, dtype=object)
            values[:] = _column_in(col, n, allowed) if n else []
        else:
            if not isinstance(col, list) or len(col) != n:
                raise ValueError("a frame with columns of unequal length")
            try:
                values = np.array(col, dtype=dtype)
            except (TypeError, ValueError, OverflowError):
                raise ValueError("a frame column of the wrong type") from None
        parts[_in(name, allowed)] = pd.Series(values, dtype=dtype, copy=False)
    frame = pd.DataFrame(parts, columns=[_in(c, allowed) for c in columns]) if parts else pd.DataFrame()
    if index is not None:
        frame.index = index
    return frame


def _array_in(raw: Any) -> Any:
    """A numeric numpy array from its dtype, shape and values."""
    import numpy as np

    if not (isinstance(raw, list) and len(raw) == 3 and isinstance(raw[0], str) and isinstance(raw[1], list)):
        raise ValueError("a malformed array")
    dtype = np.dtype(raw[0]) if raw[0] in ("bool", "int64", "int32", "float64", "float32", "uint8") else None
    if dtype is None or not all(isinstance(d, int) and d >= 0 for d in raw[1]):
        raise ValueError("an array of an unexpected type")
    try:
        return np.array(raw[2], dtype=dtype).reshape(raw[1])
    except (TypeError, ValueError, OverflowError):
        raise ValueError("a malformed array") from None

