"""A run's configuration as frozen, typed records: its arm, data, model and training schedule.

The store keeps each run's configuration as the nested JSON an experiment expands to (RunPlan.arm:
the dict its arm hash is taken of, unchanged). `RunConfig.of` reads that dict once, after the
arm is validated, so the runner reads `config.train.lr`, never `arm["train"]["lr"]`. The
functions below it turn a (validated or not) arm dict into the engine's specs for validation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lossdb.core import realnumber
from lossdb.core.data.prepare import DataSpec
from lossdb.core.engine.nets import NetSpec
from lossdb.core.engine.optim import OptimSpec
from lossdb.core.experiments.arms import LOSS_PARAM_KEYS


@dataclass(frozen=True)
class ArmConfig:
    """The loss on its head, the label readers see, the loss parameters (sorted (key, value)
    pairs) and the class weights (None, "balanced" or a tuple)."""

    loss: str
    head: str
    label: str
    params: tuple[tuple[str, Any], ...] = ()
    class_weights: Any = None


@dataclass(frozen=True)
class ModelConfig:
    """The network: hidden widths, activation, initialisation and explicit weights (w, b) if any."""

    hidden: tuple[int, ...]
    activation: str
    init: str
    init_scale: Any
    w: Any = None
    b: Any = None


@dataclass(frozen=True)
class TrainConfig:
    """The schedule: optimiser and its settings, rate, batch size (None: the full batch), epochs, dtype."""

    optimizer: str
    lr: float
    batch_size: int | None
    epochs: int
    momentum: float
    beta1: float
    beta2: float
    dtype: str


@dataclass(frozen=True)
class RunConfig:
    """Every setting of one run but its seed."""

    experiment: str
    arm: ArmConfig
    data: DataSpec
    model: ModelConfig
    train: TrainConfig

    @classmethod
    def of(cls, arm: Mapping[str, Any]) -> RunConfig:
        """The typed view of an expanded, validated arm dict (RunPlan.arm)."""
        m, t = arm["model"], arm["train"]
        return cls(
            experiment=str(arm.get("experiment", "")),
            arm=ArmConfig(arm["loss"], arm["head"], str(arm.get("label", "")),
                          tuple(sorted((k, _hashable(arm[k])) for k in LOSS_PARAM_KEYS if k in arm)),
                          _hashable(arm.get("class_weights"))),
            data=data_spec(arm),
            model=ModelConfig(tuple(m["hidden"]), m["activation"], m["init"], m["init_scale"], m["w"], m["b"]),
            train=TrainConfig(t["optimizer"], float(t["lr"]),
                              None if t["batch_size"] == "full" else int(t["batch_size"]), int(t["epochs"]),
                              float(t["momentum"]), float(t["beta1"]), float(t["beta2"]), t["dtype"]))

    def net_spec(self) -> NetSpec:
        """The engine's network spec (inputs and outputs are filled in from the data)."""
        return _net_spec(vars(self.model))

    def optim_spec(self) -> OptimSpec:
        """The engine's optimiser spec."""
        t = self.train
        return OptimSpec(t.optimizer, t.momentum, t.beta1, t.beta2)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def data_spec(arm: Mapping[str, Any]) -> DataSpec:
    """The DataSpec of an arm dict."""
    return DataSpec(**arm["data"])


def net_spec(arm: Mapping[str, Any]) -> NetSpec:
    """The NetSpec of an arm dict (inputs and outputs are filled in from the data)."""
    return _net_spec(arm["model"])


def optim_spec(arm: Mapping[str, Any]) -> OptimSpec:
    """The OptimSpec of an arm dict."""
    t = arm["train"]
    return OptimSpec(t["optimizer"], float(t["momentum"]), float(t["beta1"]), float(t["beta2"]))


def _net_spec(m: Mapping[str, Any]) -> NetSpec:
    w = tuple(tuple(r) if isinstance(r, list) else (r,) for r in m["w"]) if isinstance(m["w"], list) else (
        None if m["w"] is None else ((m["w"],),))
    b = tuple(m["b"]) if isinstance(m["b"], list) else (None if m["b"] is None else (m["b"],))
    return NetSpec(n_inputs=1 if w is None else len(w), n_outputs=1 if b is None else len(b),
                   hidden=tuple(m["hidden"]), activation=m["activation"], init=m["init"],
                   init_scale=_float_if_number(m["init_scale"]), w=w, b=b)


def _float_if_number(value: Any) -> Any:
    """A number as float; anything else as it is, for the validation to name it."""
    return float(value) if realnumber.real(value) else value
