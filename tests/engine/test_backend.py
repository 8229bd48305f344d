"""The engine on any array library: numpy bit-identical to its pinned numbers, array-api-strict
within a stated tolerance of numpy, and --device refusals in one sentence."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from lossdb.core.engine import backend
from lossdb.core.engine.train import train_stack
from lossdb.core.errors import ConfigError

from tests.engine.golden_stacks import GOLDEN, fingerprint, stacks

# array-api-strict computes the same formulas out of place, with its own reductions (no BLAS
# row sums, no einsum): float32 metrics agree to this relative tolerance (observed ≤ 2e-7).
RTOL = 1e-5

pytest.importorskip("array_api_strict")


@pytest.mark.parametrize("name", sorted(stacks()))
def test_numpy_engine_is_bit_identical_to_its_pinned_numbers(name):
    assert fingerprint(train_stack(stacks()[name])) == json.loads(GOLDEN.read_text())[name]


@pytest.mark.parametrize("name", ["digits_reference", "iris_everything", "regression_adam", "saturated_neuron",
                                  "diverging"])
def test_array_api_strict_engine_matches_numpy(name):
    spec = stacks()[name]
    if name == "digits_reference":  # the reference sweep's shape (64-64-10 on digits), two epochs
        spec = replace(spec, epochs=2)
    want, got = train_stack(spec), train_stack(replace(spec, backend="array-api-strict"))
    for a, b in zip(want, got, strict=True):
        assert (a.status, a.diverged_epoch, a.epochs) == (b.status, b.diverged_epoch, b.epochs)
        assert set(a.metrics) == set(b.metrics)
        for metric in a.metrics:
            if metric != "wall_time":
                np.testing.assert_allclose(b.metrics[metric], a.metrics[metric], rtol=RTOL, atol=1e-7,
                                           err_msg=metric)
        if "reliability" in a.extras:
            assert a.extras["reliability"]["count"] == b.extras["reliability"]["count"]


def test_saturated_neuron_follows_the_closed_form_on_array_api_strict():
    spec = replace(stacks()["saturated_neuron"], backend="array-api-strict")
    r = train_stack(spec)[0]  # ce + sigmoid from w = b = 2 at x = 1, y = 0: ∂L/∂z = σ(z)
    w = b = 2.0
    for epoch in range(4):
        z = w + b
        assert r.metrics["output"][epoch] == pytest.approx(1 / (1 + np.exp(-z)), rel=1e-6)
        w, b = w - 0.15 / (1 + np.exp(-z)), b - 0.15 / (1 + np.exp(-z))


def test_device_cpu_is_numpy_and_versions_name_other_backends():
    assert backend.resolve("cpu") is backend.NUMPY
    assert backend.NUMPY.engine_version() == "3"
    assert backend.by_name("array-api-strict").engine_version() == "3+array-api-strict"


def test_device_cuda_without_a_gpu_is_one_sentence():
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(ConfigError) as err:
        backend.resolve("cuda")
    assert "--device cuda" in str(err.value) and "\n" not in str(err.value)
    assert backend.resolve("auto") is backend.NUMPY
    with pytest.raises(ConfigError, match="--device must be one of"):
        backend.resolve("tpu")


def test_torch_engine_matches_numpy_where_torch_is_installed():
    pytest.importorskip("torch")  # lossdb[cuda]; CI has none, the GPU benchmark runs the cuda side
    spec = stacks()["iris_everything"]
    want, got = train_stack(spec), train_stack(replace(spec, backend="torch-cpu"))
    for a, b in zip(want, got, strict=True):
        assert (a.status, a.epochs) == (b.status, b.epochs)
        for metric in ("train_loss", "test_accuracy", "test_nll", "grad_norm"):
            # torch's own float32 kernels and reductions: agreement to 1e-3 after 4 epochs of momentum
            np.testing.assert_allclose(b.metrics[metric], a.metrics[metric], rtol=1e-3, atol=1e-5, err_msg=metric)
