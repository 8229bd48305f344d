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


PLATEAU_SHARE = 0.1  # the last tenth of the epochs …
PLATEAU_DROP = 0.01  # … in which the training loss fell by less than 1% of its value: stopped


def plateaued(loss: np.ndarray, share: float = PLATEAU_SHARE, drop: float = PLATEAU_DROP) -> bool | None:
    """The declared plateau test on a training-loss curve (E+1,): True when the loss fell by less than
    `drop` (relative) over the last `share` of the epochs (at least 2), i.e. training has stopped;
    None when the curve is too short (fewer than 3 finite values) to tell."""
    c = np.asarray(loss, dtype=np.float64)
    c = c[np.isfinite(c)]
    if c.size < 3:
        return None
    k = max(2, int(round(share * (c.size - 1))))
    k = min(k, c.size - 1)
    before, last = float(c[-k - 1]), float(c[-1])
    return (before - last) <= drop * max(abs(last), 1e-12)
