"""Train a stack of K models (one shape, one dataset) at once; every model is one run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import groupby
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from core import heads, losses
from core import metrics as M
from core.data import DataSpec, Prepared, TargetScaler, fit_target_scaler, prepare
from core.errors import ConfigError
from core.nets import NetSpec, backward, forward, init_params
from core.optim import Optimizer, OptimSpec

# Independent random streams of one seed (the data split draws its own inside core.data).
STREAM_INIT, STREAM_BATCHES = 1, 2
CONFIDENT_WRONG = 0.01  # a "confident mistake": the true class gets probability below this


@dataclass(frozen=True)
class ModelSpec:
    """What varies between the models of a stack: loss, head, learning rate, seed, loss parameters."""

    loss: str
    head: str
    lr: float
    seed: int
    loss_params: tuple[tuple[str, Any], ...] = ()  # gamma, q, delta, alpha as sorted (name, value) pairs
    class_weights: str | tuple[float, ...] | None = None  # "balanced" or one weight per class


@dataclass(frozen=True)
class StackSpec:
    """Everything the models of a stack share, and the models themselves."""

    data: DataSpec
    net: NetSpec  # n_inputs and n_outputs are filled in from the data
    optim: OptimSpec
    epochs: int
    batch_size: int | None  # None: full batch
    models: tuple[ModelSpec, ...]
    dtype: str = "float32"


@dataclass
class RunResult:
    """One trained model: per-epoch metrics (index 0 = before training), status and timings."""

    metrics: dict[str, np.ndarray]
    status: str  # "finished" or "diverged"
    diverged_epoch: int | None
    epochs: int
    wall_seconds: float
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Split:
    X: np.ndarray  # (K, n, d)
    y: np.ndarray  # labels (K, n) or scaled targets (K, n, c)
    target: np.ndarray | None  # regression: original-scale targets (K, n, c)


def train_stack(spec: StackSpec, progress: Callable[[int, int], None] | None = None) -> list[RunResult]:
    """Train every model of the stack; results in the order of spec.models."""
    dtype = np.dtype(spec.dtype)
    order = sorted(range(len(spec.models)), key=lambda k: _group_key(spec.models[k]))
    models = [spec.models[k] for k in order]
    prepared = {s: prepare(spec.data, s, dtype) for s in sorted({m.seed for m in models})}
    first = next(iter(prepared.values()))
    net = replace(spec.net, n_inputs=first.n_features, n_outputs=first.n_outputs)
    state = _State(spec, net, models, prepared, dtype)
    # Tiny matrices: BLAS threads cost more than they give; parallelism comes from processes (--jobs).
    with threadpool_limits(limits=1, user_api="blas"):
        results = state.run(progress)
    out: list[RunResult] = [None] * len(models)  # type: ignore[list-item]
    for pos, k in enumerate(order):
        out[k] = results[pos]
    return out


def _group_key(m: ModelSpec) -> tuple:
    return (m.loss, m.head, m.loss_params, str(m.class_weights))


class _State:
    """The arrays of one stack during training."""

    def __init__(self, spec: StackSpec, net: NetSpec, models: list[ModelSpec],
                 prepared: dict[int, Prepared], dtype: np.dtype):
        self.spec, self.net, self.models, self.dtype = spec, net, models, dtype
        P = [prepared[m.seed] for m in models]
        self.task = P[0].task
        self.n_classes = P[0].n_classes
        self.groups = _groups(models)
        self.bound: list = [None] * len(self.groups)
        self.scalers = self._scalers(P)
        self.train = self._split(P, "train")
        self.val = self._split(P, "val")
        self.test = self._split(P, "test")
        self.weights = self._class_weights(P)
        self.params = init_params(net, [_rng(m.seed, STREAM_INIT) for m in models], dtype)
        self.batch_rngs = {s: _rng(s, STREAM_BATCHES) for s in sorted({m.seed for m in models})}
        # Models of one seed share their training inputs: shuffle each seed's once, then copy by model.
        seeds = list(self.batch_rngs)
        self.seed_of = np.array([seeds.index(m.seed) for m in models])
        self.first_of = [int(np.argmax(self.seed_of == i)) for i in range(len(seeds))]
        self.optim = Optimizer(spec.optim, self.params, np.array([m.lr for m in models], dtype=np.float64))
        # the latest test reliability diagram of every model: confidence, accuracy, count (K, bins)
        self.reliability: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _scalers(self, P: list[Prepared]):
        if self.task != "regression":
            return None
        kinds = {"linear": "standard", "sigmoid": "minmax"}
        for m in self.models:
            if m.head not in kinds:
                raise ConfigError(f"head {m.head!r} cannot fit regression targets; valid: linear, sigmoid")
        if self.spec.data.dataset == "neuron":  # one sample: any fitted scaling would map it to 0
            return [TargetScaler(np.zeros(p.n_outputs), np.ones(p.n_outputs)) for p in P]
        return [fit_target_scaler(kinds[m.head], p.y_train) for m, p in zip(self.models, P, strict=True)]

    def _split(self, P: list[Prepared], part: str) -> _Split:
        X = np.stack([getattr(p, f"X_{part}") for p in P]).astype(self.dtype, copy=False)
        y = [getattr(p, f"y_{part}") for p in P]
        if self.task == "classification":
            return _Split(X, np.stack(y).astype(np.int64), None)
        scaled = np.stack([s.transform(t) for s, t in zip(self.scalers, y, strict=True)])
        for k, m in enumerate(self.models):
            if m.head == "sigmoid":  # min-max fitted on training targets: held-out ones may fall outside [0, 1]
                np.clip(scaled[k], 0, 1, out=scaled[k])
        return _Split(X, scaled.astype(self.dtype), np.stack(y).astype(np.float64))

    def _class_weights(self, P: list[Prepared]) -> np.ndarray | None:
        if all(m.class_weights is None for m in self.models):
            return None
        if self.task != "classification":
            raise ConfigError("class_weights apply to classification datasets only")
        W = np.ones((len(self.models), self.n_classes), dtype=self.dtype)
        for k, (m, p) in enumerate(zip(self.models, P, strict=True)):
            if m.class_weights == "balanced":
                # scikit-learn's "balanced": n_samples / (n_classes · count_c)
                counts = np.bincount(p.y_train, minlength=self.n_classes).astype(np.float64)
                W[k] = len(p.y_train) / (self.n_classes * np.maximum(counts, 1))
            elif m.class_weights is not None:
                if len(m.class_weights) != self.n_classes:
                    raise ConfigError(f"class_weights needs {self.n_classes} values, got {len(m.class_weights)}")
                W[k] = m.class_weights
        return W

    def loss_and_grad(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample losses (K,n) and dloss/dz (K,n,c) of every model under its own loss and head."""
        K, n, c = z.shape
        L = np.empty((K, n), dtype=z.dtype)
        G = np.empty_like(z)
        for i, (sl, m) in enumerate(self.groups):
            zg = z[sl].reshape(-1, c)
            yg = y[sl].reshape(-1) if y.ndim == 2 else y[sl].reshape(-1, c)
            if self.bound[i] is None:  # validate once, then call without checks on every batch
                self.bound[i] = losses.bind(m.loss, m.head, zg, yg, **dict(m.loss_params))
            lo, gr = self.bound[i](zg, yg)
            L[sl] = lo.reshape(-1, n)
            G[sl] = gr.reshape(-1, n, c)
        if self.weights is not None:
            w = np.take_along_axis(self.weights, y, axis=1)
            L *= w
            G *= w[..., None]
        return L, G

    def run(self, progress: Callable[[int, int], None] | None) -> list[RunResult]:
        E = self.spec.epochs
        K = len(self.models)
        history: list[dict[str, np.ndarray]] = []
        kept: list[np.ndarray] = []  # confidence, accuracy, count (K, bins) at each model's last recorded epoch
        active = np.ones(K, dtype=bool)
        stop_epoch = np.full(K, E)
        diverged: list[int | None] = [None] * K
        start = time.perf_counter()
        with np.errstate(all="ignore"):
            for epoch in range(E + 1):
                if epoch > 0:
                    self._epoch()
                row = self._evaluate()
                row["wall_time"] = np.full(K, time.perf_counter() - start)
                history.append(row)
                if self.reliability is not None:
                    kept = kept or [np.array(a) for a in self.reliability]
                    for mine, now in zip(kept, self.reliability, strict=True):
                        mine[active] = now[active]
                for k in np.flatnonzero(active & ~self._finite(row["train_loss"])):
                    active[k], stop_epoch[k], diverged[k] = False, epoch, epoch
                    self.optim.freeze(k)
                    for p in self.params:
                        p[k] = 0
                if progress:
                    progress(epoch, E)
                if not active.any():
                    break
        wall = time.perf_counter() - start
        results = [self._result(history, k, stop_epoch[k], diverged[k], wall / K) for k in range(K)]
        for k, result in enumerate(results):
            if kept and result.status == "finished":  # a diverged model has no meaningful probabilities
                result.extras["reliability"] = _diagram(kept, k)
        return results

    def _finite(self, train_loss: np.ndarray) -> np.ndarray:
        ok = np.isfinite(train_loss)
        for p in self.params:
            ok &= np.isfinite(p).reshape(p.shape[0], -1).all(axis=1)
        return ok

    def _result(self, history, k: int, last: int, diverged: int | None, wall: float) -> RunResult:
        skip = {"saturation"} if self.models[k].head == "linear" else set()
        metrics = {name: np.array([h[name][k] for h in history[: last + 1]], dtype=np.float64)
                   for name in history[0] if name not in skip}
        return RunResult(metrics, "diverged" if diverged is not None else "finished",
                         diverged, int(last), wall)

    def _epoch(self) -> None:
        tr = self.train
        K, n = tr.X.shape[:2]
        perms = [rng.permutation(n) for rng in self.batch_rngs.values()]
        idx = np.stack(perms)[self.seed_of]
        X = np.stack([tr.X[k][p] for k, p in zip(self.first_of, perms, strict=True)])[self.seed_of]
        y = np.take_along_axis(tr.y, idx if tr.y.ndim == 2 else idx[:, :, None], axis=1)
        B = self.spec.batch_size or n
        for s in range(0, n, B):
            z, cache = forward(self.net, self.params, X[:, s:s + B])
            _, gz = self.loss_and_grad(z, y[:, s:s + B])
            gz *= 1.0 / z.shape[1]
            self.optim.step(self.params, backward(self.net, self.params, cache, gz))

    def _evaluate(self) -> dict[str, np.ndarray]:
        row: dict[str, np.ndarray] = {}
        for part, split in (("train", self.train), ("val", self.val), ("test", self.test)):
            z, _ = forward(self.net, self.params, split.X)
            L, G = self.loss_and_grad(z, split.y)
            row[f"{part}_loss"] = L.mean(axis=1)
            if part == "train":
                row["grad_norm"] = np.sqrt((G.astype(np.float64) ** 2).sum(axis=2)).mean(axis=1)
                self._saturation(z, row)
                if self.spec.data.dataset == "neuron":
                    row["output"] = self._yhat(z)[:, 0, 0]
                    row["dloss_dz"] = G[:, 0, 0]
            if self.task == "classification":
                self._classification(part, z, split.y, L, G, row)
            else:
                self._regression(part, z, split, row)
        return row

    def _yhat(self, z: np.ndarray) -> np.ndarray:
        out = np.empty(z.shape, dtype=np.float64)
        for sl, m in self.groups:
            out[sl] = heads.apply(m.head, z[sl].astype(np.float64))
        return out

    def _saturation(self, z: np.ndarray, row: dict[str, np.ndarray]) -> None:
        if all(m.head == "linear" for m in self.models):
            return
        sat = M.saturation(self._yhat(z))
        row["saturation"] = np.where([m.head == "linear" for m in self.models], np.nan, sat)

    def _classification(self, part, z, y, L, G, row) -> None:
        pred = z.argmax(axis=-1)
        row[f"{part}_accuracy"] = M.accuracy(pred, y)
        if part == "train":
            return
        p = np.empty(z.shape, dtype=np.float64)
        for sl, m in self.groups:
            p[sl] = heads.probabilities(m.head, z[sl].astype(np.float64))
        row[f"{part}_nll"] = M.nll(p, y)
        if part == "val":
            return
        row["test_balanced_accuracy"] = M.balanced_accuracy(pred, y, self.n_classes)
        row["test_macro_f1"] = M.macro_f1(pred, y, self.n_classes)
        row["test_brier"] = M.brier(p, y)
        self.reliability = M.reliability(p, y)
        row["test_ece"] = M.ece_of(self.reliability)  # from the same bins: binned once per epoch
        row["test_true_class_prob"] = M.true_class_confidence(p, y)
        if self.spec.data.imbalance != 1:
            minority = self.spec.data.minority_class
            minority = self.n_classes - 1 if minority is None else minority
            row["test_minority_recall"] = M.class_recall(pred, y, self.n_classes, minority)
        self._confident_mistakes(p, y, L, G, row)

    def _confident_mistakes(self, p, y, L, G, row) -> None:
        wrong = np.take_along_axis(p, y[..., None], axis=-1)[..., 0] < CONFIDENT_WRONG
        count = wrong.sum(axis=1)
        gnorm = np.sqrt((G.astype(np.float64) ** 2).sum(axis=2))
        with np.errstate(invalid="ignore", divide="ignore"):
            row["test_confident_wrong_share"] = count / wrong.shape[1]
            row["test_confident_wrong_loss"] = (L * wrong).sum(axis=1) / count
            row["test_confident_wrong_grad"] = (gnorm * wrong).sum(axis=1) / count

    def _regression(self, part: str, z: np.ndarray, split: _Split, row) -> None:
        pred = np.empty(z.shape, dtype=np.float64)
        yhat = self._yhat(z)
        for k, s in enumerate(self.scalers):
            pred[k] = s.inverse(yhat[k])
        row[f"{part}_rmse"] = M.rmse(pred, split.target)
        if part == "test":
            row["test_mae"] = M.mae(pred, split.target)


def _diagram(reliability: list[np.ndarray], k: int) -> dict[str, list]:
    """Model k's test reliability diagram (15 bins of top-label confidence) as plain lists, empty
    bins and NaN as None, ready for JSON."""
    conf, acc, count = reliability

    def plain(a: np.ndarray) -> list[float | None]:
        return [float(v) if np.isfinite(v) else None for v in a[k]]

    return {"confidence": plain(conf), "accuracy": plain(acc), "count": [int(c) for c in count[k]]}


def _groups(models: list[ModelSpec]) -> list[tuple[slice, ModelSpec]]:
    """Contiguous runs of models (already sorted) that share loss, head and parameters."""
    out, start = [], 0
    for _, items in groupby(models, key=_group_key):
        n = len(list(items))
        out.append((slice(start, start + n), models[start]))
        start += n
    return out


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))
