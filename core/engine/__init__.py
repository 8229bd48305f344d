"""The engine wing: losses and heads with closed-form gradients, stacked networks, optimisers, the trainer and its metrics.

Its face: the names other wings, the CLI and the dashboard use, each imported on first use
(core.faces), so importing the package costs nothing.
"""

from lossdb.core.faces import face

__all__, __getattr__, __dir__ = face(__name__, {
    "LOSSES": "losses",
    "NetSpec": "nets",
    "OptimSpec": "optim",
    "REGRESSION": "series",
    "STEP_RECORD": "steps",
    "UNIT_INTERVAL": "series",
    "ModelSpec": "train",
    "RunResult": "train",
    "StackSpec": "train",
    "train_stack": "train",
})
