"""Measures read on the sub-epoch record of training (core.engine.steps): a run's series `step`
(the optimiser step of each record) beside `step_train_accuracy` and `step_train_loss`."""

from __future__ import annotations

import math

import numpy as np


def steps_to(step: np.ndarray, curve: np.ndarray, threshold: float, *, below: bool = False) -> float:
    """The first recorded optimiser step whose value is ≥ threshold (≤ with `below`); inf if never.

    step, curve: (m,) records of one run. The grid is at most 5% coarse (core.engine.steps), so the
    time is known to that relative resolution."""
    s, c = np.asarray(step, dtype=np.float64), np.asarray(curve, dtype=np.float64)
    n = min(s.size, c.size)
    hit = np.flatnonzero(c[:n] <= threshold if below else c[:n] >= threshold)
    return float(s[hit[0]]) if hit.size else math.inf


def early_area(step: np.ndarray, curve: np.ndarray, until: float) -> float:
    """The mean of the curve over optimiser steps 0 … `until` (trapezoids on the step grid): a
    horizon-free companion of a time to threshold (no threshold, no censoring). NaN when the record
    does not reach `until` (a run that diverged early)."""
    s, c = np.asarray(step, dtype=np.float64), np.asarray(curve, dtype=np.float64)
    n = min(s.size, c.size)
    s, c = s[:n], c[:n]
    if n < 2 or until <= 0 or s[-1] < until or not np.isfinite(c[s <= until]).all():
        return math.nan
    inside = s <= until
    xs, ys = s[inside], c[inside]
    if xs[-1] < until:  # close the window at `until` by linear interpolation
        ys = np.append(ys, np.interp(until, s, c))
        xs = np.append(xs, until)
    return float(np.sum((ys[1:] + ys[:-1]) * np.diff(xs)) / 2 / until)


def steps_per_epoch(step: np.ndarray, epochs: int) -> float:
    """One epoch's optimiser steps of a run that trained to the end: its last recorded step / epochs."""
    s = np.asarray(step, dtype=np.float64)
    return float(s[-1]) / epochs if s.size and epochs > 0 else math.nan
