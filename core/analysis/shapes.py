"""Scale-free readings of one run's curve: a loss's scale convention (mean or ½ sum over outputs,
the constant in front) multiplies every value of the curve alike and cancels in these."""

from __future__ import annotations

import math

import numpy as np


def relative_to_peak(curve: np.ndarray, epoch: int = 0) -> float:
    """|curve[epoch]| over the largest finite |value| of the curve (E+1,): 1 when the run starts at
    its peak (cross-entropy's gradient on a wrong output), near 0 when the value at `epoch` has
    vanished compared with what the same loss reaches later (a saturated sigmoid under MSE)."""
    c = np.abs(np.asarray(curve, dtype=np.float64))
    if epoch >= c.size or not np.isfinite(c[epoch]):
        return math.nan
    peak = float(c[np.isfinite(c)].max())
    return float(c[epoch]) / peak if peak > 0 else math.nan
