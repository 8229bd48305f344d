"""The per-epoch yardsticks of a stack: a forward pass over train, validation and test, then the
losses and metrics of every model (arrays (K,) per metric name).

With another array library than numpy (core.engine.backend) every metric is computed on the
device and the epoch's row comes back to the host in one transfer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdb.core.engine import metrics as M
from lossdb.core.engine.backend import namespace, to_numpy
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
        if not isinstance(params[0], np.ndarray):
            return self._evaluate_array_api(params)
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

    def _evaluate_array_api(self, params: list) -> Evaluation:
        """evaluate() on the arrays' device; the row, finiteness and diagram gathered in one transfer."""
        xp = namespace(params[0])
        row: dict = {}
        reliability = None
        finite = None
        for part in PARTS:
            split = self.data.part(part)
            z = forward(self.net, params, xp.take(split.X, self._seed_of, axis=0))[0]
            ok = xp.all(xp.isfinite(z), axis=(1, 2))
            finite = ok if finite is None else finite & ok
            L, G = self.objective.loss_and_grad(z, split.y)
            row[f"{part}_loss"] = xp.mean(L, axis=1)
            if part == "train":
                self._train_extras_array_api(xp, z, G, row)
            if self.data.task == "classification":
                reliability = self._classification(part, z, split.y, L, G, row) or reliability
            else:
                yhat = self.objective.outputs(z)
                pred = yhat * self._scale + self._shift
                row[f"{part}_rmse"] = M.rmse(pred, split.target)
                if part == "test":
                    row["test_mae"] = M.mae(pred, split.target)
        names = list(row)
        block = xp.stack([xp.astype(row[k], xp.float64) for k in names] + [xp.astype(finite, xp.float64)])
        if reliability is not None:
            block = xp.concat([block, *(xp.matrix_transpose(xp.astype(a, xp.float64)) for a in reliability)])
        host = to_numpy(block)  # the one transfer of the epoch
        out = {k: host[i] for i, k in enumerate(names)}
        kept = host[len(names) + 1:]
        diagram = None
        if reliability is not None:
            bins = reliability[0].shape[1]
            conf, acc, count = (np.ascontiguousarray(kept[j * bins:(j + 1) * bins].T) for j in range(3))
            diagram = (conf, acc, count.astype(np.int64))
        return Evaluation(out, host[len(names)] > 0, diagram)

    def _train_extras_array_api(self, xp, z, G, row) -> None:
        G64 = xp.astype(G, xp.float64)
        row["grad_norm"] = xp.mean(xp.sqrt(xp.sum(G64 * G64, axis=2)), axis=1)
        if not self.objective.linear.all():
            sat = M.saturation(self.objective.outputs(z))
            row["saturation"] = xp.where(self._linear, xp.nan, sat)
        if self.record_output:
            row["output"] = self.objective.outputs(z)[:, 0, 0]
            row["dloss_dz"] = G[:, 0, 0]

    @property
    def _seed_of(self):
        K = len(self.objective.linear)
        return self._device_constant("seed_of", lambda: np.arange(K) if self.data.seed_of is None else self.data.seed_of)

    @property
    def _linear(self):
        return self._device_constant("linear", lambda: self.objective.linear)

    @property
    def _scale(self):
        return self._device_constant("scale", lambda: np.stack([s.scale for s in self.data.scalers])[:, None, :])

    @property
    def _shift(self):
        return self._device_constant("shift", lambda: np.stack([s.shift for s in self.data.scalers])[:, None, :])

    def _device_constant(self, name: str, make):
        """A numpy constant moved once to the device of the stack's data."""
        cache = self.__dict__.setdefault("_constants", {})
        if name not in cache:
            X = self.data.train.X
            value = make() if name in ("linear", "seed_of") else np.asarray(make(), dtype=np.float64)
            cache[name] = namespace(X).asarray(value, device=X.device)
        return cache[name]

    def _forward(self, params: list[np.ndarray], X: np.ndarray) -> np.ndarray:
        """z (K, n, c) computed a few models at a time, so that each chunk's hidden activations stay
        in cache (a model's numbers do not depend on its chunk: every product is per model)."""
        K, n = params[0].shape[0], X.shape[1]
        step = max(1, CHUNK_FLOATS // (n * max(self.net.widths)))
        if step >= K:
            return forward(self.net, params, self.data.features(X))[0]
        z = np.empty((K, n, self.net.n_outputs), dtype=X.dtype)
        for k in range(0, K, step):
            chunk = slice(k, k + step)
            z[chunk] = forward(self.net, [p[chunk] for p in params], self.data.features(X, chunk))[0]
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
        pred = z.argmax(axis=-1) if isinstance(z, np.ndarray) else namespace(z).argmax(z, axis=-1)
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
    if not isinstance(p, np.ndarray):
        xp = namespace(p)
        wrong = xp.astype(M._true_class_prob(p, y) < CONFIDENT_WRONG, xp.float64)
        count = xp.sum(wrong, axis=1)
        G64 = xp.astype(G, xp.float64)
        gnorm = xp.sqrt(xp.sum(G64 * G64, axis=2))
        row["test_confident_wrong_share"] = count / wrong.shape[1]
        row["test_confident_wrong_loss"] = xp.sum(xp.astype(L, xp.float64) * wrong, axis=1) / count
        row["test_confident_wrong_grad"] = xp.sum(gnorm * wrong, axis=1) / count
        return
    wrong = np.take_along_axis(p, y[..., None], axis=-1)[..., 0] < CONFIDENT_WRONG
    count = wrong.sum(axis=1)
    gnorm = np.sqrt((G.astype(np.float64) ** 2).sum(axis=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        row["test_confident_wrong_share"] = count / wrong.shape[1]
        row["test_confident_wrong_loss"] = (L * wrong).sum(axis=1) / count
        row["test_confident_wrong_grad"] = (gnorm * wrong).sum(axis=1) / count
