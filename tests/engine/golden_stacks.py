"""The stacks whose numpy numbers are pinned bit for bit (tests/engine/data/golden.json).

Regenerate only when ENGINE_VERSION changes: `.venv/bin/python -m tests.engine.golden_stacks`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from lossdb.core.data.prepare import DataSpec
from lossdb.core.engine.nets import NetSpec
from lossdb.core.engine.optim import OptimSpec
from lossdb.core.engine.train import ModelSpec, StackSpec

GOLDEN = Path(__file__).parent / "data" / "golden.json"


def stacks() -> dict[str, StackSpec]:
    """Small stacks that together reach every loss, head, optimiser and metric family."""
    cls = [ModelSpec(loss, head, lr, seed, params, weights)
           for loss, head, params, weights in [("ce", "softmax", (), None), ("mse", "softmax", (), None),
                                               ("ce", "sigmoid", (), "balanced"), ("mae", "softmax", (), None),
                                               ("focal", "softmax", (("gamma", 2.0),), None),
                                               ("gce", "softmax", (("q", 0.7),), None),
                                               ("hinge", "linear", (), None), ("mse", "linear", (), None),
                                               ("huber", "sigmoid", (("delta", 0.5),), None)]
           for lr in (0.1, 1.0) for seed in (0, 1)]
    reg = [ModelSpec(loss, head, lr, seed) for loss, head in [("mse", "linear"), ("huber", "linear"),
                                                              ("mae", "sigmoid")]
           for lr in (0.05, 5.0) for seed in (0, 1)]
    neuron = NetSpec(0, 0, init="explicit", w=((2.0,),), b=(2.0,))
    return {
        "digits_reference": StackSpec(DataSpec("digits"), NetSpec(0, 0, hidden=(64, 64)), OptimSpec("sgd"), 3,
                                      None, tuple(ModelSpec(loss, "softmax", lr, s) for loss in ("ce", "mse")
                                                  for lr in (0.3, 3.0) for s in (0, 1))),
        "iris_everything": StackSpec(DataSpec("iris", imbalance=3.0), NetSpec(0, 0, hidden=(8,), activation="tanh"),
                                     OptimSpec("momentum"), 4, 16, tuple(cls)),
        "regression_adam": StackSpec(DataSpec("diabetes"), NetSpec(0, 0, hidden=(6,), activation="relu"),
                                     OptimSpec("adam"), 4, 32, tuple(reg)),
        "saturated_neuron": StackSpec(DataSpec("neuron", x=1.0, y=0.0), neuron, OptimSpec("sgd"), 5, None,
                                      (ModelSpec("ce", "sigmoid", 0.15, 0), ModelSpec("mse", "sigmoid", 0.15, 0))),
        "diverging": StackSpec(DataSpec("diabetes"), NetSpec(0, 0), OptimSpec("sgd"), 40, None,
                               (ModelSpec("mse", "linear", 2.5, 0), ModelSpec("mse", "linear", 0.05, 0),
                                ModelSpec("mse", "linear", 1e4, 1)), dtype="float64"),
        "float64": StackSpec(DataSpec("iris"), NetSpec(0, 0, hidden=(5,)), OptimSpec("sgd"), 3, None,
                             (ModelSpec("ce", "softmax", 0.5, 0), ModelSpec("mse", "softmax", 0.5, 1)),
                             dtype="float64"),
    }


def fingerprint(results) -> list[dict]:
    """Each run's status, epochs and a sha256 of every metric's float64 bytes."""
    out = []
    for r in results:
        digest = {name: hashlib.sha256(np.ascontiguousarray(v, dtype=np.float64).tobytes()).hexdigest()[:16]
                  for name, v in sorted(r.metrics.items()) if name != "wall_time"}
        rel = r.extras.get("reliability")
        if rel is not None:
            digest["reliability"] = hashlib.sha256(json.dumps(rel).encode()).hexdigest()[:16]
        out.append({"status": r.status, "epochs": r.epochs, "diverged_epoch": r.diverged_epoch, "metrics": digest})
    return out


if __name__ == "__main__":
    from lossdb.core.engine.train import train_stack

    GOLDEN.write_text(json.dumps({name: fingerprint(train_stack(spec)) for name, spec in stacks().items()},
                                 indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
