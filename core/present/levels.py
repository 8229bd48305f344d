"""The level a table's intervals have, in words: "99.55% intervals, family of 11 headlines"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lossdb.core.present.numbers import plural

if TYPE_CHECKING:
    from lossdb.core.judging.outcomes import Verdict

ALPHA = 0.05  # each comparison's own level (core.judging.outcomes.ALPHA); a family's is ALPHA / m


def family_level(v: Verdict) -> str:
    """A headline's level: "99.55% intervals, family of 11 headlines (catalogue)"; "" outside a family."""
    if not v.headline or v.family_size < 1:
        return ""
    where = "the catalogue" if v.family == "catalogue" else v.family
    return (f"{_percent(ALPHA / v.family_size)} intervals, family of {plural(v.family_size, 'headline')} "
            f"({where}, Bonferroni)")


def level_text(rows: Sequence[Verdict]) -> str:
    """What the intervals of a table mean: each family's level, then the level of every other row."""
    families = list(dict.fromkeys(family_level(v) for v in rows if family_level(v)))
    others = any(not family_level(v) and not v.deterministic and v.verdict != "not run" for v in rows)
    parts = [f"Headlines: {'; '.join(families)}." if families else ""]
    if others:
        parts.append(f"{'Other rows' if families else 'Rows'}: {_percent(ALPHA)} intervals, each comparison on its own.")
    if any(v.method.startswith("median of per-seed") for v in rows):  # --estimator robust: a different estimand
        parts.append("Continuous measures: the median of per-seed differences (of per-seed ratios for a ratio), "
                     "with the sign-test interval.")
    return " ".join(p for p in parts if p)


def _percent(alpha: float) -> str:
    return f"{100 * (1 - alpha):.4g}%"
