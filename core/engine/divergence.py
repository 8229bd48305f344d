"""When a model has diverged, and which epochs of it are kept.

The rule: model k diverges at the first epoch e where any of its outputs z (train, validation or
test) or its training loss is not finite, or where its training loss exceeds BLOW_UP times
max(1, its training loss before training). Losses are computed on standardised targets and on
logits, where a loss a million times its starting value only comes from weights growing
geometrically towards float overflow; the regression scores of such a model (test RMSE 1e22) are
artefacts of overflow, not measurements.

Epoch e itself is never stored: no metric is computed from non-finite (or overflowing) outputs. The
run keeps epochs 0 … e − 1 (none if e = 0), its final values are those of epoch e − 1, its status
is "diverged" and its diverged_epoch is e. Its parameters are zeroed and it stops updating, so
the other models of the stack go on unaffected.
"""

from __future__ import annotations

import numpy as np

BLOW_UP = 1e6


class Divergence:
    """Which of K models are still training, the epoch each diverged at and its last kept epoch."""

    def __init__(self, n_models: int, epochs: int):
        self.active = np.ones(n_models, dtype=bool)
        self.last = np.full(n_models, epochs)  # the last epoch whose values are kept
        self.epoch: list[int | None] = [None] * n_models  # the epoch each diverged at
        self.start: np.ndarray | None = None  # training loss at epoch 0

    def update(self, epoch: int, train_loss: np.ndarray, finite: np.ndarray) -> np.ndarray:
        """Mark the active models that diverge at this epoch; return their indices."""
        if self.start is None:
            self.start = np.where(np.isfinite(train_loss), train_loss, 0.0)
        with np.errstate(invalid="ignore"):
            ok = finite & np.isfinite(train_loss) & (train_loss <= BLOW_UP * np.maximum(1.0, self.start))
        new = np.flatnonzero(self.active & ~ok)
        for k in new:
            self.active[k], self.last[k], self.epoch[k] = False, epoch - 1, epoch
        return new

    def status(self, k: int) -> str:
        """"diverged" or "finished"."""
        return "finished" if self.epoch[k] is None else "diverged"
