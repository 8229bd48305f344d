"""Numbers for readers: sensible significant digits, a real minus sign, never "nan" or "None"."""

from __future__ import annotations

import math
from typing import Any

MISSING = "—"
MINUS = "−"


def finite(x: Any) -> bool:
    """True for a real, finite number (None, NaN, ±inf and strings are not)."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _minus(text: str) -> str:
    return text.replace("-", MINUS) if not text.startswith(("e", "E")) else text


def num(x: Any, sig: int = 3) -> str:
    """`x` with `sig` significant digits ("0.953", "4.16", "1.2e+04"); ∞ for infinities, — for none."""
    if x is None or isinstance(x, str) or (isinstance(x, float) and math.isnan(x)):
        return MISSING
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else f"{MINUS}∞"
    if isinstance(x, int):
        return _minus(str(x))
    text = f"{x:.{sig}g}"
    mantissa, _, exp = text.partition("e")
    out = mantissa + (f"e{int(exp)}" if exp else "")
    return out.replace("-", MINUS)


def decimals_for(sd: float, sig: int = 2) -> int:
    """Decimal places that show `sig` significant digits of a (positive, finite) spread."""
    return max(0, min(8, sig - 1 - math.floor(math.log10(abs(sd)))))


def mean_sd(mean: Any, sd: Any) -> str:
    """"0.953 ± 0.012": the spread to two significant digits, the mean to the same decimal place;
    the mean alone (4 significant digits) when there is no spread (one seed, or no variation)."""
    if not finite(mean):
        return num(mean)
    if not finite(sd) or sd == 0:
        return num(mean, 4)
    if abs(mean) >= 1e5 or abs(sd) < 1e-6:
        return f"{num(mean, 4)} ± {num(sd, 2)}"
    d = decimals_for(sd)
    return f"{mean:.{d}f} ± {sd:.{d}f}".replace("-", MINUS)


def lr_text(lr: Any) -> str:
    """A learning rate as written in configs: 0.1, 2, 0.005."""
    return f"{float(lr):g}".replace("-", MINUS) if finite(lr) else MISSING


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 run", "3 runs", "no runs"."""
    if n == 0:
        return f"no {many or word + 's'}"
    return f"{n} {word if n == 1 else many or word + 's'}"


def join_words(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def duration_text(seconds: float) -> str:
    """"about 40 seconds", "about 2 minutes", "about 1.5 hours": an estimate of wall time, rounded up."""
    import math

    if seconds < 60:
        return f"about {max(5, 5 * math.ceil(seconds / 5))} seconds"
    if seconds < 90 * 60:
        return f"about {plural(math.ceil(seconds / 60), 'minute')}"
    hours = math.ceil(seconds / 1800) / 2
    return f"about {num(hours)} hours"
