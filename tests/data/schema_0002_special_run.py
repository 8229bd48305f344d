"""Add one hand-made run with NaN, ±inf, -0.0 and float64-only values to the schema-0002 sample."""
import sys
from datetime import UTC, datetime

import numpy as np

from lossdb.core.store import NewRun, open_store

store = open_store(sys.argv[1], create=False)
now = datetime(2026, 12, 1, tzinfo=UTC)
metrics = {"train_loss": np.array([1.0, np.inf, -np.inf, np.nan, -0.0, 0.1]),
           "test_accuracy": np.array([0.25, 0.5, 1 / 3, np.nan, 0.75, 1.0]),
           "grad_norm": np.array([np.nan, np.nan])}
store.save_runs([NewRun("schema-0002-sample", "special", 0, "hand", {"loss": "ce"}, "ce", "softmax", "iris", 0.5,
                        "diverged", None, 5, 5, now, now, 0.1, "0.1.0", np.__version__, "3.12", None, metrics,
                        {"note": "hand-made values"})])
store.close()
