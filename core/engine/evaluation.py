"""The per-epoch yardsticks of a stack: a forward pass over train, validation and test, then the
losses and metrics of every model (arrays (K,) per metric name)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdb.core.engine import metrics as M
from lossdb.core.engine.nets import NetSpec, forward
from lossdb.core.engine.objective import Objective
from lossdb.core.engine.stacking import PARTS, Split, StackData

CONFIDENT_WRONG = 0.01  # a "confident mistake": the true class gets probability below this
CHUNK_FLOATS = 1 << 17  # evaluate models in chunks whose widest layer holds about this many floats (512 kB)


@dataclass
class Evaluation:
    """One epoch's metrics of K models, which of them had finite outputs, and the test reliability diagram."""

    row: dict[str, np.ndarray]  # metric name → (K,)
    finite: np.ndarray  # (K,) bool: every output z on every split finite
    reliability: tuple[np.ndarray, np.ndarray, np.ndarray] | None  # confidence, accuracy, count (K, bins)


class Evaluator:
    """Computes every model's yardsticks on all three splits from its current parameters."""

    def __init__(self, net: NetSpec, data: StackData, objective: Objective, *,
                 record_output: bool = False, minority: int | None = None):
        self.net, self.data, self.objective = net, data, objective
        self.record_output = record_output  # one-sample sets: the output ŷ and ∂loss/∂z each epoch
        self.minority = minority  # imbalanced sets: the class whose recall is recorded

    def evaluate(self, params: list[np.ndarray]) -> Evaluation:
        """Every model's metrics under `params` (each (K, …))."""
        # One forward pass per split, not one over the three side by side: BLAS picks its kernel
        # by the number of rows, so fusing them would change the outputs in the last float32 bit.
        row: dict[str, np.ndarray] = {}
        reliability = None
        finite = np.ones(len(self.objective.linear), dtype=bool)
        for part in PARTS:
            split = self.data.part(part)
            z = self._forward(params, split.X)
            finite &= np.isfinite(z).all(axis=(1, 2))
            L, G = self.objective.loss_and_grad(z, split.y)
            row[f"{part}_loss"] = L.mean(axis=1)
            if part == "train":
                self._train_extras(z, G, row)
            if self.data.task == "classification":
                reliability = self._classification(part, z, split.y, L, G, row) or reliability
            else:
                self._regression(part, z, split, row)
        return Evaluation(row, finite, reliability)

    def progress(self, params: list[np.ndarray]) -> dict[str, np.ndarray]:
        """The training split's mean loss and accuracy of every model (K,) between epochs (core.engine.steps)."""
        split = self.data.part("train")
        z = self._forward(params, split.X)
        L, _ = self.objective.loss_and_grad(z, split.y)
        return {"step_train_loss": L.mean(axis=1), "step_train_accuracy": M.accuracy(z.argmax(axis=-1), split.y)}

    def _forward(self, params: list[np.ndarray], X: np.ndarray) -> np.ndarray:
        """z (K, n, c) computed a few models at a time, so that each chunk's hidden activations stay
        in cache (a model's numbers do not depend on its chunk: every product is per model)."""
        K, n = X.shape[:2]
        step = max(1, CHUNK_FLOATS // (n * max(self.net.widths)))
        if step >= K:
            return forward(self.net, params, X)[0]
        z = np.empty((K, n, self.net.n_outputs), dtype=X.dtype)
        for k in range(0, K, step):
            z[k:k + step] = forward(self.net, [p[k:k + step] for p in params], X[k:k + step])[0]
        return z

    def _train_extras(self, z: np.ndarray, G: np.ndarray, row: dict[str, np.ndarray]) -> None:
        row["grad_norm"] = np.sqrt((G.astype(np.float64) ** 2).sum(axis=2)).mean(axis=1)
        if not self.objective.linear.all():
            sat = M.saturation(self.objective.outputs(z))
            row["saturation"] = np.where(self.objective.linear, np.nan, sat)
        if self.record_output:
            row["output"] = self.objective.outputs(z)[:, 0, 0]
            row["dloss_dz"] = G[:, 0, 0]

    def _classification(self, part: str, z, y, L, G, row) -> tuple | None:
        pred = z.argmax(axis=-1)
        row[f"{part}_accuracy"] = M.accuracy(pred, y)
        if part == "train":
            return None
        p = self.objective.probabilities(z)
        row[f"{part}_nll"] = M.nll(p, y)
        if part == "val":
            return None
        cm = M.confusion(pred, y, self.data.n_classes)  # counted once for the three metrics below
        row["test_balanced_accuracy"] = M.balanced_accuracy_of(cm)
        row["test_macro_f1"] = M.macro_f1_of(cm)
        row["test_brier"] = M.brier(p, y)
        reliability = M.reliability(p, y)
        row["test_ece"] = M.ece_of(reliability)  # from the same bins: binned once per epoch
        row["test_true_class_prob"] = M.true_class_confidence(p, y)
        if self.minority is not None:
            row["test_minority_recall"] = M.class_recall_of(cm, self.minority)
        _confident_mistakes(p, y, L, G, row)
        return reliability

    def _regression(self, part: str, z: np.ndarray, split: Split, row) -> None:
        yhat = self.objective.outputs(z)
        pred = np.empty(z.shape, dtype=np.float64)
        for k, s in enumerate(self.data.scalers):
            pred[k] = s.inverse(yhat[k])
        row[f"{part}_rmse"] = M.rmse(pred, split.target)
        if part == "test":
            row["test_mae"] = M.mae(pred, split.target)


def _confident_mistakes(p, y, L, G, row) -> None:
    """Share of test samples whose true class gets p < CONFIDENT_WRONG, and their mean loss and ‖∂L/∂z‖."""
    wrong = np.take_along_axis(p, y[..., None], axis=-1)[..., 0] < CONFIDENT_WRONG
    count = wrong.sum(axis=1)
    gnorm = np.sqrt((G.astype(np.float64) ** 2).sum(axis=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        row["test_confident_wrong_share"] = count / wrong.shape[1]
        row["test_confident_wrong_loss"] = (L * wrong).sum(axis=1) / count
        row["test_confident_wrong_grad"] = (gnorm * wrong).sum(axis=1) / count
