"""Which verdicts were measured on training data that lossdb corrupted on purpose, as data.

The catalogue's robustness experiments flip labels, replace targets by outliers or cut a class
down; a verdict measured under such a condition carries `Reason("injected", figures)` so every
view can say that lossdb made the corruption (core.present.conditions words it), whether the
corruption varies between the experiment's runs (its condition) or is fixed for all of them (its spec).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from lossdb.core.judging.outcomes import Reason, Verdict

CLEAN = {"label_noise": 0.0, "outliers": 0.0, "imbalance": 1.0, "feature_outliers": 0.0}  # "not corrupted"

Figures = tuple[tuple[str, Any], ...]


def injected(v: Verdict, fixed: Figures = ()) -> Verdict:
    """The verdict with an `injected` reason naming its condition's corruptions, those that vary
    (in its condition) and those `fixed` for its whole experiment (unchanged if none)."""
    keys = dict(v.condition_keys)
    settings = {**dict(fixed), **{k: x for k, x in keys.items() if k in CLEAN}}
    figures = tuple((k, settings[k]) for k, clean in CLEAN.items()
                    if _number(settings.get(k)) and float(settings[k]) != clean)
    if not figures or any(r.code == "injected" for r in v.reasons):
        return v
    return replace(v, reasons=(*v.reasons, Reason("injected", figures)))


def mark_injected(rows: Iterable[Verdict], fixed: dict[str, Figures] | None = None) -> list[Verdict]:
    """Every verdict with its `injected` reason where its condition corrupts the training data;
    `fixed`: each experiment's corruptions set to one value for all its runs (`fixed_corruptions`)."""
    fixed = fixed or {}
    return [injected(v, fixed.get(v.experiment, ())) for v in rows]


def fixed_corruptions(stored: Iterable[dict[str, Any]]) -> dict[str, Figures]:
    """{experiment: ((corruption, value), ...)} of each stored experiment (name, spec) whose data
    tables give a corruption one value for every run: not varied, so in no condition, yet injected."""
    out: dict[str, Figures] = {}
    for e in stored:
        spec = e.get("spec") or {}
        presets = spec.get("presets") if isinstance(spec.get("presets"), dict) else {}
        tables = [t for t in [spec.get("data"), *(p.get("data") for p in presets.values() if isinstance(p, dict))]
                  if isinstance(t, dict)]
        figures = []
        for key, clean in CLEAN.items():
            values = {float(t[key]) for t in tables if _number(t.get(key))}
            if len(values) == 1 and (value := values.pop()) != clean:
                figures.append((key, value))
        if figures:
            out[e["name"]] = tuple(figures)
    return out


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)
