"""Train a stack of K models (one shape, one dataset) at once; every model is one run.

The jobs live apart: the stacked data (core.engine.stacking), each model's loss and head
(core.engine.objective), the per-epoch yardsticks (core.engine.evaluation) and when a model has diverged
(core.engine.divergence); this module holds the specs, the parameters with one epoch of training, and
the loop that ties them together. A stack trains on the array library its spec names
(core.engine.backend): numpy by default, or e.g. PyTorch on a GPU, data and parameters on the device.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from lossdb.core import jsontext
from lossdb.core.data.prepare import DataSpec, Prepared, prepare
from lossdb.core.data.datasets import is_deterministic
from lossdb.core.engine.backend import Backend, by_name, namespace
from lossdb.core.engine.divergence import Divergence
from lossdb.core.engine.evaluation import CONFIDENT_WRONG, Evaluator
from lossdb.core.engine.nets import NetSpec, backward, forward, init_params
from lossdb.core.engine.objective import Objective, group_key
from lossdb.core.engine.optim import Optimizer, OptimSpec
from lossdb.core.engine.stacking import StackData, on_backend, stack_data
from lossdb.core.engine.steps import SERIES as STEP_SERIES, StepLog

__all__ = ["CONFIDENT_WRONG", "STREAM_BATCHES", "STREAM_INIT", "ModelSpec", "RunResult", "StackSpec",
           "train_stack"]

# Independent random streams of one seed (the data split draws its own inside core.data.prepare).
STREAM_INIT, STREAM_BATCHES = 1, 2


@dataclass(frozen=True)
class ModelSpec:
    """What varies between the models of a stack: loss, head, learning rate, seed, loss parameters."""

    loss: str
    head: str
    lr: float
    seed: int
    loss_params: tuple[tuple[str, Any], ...] = ()  # gamma, q, delta, alpha as sorted (name, value) pairs
    class_weights: str | tuple[float, ...] | None = None  # "balanced" or one weight per class
    # Where a model's data or initialisation differs from the stack's (another corruption, scaling or
    # init of data and a network of the same shapes): its own; None: the stack's.
    data: DataSpec | None = None
    net: NetSpec | None = None


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
    record_steps: bool = False  # also record training progress between epochs (core.engine.steps)
    backend: str = "numpy"  # core.engine.backend: "numpy", "torch-cuda", "array-api-strict", …


@dataclass
class RunResult:
    """One trained model: per-epoch metrics (index 0 = before training), status and timings."""

    metrics: dict[str, np.ndarray]
    status: str  # "finished" or "diverged"
    diverged_epoch: int | None  # the first epoch with non-finite or blown-up values (never stored)
    epochs: int  # the last stored epoch: `epochs` for a finished run, diverged_epoch − 1 (≥ 0) otherwise
    wall_seconds: float
    extras: dict[str, Any] = field(default_factory=dict)


def train_stack(spec: StackSpec, progress: Callable[[int, int], None] | None = None) -> list[RunResult]:
    """Train every model of the stack; results in the order of spec.models.

    Models with their own data (ModelSpec.data) train together when every split has the same shape
    as the others'; otherwise each set of equal shapes trains as a stack of its own."""
    dtype = np.dtype(spec.dtype)
    data_of = [m.data or spec.data for m in spec.models]
    needed = {(d, m.seed) for d, m in zip(data_of, spec.models, strict=True)}
    prepared = {(d, s): prepare(d, s, dtype) for d, s in sorted(needed, key=lambda ds: (repr(ds[0]), ds[1]))}
    shapes: dict[tuple, list[int]] = {}
    for k, (d, m) in enumerate(zip(data_of, spec.models, strict=True)):
        shapes.setdefault(_shape(prepared[(d, m.seed)]), []).append(k)
    if len(shapes) == 1:
        return _train(spec, [prepared[(d, m.seed)] for d, m in zip(data_of, spec.models, strict=True)], progress)
    out: list[RunResult] = [None] * len(spec.models)  # type: ignore[list-item]
    for ks in shapes.values():
        part = replace(spec, models=tuple(spec.models[k] for k in ks))
        for k, result in zip(ks, _train(part, [prepared[(data_of[k], spec.models[k].seed)] for k in ks], progress),
                             strict=True):
            out[k] = result
    return out


def _shape(p: Prepared) -> tuple:
    """What a stack's models must share of their data: task, classes and every array's shape."""
    return (p.task, p.n_classes, p.n_features, p.n_outputs,
            *(getattr(p, f"{a}_{part}").shape for a in "Xy" for part in ("train", "val", "test")))


def _train(spec: StackSpec, prepared_of: list[Prepared],
           progress: Callable[[int, int], None] | None) -> list[RunResult]:
    """Train the stack, model k on prepared_of[k] (data of equal shapes)."""
    dtype = np.dtype(spec.dtype)
    backend = by_name(spec.backend)
    order = sorted(range(len(spec.models)), key=lambda k: group_key(spec.models[k]))
    models = [spec.models[k] for k in order]
    first = prepared_of[0]
    net = replace(spec.net, n_inputs=first.n_features, n_outputs=first.n_outputs)
    deterministic = is_deterministic(spec.data.dataset)
    data = on_backend(stack_data(models, [prepared_of[k] for k in order], dtype, unscaled_targets=deterministic),
                      backend)
    objective = Objective(models, data.weights)
    evaluator = Evaluator(net, data, objective, record_output=deterministic,
                          minority=_minority(spec.data, data.n_classes))
    trainer = _Trainer(spec, net, models, data, objective, dtype, backend)
    if spec.record_steps and data.task == "classification" and not deterministic and backend.is_numpy:
        # the neuron: an epoch is a step; other backends do not record between epochs yet
        trainer.log, trainer.record = StepLog(spec.epochs * trainer.steps_per_epoch), evaluator.progress
    # Tiny matrices: BLAS threads cost more than they give; parallelism comes from processes (--jobs).
    with threadpool_limits(limits=1, user_api="blas"):
        results = _run(spec.epochs, trainer, evaluator, progress)
    out: list[RunResult] = [None] * len(models)  # type: ignore[list-item]
    for pos, k in enumerate(order):
        out[k] = results[pos]
    return out


def _minority(data: DataSpec, n_classes: int) -> int | None:
    """The class whose recall an imbalanced set records (the last one unless named), else None."""
    if data.imbalance == 1:
        return None
    return n_classes - 1 if data.minority_class is None else data.minority_class


class _Trainer:
    """The parameters and optimiser of K models and one epoch of mini-batch training."""

    def __init__(self, spec: StackSpec, net: NetSpec, models: list[ModelSpec], data: StackData,
                 objective: Objective, dtype: np.dtype, backend: Backend):
        self.net, self.batch_size, self.objective = net, spec.batch_size, objective
        self.train, self.backend = data.train, backend
        self.params = [backend.asarray(p) for p in _initial(net, models, dtype)]
        self.optim = Optimizer(spec.optim, self.params, np.array([m.lr for m in models], dtype=np.float64))
        self.batch_rngs = {s: _rng(s, STREAM_BATCHES) for s in sorted({m.seed for m in models})}
        # Models of one seed share their batch order: one permutation per seed and epoch.
        seeds = list(self.batch_rngs)
        self.seed_of = np.array([seeds.index(m.seed) for m in models])
        # The features are held once per seed (core.engine.stacking): slot s holds seed slot_seed[s]'s.
        K = len(models)
        self.data = data
        self.slot = np.arange(K) if data.seed_of is None else data.seed_of
        self.slot_seed = [seeds.index(models[int(np.flatnonzero(self.slot == s)[0])].seed)
                          for s in range(int(self.slot.max()) + 1)]
        self.steps_per_epoch = -(-data.train.n // (spec.batch_size or data.train.n))
        self.step = 0
        self.log: StepLog | None = None  # progress between epochs (core.engine.steps), when recorded
        self.record: Callable[[list[np.ndarray]], dict[str, np.ndarray]] | None = None
        if not backend.is_numpy:
            self.slot_device = backend.asarray(self.slot)
            return
        # Each epoch's shuffled copy of the training split, written into the same buffers every time.
        self.X, self.y = np.empty_like(data.train.X), np.empty_like(data.train.y)

    def epoch(self) -> None:
        """One pass over the training split in mini-batches, each seed in its own order."""
        tr = self.train
        n = tr.n
        perms = [rng.permutation(n) for rng in self.batch_rngs.values()]
        if not self.backend.is_numpy:
            self._epoch_array_api(np.stack(perms))
            return
        X, y = self.X, self.y
        for s, seed in enumerate(self.slot_seed):
            # mode="clip" (the indices are a permutation): numpy buffers `out` in its default mode
            np.take(tr.X[s], perms[seed], axis=0, out=X[s], mode="clip")
        for k, seed in enumerate(self.seed_of):
            np.take(tr.y[k], perms[seed], axis=0, out=y[k], mode="clip")
        B = self.batch_size or n
        for s in range(0, n, B):
            z, cache = forward(self.net, self.params, self.data.features(X[:, s:s + B]))
            _, gz = self.objective.loss_and_grad(z, y[:, s:s + B])
            gz *= 1.0 / z.shape[1]
            self.optim.step(self.params, backward(self.net, self.params, cache, gz))
            self.step += 1
            if self.log is not None and self.step in self.log.at:
                self.log.add(self.step, self.record(self.params))

    def _epoch_array_api(self, perms: np.ndarray) -> None:
        """epoch() on the device: one gather shuffles every model's split, then the mini-batches."""
        xp, tr = namespace(self.params[0]), self.train
        K, n = tr.y.shape[:2]
        S = tr.X.shape[0]
        seeds = self.backend.asarray(perms)  # (seeds, n)
        offsets = xp.arange(K, dtype=seeds.dtype, device=self.backend.device)[:, None] * n
        model_rows = xp.reshape(xp.take(seeds, self.backend.asarray(np.asarray(self.seed_of)), axis=0) + offsets, (-1,))
        slot_rows = xp.take(seeds, self.backend.asarray(np.asarray(self.slot_seed)), axis=0)
        slot_rows = xp.reshape(slot_rows + xp.arange(S, dtype=seeds.dtype, device=self.backend.device)[:, None] * n, (-1,))
        X = xp.reshape(xp.take(xp.reshape(tr.X, (S * n, -1)), slot_rows, axis=0), tr.X.shape)
        y = xp.reshape(xp.take(xp.reshape(tr.y, (K * n, -1)), model_rows, axis=0), tr.y.shape)
        B = self.batch_size or n
        for s in range(0, n, B):
            z, cache = forward(self.net, self.params, xp.take(X[:, s:min(s + B, n), ...], self.slot_device, axis=0))
            _, gz = self.objective.loss_and_grad(z, y[:, s:min(s + B, n), ...])
            self.optim.step(self.params, backward(self.net, self.params, cache, gz * (1.0 / z.shape[1])))

    def stop(self, k: int) -> None:
        """Freeze model k and zero its parameters (it diverged), so it no longer affects anything."""
        self.optim.freeze(k)
        for p in self.params:
            p[k, ...] = 0


def _run(epochs: int, trainer: _Trainer, evaluator: Evaluator,
         progress: Callable[[int, int], None] | None) -> list[RunResult]:
    """Evaluate before training and after every epoch; stop models as they diverge (core.engine.divergence)."""
    K = len(trainer.seed_of)
    history: list[dict[str, np.ndarray]] = []
    kept: list[np.ndarray] = []  # confidence, accuracy, count (K, bins) at each model's last kept epoch
    div = Divergence(K, epochs)
    start = time.perf_counter()
    with np.errstate(all="ignore"):
        for epoch in range(epochs + 1):
            if epoch > 0:
                trainer.epoch()
            ev = evaluator.evaluate(trainer.params)
            if epoch == 0 and trainer.log is not None:
                trainer.log.add(0, {name: ev.row[name[len("step_"):]] for name in STEP_SERIES})
            ev.row["wall_time"] = np.full(K, time.perf_counter() - start)
            history.append(ev.row)
            for k in div.update(epoch, ev.row["train_loss"], ev.finite):
                trainer.stop(k)
            if ev.reliability is not None:
                kept = kept or [np.array(a) for a in ev.reliability]
                for mine, now in zip(kept, ev.reliability, strict=True):
                    mine[div.active] = now[div.active]
            if progress:
                progress(epoch, epochs)
            if not div.active.any():
                break
    wall = time.perf_counter() - start
    results = [_result(history, k, div, evaluator.objective.linear[k], wall / K) for k in range(K)]
    if trainer.log is not None:
        for k, result in enumerate(results):
            last = int(div.last[k])  # a diverged model keeps the records of its kept epochs only
            result.metrics.update(trainer.log.series(k, max(last, 0) * trainer.steps_per_epoch))
    for k, result in enumerate(results):
        if kept and result.status == "finished":  # a diverged model has no meaningful probabilities
            result.extras["reliability"] = _diagram(kept, k)
    return results


def _result(history: list[dict[str, np.ndarray]], k: int, div: Divergence, linear: bool,
            wall: float) -> RunResult:
    """Model k's run: its metrics at epochs 0 … its last kept epoch."""
    last = int(div.last[k])
    skip = {"saturation"} if linear else set()
    metrics = {name: np.array([h[name][k] for h in history[: last + 1]], dtype=np.float64)
               for name in history[0] if name not in skip}
    return RunResult(metrics, div.status(k), div.epoch[k], max(last, 0), wall)


def _diagram(reliability: list[np.ndarray], k: int) -> dict[str, list]:
    """Model k's test reliability diagram (15 bins of top-label confidence) as plain lists, empty
    bins and NaN as None, ready for JSON."""
    conf, acc, count = reliability
    return {"confidence": jsontext.plain(conf[k], "null"), "accuracy": jsontext.plain(acc[k], "null"),
            "count": [int(c) for c in count[k]]}


def _initial(net: NetSpec, models: list[ModelSpec], dtype: np.dtype) -> list[np.ndarray]:
    """Each model's initial parameters drawn from its seed, by its own initialisation where it has one
    (ModelSpec.net: same shapes, e.g. another init_scale): exactly what it gets trained alone."""
    nets: dict[NetSpec, list[int]] = {}
    for k, m in enumerate(models):
        own = net if m.net is None else replace(m.net, n_inputs=net.n_inputs, n_outputs=net.n_outputs)
        nets.setdefault(own, []).append(k)
    if len(nets) == 1:
        return init_params(next(iter(nets)), [_rng(m.seed, STREAM_INIT) for m in models], dtype)
    out: list[np.ndarray] = []
    for own, ks in nets.items():
        part = init_params(own, [_rng(models[k].seed, STREAM_INIT) for k in ks], dtype)
        out = out or [np.empty((len(models), *p.shape[1:]), dtype=p.dtype) for p in part]
        for whole, p in zip(out, part, strict=True):
            whole[ks] = p
    return out


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))
