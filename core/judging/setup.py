"""Does a headline's effect depend on the setup? A declared interaction test, family-controlled.

"This claim depends on preprocessing / initialisation" is said only when the effect of the
headline's comparison (same test, arms and tuned learning rates, same data) differs across the
setups it was measured under — input scaling, initial weight scale and initialisation, the keys in
`SETUP_KEYS` — by more than chance: Cochran's Q on the per-setup effects (log ratios for ratios)
weighted by their inverse variances (each from its interval), Q ~ χ²(k − 1) under no interaction.
The claims tested this way form one family: each test is run at α/m (Bonferroni over the m claims
with at least two setups), so across the table the chance of a false "depends on setup" is at most
α. Picking the setups that agree with a story after looking at 72 of them is what this replaces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.special import chdtrc, ndtri

from lossdb.core.judging.outcomes import ALPHA, Reason, Verdict

SETUP_KEYS = ("scale", "init_scale", "init")


def _setups(head: Verdict, rows: Sequence[Verdict]) -> list[Verdict]:
    """The headline's comparison in every setup of the same data (itself included), tuned rates."""
    fixed = {k: v for k, v in head.condition_keys if k not in SETUP_KEYS}
    same = [v for v in rows if v.claim == head.claim and v.experiment == head.experiment
            and v.metric == head.metric and v.arms == head.arms and v.lr_mode == head.lr_mode
            and {k: x for k, x in v.condition_keys if k not in SETUP_KEYS} == fixed
            and not v.deterministic and v.n >= 2 and _spread(v) is not None]
    return same if len({v.condition for v in same}) >= 2 else []


def _spread(v: Verdict) -> tuple[float, float] | None:
    """(effect, standard error) on the additive scale (log for a ratio), from the verdict's interval."""
    if v.effect is None or v.ci_low is None or v.ci_high is None:
        return None
    vals = (v.effect, v.ci_low, v.ci_high)
    if v.ratio:
        if min(vals) <= 0:
            return None
        vals = tuple(math.log(x) for x in vals)
    if not all(math.isfinite(x) for x in vals):
        return None
    se = (vals[2] - vals[1]) / (2 * float(ndtri(1 - v.alpha / 2)))
    return (vals[0], se) if se > 0 else None


def interaction(setups: Sequence[Verdict]) -> tuple[float, int, float]:
    """Cochran's Q over the setups' effects, its degrees of freedom and its p-value."""
    parts = [_spread(v) for v in setups]
    w = [1 / se**2 for _, se in parts]
    mean = sum(wi * e for wi, (e, _) in zip(w, parts, strict=True)) / sum(w)
    q = sum(wi * (e - mean) ** 2 for wi, (e, _) in zip(w, parts, strict=True))
    df = len(parts) - 1
    return q, df, float(chdtrc(df, q))


def setup_dependence(headlines: Sequence[Verdict], rows: Sequence[Verdict],
                     alpha: float = ALPHA) -> dict[str, Reason]:
    """For each headline measured under two or more setups: Reason "setup_dependence" with Q, df, p,
    the family level α/m, whether it depends (p < α/m), the setups and each one's verdict."""
    tested = {h.claim: s for h in headlines if (s := _setups(h, rows))}
    level = alpha / max(len(tested), 1)
    out = {}
    for claim, setups in tested.items():
        q, df, p = interaction(setups)
        out[claim] = Reason("setup_dependence", (
            ("q", q), ("df", df), ("p", p), ("alpha", level), ("depends", p < level),
            ("setups", tuple((v.condition, v.verdict, v.effect) for v in setups))))
    return out
