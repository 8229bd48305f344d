"""The stacked trainer: stacking is exact, seeds determine everything, divergence is data."""

from dataclasses import replace

import numpy as np
import pytest

from lossdb.core.data.prepare import DataSpec
from lossdb.core.engine.nets import NetSpec
from lossdb.core.engine.optim import OptimSpec
from lossdb.core.engine.train import ModelSpec, StackSpec, train_stack

IRIS = DataSpec("iris")
NET = NetSpec(0, 0, hidden=(8,), activation="tanh")


def _stack(models, data=IRIS, net=NET, epochs=4, optim="sgd", batch=16, dtype="float64"):
    return StackSpec(data=data, net=net, optim=OptimSpec(optim), epochs=epochs, batch_size=batch,
                     models=tuple(models), dtype=dtype)


MODELS = [ModelSpec("ce", "softmax", 0.5, seed=0), ModelSpec("mse", "linear", 0.1, seed=1),
          ModelSpec("mse", "softmax", 0.5, seed=0), ModelSpec("hinge", "linear", 0.05, seed=2)]


def _same(a, b):
    assert a.status == b.status and a.epochs == b.epochs
    for name in a.metrics:
        if name != "wall_time":
            np.testing.assert_array_equal(a.metrics[name], b.metrics[name], err_msg=name)


@pytest.mark.parametrize("optim", ["sgd", "momentum", "adam"])
def test_a_stack_gives_the_same_numbers_as_training_each_model_alone(optim):
    together = train_stack(_stack(MODELS, optim=optim))
    for model, result in zip(MODELS, together, strict=True):
        _same(result, train_stack(_stack([model], optim=optim))[0])


def test_the_same_spec_twice_gives_identical_metrics():
    a, b = train_stack(_stack(MODELS, dtype="float32")), train_stack(_stack(MODELS, dtype="float32"))
    for ra, rb in zip(a, b, strict=True):
        _same(ra, rb)


def test_arms_with_the_same_seed_start_from_the_same_weights():
    a, b = train_stack(_stack([ModelSpec("ce", "softmax", 0.5, 3), ModelSpec("mse", "softmax", 0.5, 3)]))
    assert a.metrics["test_accuracy"][0] == b.metrics["test_accuracy"][0]
    assert a.metrics["test_nll"][0] == b.metrics["test_nll"][0]


def test_a_diverging_model_keeps_its_curve_up_to_the_last_finite_epoch_and_the_others_go_on():
    models = [ModelSpec("mse", "linear", 1e4, seed=0), ModelSpec("ce", "softmax", 0.5, seed=0)]
    bad, good = train_stack(_stack(models, epochs=20))
    assert bad.status == "diverged" and good.status == "finished"
    assert 1 <= bad.diverged_epoch <= 20 and bad.epochs == bad.diverged_epoch - 1
    for name, values in bad.metrics.items():
        assert len(values) == bad.diverged_epoch, name  # epochs 0 … diverged_epoch − 1
        assert np.isfinite(values).all(), name
    assert len(good.metrics["train_loss"]) == 21 and good.metrics["test_accuracy"][-1] > 0.8


def test_a_model_whose_loss_blows_up_without_overflowing_is_diverged():
    # float64 and a rate just past stability: the loss grows geometrically but stays finite for long
    models = [ModelSpec("mse", "linear", 2.5, seed=0)]
    r = train_stack(_stack(models, data=DataSpec("diabetes"), net=NetSpec(0, 0), epochs=40, batch=None))[0]
    assert r.status == "diverged"
    start = r.metrics["train_loss"][0]
    assert (r.metrics["train_loss"] <= 1e6 * max(1.0, start)).all()
    assert np.isfinite(r.metrics["test_rmse"]).all() and r.metrics["test_rmse"][-1] < 1e6


def test_every_epoch_records_the_classification_yardsticks():
    r = train_stack(_stack([ModelSpec("ce", "softmax", 0.5, 0)], epochs=2))[0]
    for name in ("train_loss", "test_loss", "val_loss", "train_accuracy", "val_accuracy", "test_accuracy",
                 "test_balanced_accuracy", "test_nll", "val_nll", "test_brier", "test_ece", "grad_norm",
                 "saturation", "test_macro_f1", "wall_time"):
        assert r.metrics[name].shape == (3,), name
    assert r.metrics["train_accuracy"][-1] > r.metrics["train_accuracy"][0]


def test_training_lowers_the_training_loss():
    r = train_stack(_stack([ModelSpec("ce", "softmax", 0.5, 0)], epochs=10))[0]
    assert r.metrics["train_loss"][-1] < 0.5 * r.metrics["train_loss"][0]


def test_regression_reports_rmse_on_the_original_target_scale():
    data = DataSpec("diabetes")
    models = [ModelSpec("mse", "linear", 0.05, 0), ModelSpec("ce", "sigmoid", 0.5, 0)]
    lin, sig = train_stack(_stack(models, data=data, epochs=30))
    for r in (lin, sig):
        # the diabetes target has sd ≈ 77: an RMSE on the standardised scale would be ≈ 1
        assert 40 < r.metrics["test_rmse"][-1] < 80
        assert r.metrics["test_mae"][-1] < r.metrics["test_rmse"][-1]


def test_full_batch_descent_on_one_neuron_matches_a_hand_computed_trajectory():
    data = DataSpec("neuron", x=1.0, y=0.0)
    net = NetSpec(0, 0, init="explicit", w=((2.0,),), b=(2.0,))
    r = train_stack(_stack([ModelSpec("ce", "sigmoid", 0.15, 0)], data=data, net=net, epochs=5, batch=None))[0]
    w = b = 2.0
    outputs = []
    for _ in range(6):
        a = 1 / (1 + np.exp(-(w + b)))
        outputs.append(a)
        w, b = w - 0.15 * a, b - 0.15 * a  # dC/dz = a − y for cross-entropy, input 1, target 0
    np.testing.assert_allclose(r.metrics["output"], outputs, rtol=1e-12)


def test_a_finished_classification_run_keeps_its_final_test_reliability_diagram():
    r = train_stack(_stack([ModelSpec("ce", "softmax", 0.5, 0)], epochs=3))[0]
    d = r.extras["reliability"]
    assert len(d["confidence"]) == len(d["accuracy"]) == len(d["count"]) == 15
    assert sum(d["count"]) == 30  # iris: 150 samples, test_size 0.2
    for i, (conf, n) in enumerate(zip(d["confidence"], d["count"], strict=True)):
        assert (conf is None) == (n == 0)
        assert n == 0 or i / 15 < conf <= (i + 1) / 15
    gap = sum(n * abs(a - c) for n, a, c in zip(d["count"], d["accuracy"], d["confidence"], strict=True) if n)
    assert gap / 30 == pytest.approx(r.metrics["test_ece"][-1], rel=1e-12)


def test_diverged_and_regression_runs_keep_no_reliability_diagram():
    bad, _ = train_stack(_stack([ModelSpec("mse", "linear", 1e4, seed=0), ModelSpec("ce", "softmax", 0.5, 0)],
                                epochs=20))
    reg = train_stack(_stack([ModelSpec("mse", "linear", 0.05, 0)], data=DataSpec("diabetes"), epochs=2))[0]
    assert bad.status == "diverged" and "reliability" not in bad.extras
    assert "reliability" not in reg.extras


# Conditions of equal shapes in one stack: each model on its own corruption, scaling or initialisation.
NOISY = DataSpec("iris", label_noise=0.2)
MINMAX = DataSpec("iris", scale="minmax")
WIDE = NetSpec(0, 0, hidden=(8,), activation="tanh", init="normal", init_scale=0.5)
CONDITIONS = [ModelSpec("ce", "softmax", 0.5, seed=0), ModelSpec("ce", "softmax", 0.5, seed=0, data=NOISY),
              ModelSpec("mse", "softmax", 0.5, seed=1, data=MINMAX), ModelSpec("ce", "softmax", 0.5, seed=1, net=WIDE),
              ModelSpec("mse", "linear", 0.1, seed=0, data=NOISY, net=WIDE)]


def test_conditions_of_equal_shapes_in_one_stack_give_each_model_its_numbers_alone():
    together = train_stack(_stack(CONDITIONS))
    for model, result in zip(CONDITIONS, together, strict=True):
        alone = _stack([replace(model, data=None, net=None)], data=model.data or IRIS, net=model.net or NET)
        _same(result, train_stack(alone)[0])
    # and the conditions really differ: label noise changes the training accuracy of the same seed
    assert together[0].metrics["train_accuracy"][0] != together[1].metrics["train_accuracy"][0]


def test_regression_conditions_with_other_outliers_and_noise_train_together_exactly():
    models = [ModelSpec("mse", "linear", 0.05, seed=s, data=DataSpec("diabetes", outliers=share))
              for s in (0, 1) for share in (0.0, 0.1)]
    together = train_stack(_stack(models, data=DataSpec("diabetes"), net=NetSpec(0, 0), epochs=3))
    for model, result in zip(models, together, strict=True):
        _same(result, train_stack(_stack([replace(model, data=None)], data=model.data, net=NetSpec(0, 0),
                                         epochs=3))[0])


def test_models_whose_data_differ_in_shape_train_as_separate_stacks_with_their_own_numbers():
    models = [ModelSpec("ce", "softmax", 0.5, seed=0), ModelSpec("ce", "softmax", 0.5, seed=0,
                                                                 data=DataSpec("iris", test_size=0.3))]
    together = train_stack(_stack(models))
    for model, result in zip(models, together, strict=True):
        _same(result, train_stack(_stack([replace(model, data=None)], data=model.data or IRIS))[0])


def test_conditions_of_equal_shapes_in_one_stack_on_array_api_strict_give_each_model_its_numbers_alone():
    together = train_stack(replace(_stack(CONDITIONS, epochs=2), backend="array-api-strict"))
    for model, result in zip(CONDITIONS, together, strict=True):
        alone = _stack([replace(model, data=None, net=None)], data=model.data or IRIS, net=model.net or NET, epochs=2)
        _same(result, train_stack(replace(alone, backend="array-api-strict"))[0])
