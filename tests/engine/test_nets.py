"""Stacked networks: backprop against central differences, forward against a per-model loop."""

import numpy as np
import pytest

from lossdb.core.errors import ConfigError
from lossdb.core.engine.nets import NetSpec, backward, forward, init_params, validate


def _params(spec: NetSpec, K: int, seed: int = 0) -> list[np.ndarray]:
    return init_params(spec, [np.random.default_rng(seed + k) for k in range(K)], np.float64)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("hidden", [(), (5,), (6, 4)], ids=["linear", "one-hidden", "two-hidden"])
def test_backward_matches_central_differences(activation, hidden):
    rng = np.random.default_rng(1)
    spec = NetSpec(n_inputs=4, n_outputs=3, hidden=hidden, activation=activation, init_scale=2.0)
    params = _params(spec, K=2)
    X = rng.standard_normal((2, 7, 4))
    R = rng.standard_normal((2, 7, 3))  # loss = Σ R ⊙ z, so dL/dz = R

    def loss(ps):
        return float((forward(spec, ps, X.copy())[0] * R).sum())

    z, cache = forward(spec, params, X.copy())
    grads = backward(spec, params, cache, R.copy())
    h = 1e-6
    for p, g in zip(params, grads, strict=True):
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up = loss(params)
            p[idx] = old - h
            down = loss(params)
            p[idx] = old
            numeric[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)


def test_forward_of_a_stack_equals_each_model_alone():
    rng = np.random.default_rng(2)
    spec = NetSpec(n_inputs=3, n_outputs=2, hidden=(4,), activation="tanh")
    params = _params(spec, K=3)
    X = rng.standard_normal((3, 5, 3))
    z, _ = forward(spec, params, X.copy())
    for k in range(3):
        h = np.tanh(X[k] @ params[0][k] + params[1][k])
        np.testing.assert_allclose(z[k], h @ params[2][k] + params[3][k], rtol=1e-12)


def test_same_seed_gives_same_initial_weights():
    spec = NetSpec(n_inputs=8, n_outputs=3, hidden=(5,))
    a = init_params(spec, [np.random.default_rng(7)], np.float32)
    b = init_params(spec, [np.random.default_rng(7), np.random.default_rng(8)], np.float32)
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_array_equal(pa[0], pb[0])
        assert not np.array_equal(pb[0], pb[1]) or pa.ndim == 2


def test_glorot_weights_lie_within_the_glorot_limit_times_scale():
    spec = NetSpec(n_inputs=64, n_outputs=10, hidden=(30,), init_scale=3.0)
    W1, b1, W2, _ = init_params(spec, [np.random.default_rng(0)], np.float64)
    limit = 3.0 * np.sqrt(6 / (64 + 30))
    assert np.abs(W1).max() <= limit and np.abs(W1).max() > 0.9 * limit
    assert not b1.any()


def test_normal_init_draws_weights_and_biases_from_a_standard_normal():
    spec = NetSpec(n_inputs=200, n_outputs=200, init="normal")
    W, b = init_params(spec, [np.random.default_rng(0)], np.float64)
    assert abs(W.std() - 1) < 0.02 and abs(b.std() - 1) < 0.2


def test_explicit_init_sets_the_given_weight_and_bias():
    spec = NetSpec(n_inputs=1, n_outputs=1, init="explicit", w=((2.0,),), b=(2.0,))
    W, b = init_params(spec, [np.random.default_rng(0), np.random.default_rng(1)], np.float64)
    assert W.tolist() == [[[2.0]], [[2.0]]] and b.tolist() == [[2.0], [2.0]]


@pytest.mark.parametrize("bad, message", [
    (NetSpec(2, 2, activation="swish"), "valid: sigmoid, tanh, relu"),
    (NetSpec(2, 2, init="he"), "valid: glorot, normal, explicit"),
    (NetSpec(2, 2, hidden=(0,)), "positive"),
    (NetSpec(2, 2, init="explicit"), "needs w and b"),
], ids=["activation", "init", "width", "explicit"])
def test_invalid_networks_are_refused_with_the_valid_choices(bad, message):
    with pytest.raises(ConfigError, match=message):
        validate(bad)
