"""Shareable views: a page's selections mirrored in the URL's query parameters, so that a copied
link reopens the same experiment, condition, rate and metric.

A page declares its parameters once, calls `restore` before drawing its widgets (a value from the
URL seeds a widget the session has not set yet; one that is no longer valid falls back to the
widget's default, a number outside its widget's range is clamped to it with a notice) and
`publish` after them (the URL then names the current selections, and a notice names any value of
the link that the page could not show).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lossdb.core.present import BANDS

TRUE = ("1", "true", "yes", "on")
SMOOTHING = (1, 25)  # the smoothing slider's range (widgets.chart_options)
ASKED = "_links_asked"  # session key: what the link asked for, until `publish` compares it with what is shown


@dataclass(frozen=True)
class Param:
    """One selection in the URL: its name there, the widget's session key and its kind
    ("text", "list", "bool", "int" or "float")."""

    name: str
    key: str
    kind: str = "text"
    bounds: tuple[float, float] | None = None  # an int or float widget's range
    choices: tuple[str, ...] | None = None  # a text widget's options


def _parse(param: Param, raw: list[str]) -> Any:
    if param.kind == "list":
        return [v for item in raw for v in item.split(",") if v]
    value = raw[-1]
    if param.kind == "bool":
        return value.lower() in TRUE
    if param.kind == "int":
        return int(value)
    if param.kind == "float":
        return float(value)
    return value


def _text(value: Any) -> str | list[str] | None:
    if value is None or value == []:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return f"{value:g}" if isinstance(value, float) else str(value)


def restore(params: Iterable[Param], allowed: dict[str, Sequence[Any]] | None = None) -> None:
    """Seed each widget the session has not set from the URL; a list keeps only `allowed` values,
    a number is clamped to its widget's range (with a notice saying so)."""
    allowed = {**{p.key: p.choices for p in params if p.choices}, **(allowed or {})}
    asked = st.session_state.setdefault(ASKED, {})
    for p in params:
        if p.key in st.session_state or p.name not in st.query_params:
            continue
        raw = st.query_params.get_all(p.name)
        asked[p.name] = (p, raw)
        try:
            value = _parse(p, raw)
        except (ValueError, IndexError, OverflowError):
            continue  # a hand-edited link with a malformed value: the widget keeps its default
        if p.bounds is not None:
            if value != value:  # NaN
                continue
            lo, hi = p.bounds
            kept = min(max(value, lo), hi)
            if kept != value:
                st.info(f"The link's {p.name}={_text(value)} is outside {_text(lo)}–{_text(hi)}, "
                        f"so {_text(kept)} is shown.")
                value = type(value)(kept)
        if p.key in allowed:
            options = [str(o) for o in allowed[p.key]]
            keep = [allowed[p.key][options.index(v)] for v in value if v in options] if p.kind == "list" \
                else (allowed[p.key][options.index(str(value))] if str(value) in options else None)
            if keep is None:
                continue
            value = keep
        st.session_state[p.key] = value


def unshown(params: Iterable[Param]) -> list[str]:
    """The link's values (name=value) that the widgets of `params` do not show, forgotten once told."""
    asked = st.session_state.get(ASKED, {})
    missing = []
    for p in params:
        if p.name not in asked:
            continue
        _, raw = asked.pop(p.name)
        shown = _text(st.session_state.get(p.key))
        shown = set(shown if isinstance(shown, list) else [shown] if shown is not None else [])
        values = [v for item in raw for v in item.split(",") if v] if p.kind == "list" else raw[-1:]
        try:
            wanted = [_text(_parse(p, [v])) for v in values]
        except (ValueError, IndexError):
            wanted = [None] * len(values)
        missing += [f"{p.name}={v}" for v, w in zip(values, wanted, strict=True)
                    if (w[0] if isinstance(w, list) and w else w) not in shown]
    return missing


def publish(params: Iterable[Param]) -> None:
    """Write the widgets' current values into the URL (an empty selection removes its parameter);
    first say which of the link's values the page could not show (gone from the database, or
    mistyped), so that a stale link never silently shows something else."""
    params = list(params)
    missing = unshown(params)
    if missing:
        st.info(f"This link names {', '.join(missing)}, which this database does not hold (or which no "
                "longer applies here): the page shows the defaults for "
                f"{'it' if len(missing) == 1 else 'them'} instead.", icon=":material/link_off:")
    for p in params:
        text = _text(st.session_state.get(p.key))
        if text is None:
            if p.name in st.query_params:
                del st.query_params[p.name]
        elif st.query_params.get_all(p.name) != ([text] if isinstance(text, str) else text):
            st.query_params[p.name] = text


def selection_params(prefix: str, name: str = "") -> tuple[Param, ...]:
    """The experiment, condition and learning-rate selectors of widgets.pick_runs under `prefix`,
    named `name`experiment, `name`condition and `name`lr in the URL."""
    return (Param(f"{name}experiment", f"{prefix}_experiment"), Param(f"{name}condition", f"{prefix}_condition"),
            Param(f"{name}lr", f"{prefix}_lr"))


def chart_params(prefix: str) -> tuple[Param, ...]:
    """The band, seeds, log-scale and smoothing controls of widgets.chart_options under `prefix`."""
    return (Param("band", f"{prefix}_band", choices=(*BANDS, "none")), Param("seeds", f"{prefix}_seeds", "bool"),
            Param("log", f"{prefix}_log", "bool"), Param("smooth", f"{prefix}_smooth", "int", bounds=SMOOTHING))
