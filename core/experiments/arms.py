"""Arms: what a run trains with apart from its seed and learning rate, as one typed value.

An arm is a loss on a head, with the loss's parameters and class weights. Its `label` is what readers
see ("focal/softmax (gamma=2)", or the name an experiment file gives it); matching a claim's selector
against a stored run compares the typed fields, never a parsed label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LOSS_PARAM_KEYS = ("gamma", "q", "delta", "alpha")


def _frozen(value: Any) -> Any:
    """A hashable copy of a config value (lists become tuples)."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list | tuple) else value


@dataclass(frozen=True)
class Arm:
    """A loss on a head with its parameters (sorted (key, value) pairs), class weights and label."""

    loss: str
    head: str
    params: tuple[tuple[str, Any], ...] = ()
    class_weights: Any = None  # None, "balanced", or a tuple of per-class weights
    name: str = ""  # the label an experiment file gave, "" for the default

    @property
    def weighted(self) -> bool:
        """True when the arm weighs samples by class."""
        return bool(self.class_weights)

    @property
    def default_label(self) -> str:
        """loss/head plus its parameters: "focal/softmax (gamma=2)", "ce/softmax (weighted)"."""
        parts = [f"{k}={_show(v)}" for k, v in self.params]
        if self.class_weights:
            parts.append("weighted" if self.class_weights == "balanced" else "class_weights")
        return f"{self.loss}/{self.head}" + (f" ({', '.join(parts)})" if parts else "")

    @property
    def label(self) -> str:
        """What readers see: the experiment file's name for the arm, else the default label."""
        return self.name or self.default_label

    def matches(self, run: Arm) -> bool:
        """Does a run's arm satisfy this selector? Same loss and head, weighted in both or neither,
        and every parameter the selector names equal in the run (a selector with a `name` matches
        that label only)."""
        if self.name:
            return run.label == self.name
        return (self.loss == run.loss and self.head == run.head and self.weighted == run.weighted
                and set(self.params) <= set(run.params))

    @classmethod
    def of(cls, config: dict[str, Any], loss: str | None = None, head: str | None = None) -> Arm:
        """The arm of a run's (or a grid's) config: its loss, head, loss parameters and weights."""
        params = tuple((k, _frozen(config[k])) for k in LOSS_PARAM_KEYS if k in config)
        arm = cls(str(loss or config["loss"]), str(head or config["head"]), params,
                  _frozen(config.get("class_weights")) or None)
        label = config.get("label")
        return arm if not label or label == arm.default_label else cls(arm.loss, arm.head, arm.params,
                                                                        arm.class_weights, str(label))


def select(loss: str, head: str, *, weighted: bool = False, **params: Any) -> Arm:
    """A selector for claims: `select("ce", "softmax", weighted=True)`, `select("focal", "softmax")`."""
    return Arm(loss, head, tuple(sorted(params.items())), "balanced" if weighted else None)


def by_label(label: str) -> Arm:
    """A selector matching the arm an experiment file labelled so."""
    return Arm("", "", (), None, label)


def default_label(arm: dict[str, Any]) -> str:
    """A short display name of an arm given as a config dict: loss/head plus any loss parameters."""
    return Arm.of({k: v for k, v in arm.items() if k != "label"}).default_label


def _show(value: Any) -> str:
    return "[" + ", ".join(_show(v) for v in value) + "]" if isinstance(value, tuple) else f"{value}"
