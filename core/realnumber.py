"""The one number validator: what counts as a real, a finite or a whole number in a setting.

A bool is never a number here (TOML's `true` is not 1), numpy scalars are; every check of a
user's setting (experiment files, data specs, network and comparison settings) asks these.
"""

from __future__ import annotations

import math
from numbers import Integral, Real


def real(value: object) -> bool:
    """A real number (int, float or numpy scalar, not bool), finite or not."""
    return isinstance(value, Real) and not isinstance(value, bool)


def finite(value: object) -> bool:
    """A finite real number."""
    return real(value) and math.isfinite(value)  # type: ignore[arg-type]


def whole(value: object) -> bool:
    """A whole number (int or numpy integer, not bool)."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def within(value: object, lo: float = -math.inf, hi: float = math.inf, *, open_low: bool = False,
           open_high: bool = False) -> bool:
    """A finite real number in [lo, hi], an end excluded when open."""
    if not finite(value):
        return False
    v = float(value)  # type: ignore[arg-type]
    return (lo < v if open_low else lo <= v) and (v < hi if open_high else v <= hi)
