"""A stack holds each seed's features once, however many models share the seed."""

from __future__ import annotations

import numpy as np
from lossdb.core.data.prepare import DataSpec, prepare
from lossdb.core.engine.stacking import stack_data
from lossdb.core.engine.train import ModelSpec


def test_features_are_held_once_per_seed_and_each_model_sees_its_own_seeds():
    models = [ModelSpec(loss, "softmax", 0.1, seed) for seed in (3, 5) for loss in ("ce", "mse", "focal")]
    prepared = {s: prepare(DataSpec("iris"), s) for s in (3, 5)}
    data = stack_data(models, [prepared[m.seed] for m in models], np.dtype(np.float32))
    assert data.train.X.shape[0] == 2 and data.train.y.shape[0] == 6  # features per seed, labels per model
    for k, m in enumerate(models):
        np.testing.assert_array_equal(data.features(data.test.X)[k], prepared[m.seed].X_test)
        np.testing.assert_array_equal(data.features(data.val.X, slice(k, k + 1))[0], prepared[m.seed].X_val)
        np.testing.assert_array_equal(data.train.y[k], prepared[m.seed].y_train)
