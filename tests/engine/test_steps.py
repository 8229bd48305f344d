"""The sub-epoch record: a grid of optimiser steps at most 5% apart, exact at epoch ends, additive."""

from dataclasses import replace

import numpy as np

from lossdb.core.analysis.steps import early_area, steps_to
from lossdb.core.data.prepare import DataSpec
from lossdb.core.engine.nets import NetSpec
from lossdb.core.engine.optim import OptimSpec
from lossdb.core.engine.steps import record_steps
from lossdb.core.engine.train import ModelSpec, StackSpec, train_stack

MODELS = (ModelSpec("ce", "softmax", 0.5, seed=0), ModelSpec("mse", "softmax", 2.0, seed=0),
          ModelSpec("mse", "linear", 1e4, seed=1))
SPEC = StackSpec(data=DataSpec("iris"), net=NetSpec(0, 0, hidden=(8,), activation="tanh"), optim=OptimSpec("sgd"),
                 epochs=6, batch_size=8, models=MODELS, dtype="float64", record_steps=True)


def test_the_grid_takes_every_step_then_steps_at_most_five_percent_apart():
    grid = record_steps(3240)
    assert grid[0] == 0 and grid[-1] == 3240 and len(grid) < 150
    small = grid[grid <= 21]
    assert list(small) == list(range(small.size))  # every step while one step is ≥ 5% of the time
    big = grid[grid >= 20]
    assert (big[1:] / big[:-1]).max() <= 1.05 + 1e-12


def test_the_step_record_at_an_epoch_end_equals_that_epochs_training_metrics():
    results = train_stack(SPEC)
    ce = results[0]
    per_epoch = int(ce.metrics["step"][-1]) // SPEC.epochs
    for i, step in enumerate(ce.metrics["step"]):
        if step % per_epoch == 0:  # same parameters, same full training split: the same numbers
            e = int(step) // per_epoch
            assert ce.metrics["step_train_accuracy"][i] == ce.metrics["train_accuracy"][e]
            assert ce.metrics["step_train_loss"][i] == ce.metrics["train_loss"][e]


def test_recording_steps_leaves_every_epoch_metric_bit_identical():
    on, off = train_stack(SPEC), train_stack(replace(SPEC, record_steps=False))
    for a, b in zip(on, off, strict=True):
        assert set(a.metrics) - set(b.metrics) == {"step", "step_train_loss", "step_train_accuracy"}
        for name in b.metrics:
            if name != "wall_time":
                np.testing.assert_array_equal(a.metrics[name], b.metrics[name], err_msg=name)


def test_a_diverged_model_keeps_only_the_finite_records_of_its_kept_epochs():
    good, _, bad = train_stack(SPEC)
    assert bad.status == "diverged"
    per_epoch = int(good.metrics["step"][-1]) // SPEC.epochs
    assert bad.metrics["step"].max() <= bad.epochs * per_epoch
    assert np.isfinite(bad.metrics["step_train_loss"]).all()


def test_steps_to_and_the_early_area_read_the_grid():
    step = np.array([0, 1, 2, 4, 8, 16], dtype=float)
    acc = np.array([0.1, 0.2, 0.5, 0.9, 0.95, 0.99])
    assert steps_to(step, acc, 0.9) == 4 and steps_to(step, acc, 0.999) == np.inf
    # trapezoids over 0…8: (0.15 + 0.35 + 2·0.7 + 4·0.925) / 8
    assert early_area(step, acc, 8.0) == (0.15 + 0.35 + 1.4 + 3.7) / 8
    assert np.isnan(early_area(step, acc, 32.0))


def test_series_stored_declares_the_step_record_of_a_stack_that_keeps_it():
    from lossdb.core.engine import series

    recorded = set(train_stack(SPEC)[0].metrics)
    assert recorded == series.stored("classification", "softmax", steps=True)
    assert set(train_stack(replace(SPEC, record_steps=False))[0].metrics) == series.stored("classification", "softmax")
