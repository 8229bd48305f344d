"""Which verdicts were measured on training data that lossdb corrupted on purpose, as data.

The catalogue's robustness experiments flip labels, replace targets by outliers or cut a class
down; a verdict measured under such a condition carries `Reason("injected", figures)` so every
view can say that lossdb made the corruption (core.present.conditions words it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from lossdb.core.judging.outcomes import Reason, Verdict

CLEAN = {"label_noise": 0.0, "outliers": 0.0, "imbalance": 1.0}  # the value of "not corrupted"


def injected(v: Verdict) -> Verdict:
    """The verdict with an `injected` reason naming its condition's corruptions (unchanged if none)."""
    keys = dict(v.condition_keys)
    figures = tuple((k, keys[k]) for k, clean in CLEAN.items()
                    if isinstance(keys.get(k), int | float) and float(keys[k]) != clean)
    if not figures or any(r.code == "injected" for r in v.reasons):
        return v
    return replace(v, reasons=(*v.reasons, Reason("injected", figures)))


def mark_injected(rows: Iterable[Verdict]) -> list[Verdict]:
    """Every verdict with its `injected` reason where its condition corrupts the training data."""
    return [injected(v) for v in rows]
