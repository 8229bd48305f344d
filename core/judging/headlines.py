"""The summary of many verdicts: one headline row per claim with how the claim fares elsewhere,
and tallies of outcomes over many comparisons (Benjamini–Hochberg).

Light on purpose (no pandas, no scipy at import): `lossdb compare` reads cached verdicts and needs
only this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from lossdb.core.judging.claims import CLAIMS, Claim
from lossdb.core.judging.outcomes import ALPHA, VERDICTS, Reason, Verdict


def summary(verdicts: list[Verdict], claims: dict[str, Claim] | None = None) -> list[Verdict]:
    """One row per claim, in declaration order: the headline verdict carrying, as data (`tally`), how
    the claim's other verdicts fare (present/ words it)."""
    claims = CLAIMS if claims is None else claims
    out = []
    for claim_id in [*claims, *dict.fromkeys(v.claim for v in verdicts if v.claim not in claims)]:
        rows = [v for v in verdicts if v.claim == claim_id]
        if not rows:
            continue
        head = next((v for v in rows if v.headline), None) or next(
            (v for v in rows if v.verdict != "not run"), rows[0])
        out.append(replace(head, headline=True, tally=_tally(head, rows)))
    return out


def counted(verdicts: Sequence[Verdict]) -> list[Verdict]:
    """The comparisons a tally counts: measured (neither not run nor not measurable), not an
    illustration, and each distinct once (a tuned row whose seeds and rates match an equal-rate row
    gives the same numbers: the first is kept)."""
    seen: set[tuple] = set()
    out = []
    for v in verdicts:
        if v.verdict in ("not run", "not measurable") or v.illustration:
            continue
        key = _identity(v)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def uncounted(verdicts: Sequence[Verdict]) -> dict[str, int]:
    """What a tally leaves apart: rows that duplicate another ("duplicates") and "not measurable" ones."""
    real = [v for v in verdicts if not v.illustration and v.verdict != "not run"]
    unmeasurable = sum(v.verdict == "not measurable" for v in real)
    return {"duplicates": len(real) - unmeasurable - len(counted(real)), "not measurable": unmeasurable}


def _identity(v: Verdict) -> tuple:
    return (v.claim, v.experiment, v.condition, v.metric, v.arms, v.n, v.effect, v.ci_low, v.ci_high,
            tuple(v.values.items()), v.verdict)


def tally(verdicts: Sequence[Verdict], q: float = ALPHA) -> dict[str, int]:
    """Counts of outcomes over the distinct measured comparisons (`counted`) with the false discovery
    rate held at q (Benjamini–Hochberg over each comparison's p-value for its decided outcome, over
    exactly the comparisons counted): a decided outcome whose p-value does not survive counts as
    inconclusive."""
    measured = counted(verdicts)
    from lossdb.core.judging.decisions import bh_reject  # scipy, ~0.2 s to import: only tallies need it

    pvalues = np.array([v.p_value for v in measured], dtype=np.float64)
    keep = bh_reject(pvalues, q) if pvalues.size else np.zeros(0, dtype=bool)
    counts = dict.fromkeys(VERDICTS[:4], 0)
    for v, ok in zip(measured, keep, strict=True):
        counts[v.verdict if (ok or v.deterministic) and v.decided else "inconclusive"] += 1
    return counts


def _counts(rows: list[Verdict]) -> tuple[tuple[str, int], ...]:
    """Benjamini–Hochberg counts over exactly `rows` (already `counted`)."""
    return tuple((k, n) for k, n in tally(rows).items() if n)


def _tally(head: Verdict, rows: list[Verdict]) -> tuple[Reason, ...]:
    """How the headline's own comparison fares in the other conditions and learning rates (with
    where it differs), the counts over every comparison of the claim, and tests not yet run."""
    measured = counted(rows)
    missing = sorted({v.experiment for v in rows if v.verdict == "not run"})
    out = []
    same = [v for v in measured if _identity(v) != _identity(head) and (v.experiment, v.metric, v.arms) ==
            (head.experiment, head.metric, head.arms)]
    if same:
        out.append(Reason("same_comparison", (("n", len(same)), ("counts", _counts(same)))))
        differ = [v for v in same if v.verdict != head.verdict]
        if differ:
            out.append(Reason("elsewhere", (("rows", tuple((v.verdict, v.condition, v.lr) for v in differ[:3])),
                                            ("more", len(differ) - 3 if len(differ) > 3 else 0))))
    if len(measured) > len(same) + 1:
        apart = uncounted(rows)
        out.append(Reason("all_comparisons", (("n", len(measured)), ("counts", _counts(measured)),
                                              ("duplicates", apart["duplicates"]),
                                              ("not_measurable", apart["not measurable"]))))
    if missing and head.verdict != "not run":
        out.append(Reason("not_yet_run", (("experiments", tuple(missing)),)))
    return tuple(out)
